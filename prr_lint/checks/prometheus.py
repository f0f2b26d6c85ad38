"""Prometheus alerting rules from rule files and PrometheusRule objects."""

from __future__ import annotations

from typing import Iterator

from ..model import Document


def groups_path(doc: Document) -> tuple:
    return doc.meta.get("groups_path", ("groups",))


def rules(doc: Document) -> Iterator[tuple[tuple, dict]]:
    """(path, rule) for every rule (alerting and recording) of every group."""
    base = groups_path(doc)
    groups = doc.get(base)
    if not isinstance(groups, list):
        return
    for gi, group in enumerate(groups):
        items = group.get("rules") if isinstance(group, dict) else None
        if isinstance(items, list):
            for ri, item in enumerate(items):
                if isinstance(item, dict):
                    yield base + (gi, "rules", ri), item


def alerts(doc: Document) -> Iterator[tuple[tuple, dict]]:
    for path, item in rules(doc):
        if isinstance(item.get("alert"), str):
            yield path, item
