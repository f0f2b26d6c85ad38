"""Prometheus alerting rules from rule files and PrometheusRule objects."""

# no `from __future__ import annotations`: this module has a function named `annotations`
from collections.abc import Iterator

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


def labels(item: dict) -> dict:
    value = item.get("labels")
    return value if isinstance(value, dict) else {}


def annotations(item: dict) -> dict:
    value = item.get("annotations")
    return value if isinstance(value, dict) else {}


def text(value) -> str | None:
    """A non-blank string value, stripped; None otherwise."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def templated(value) -> bool:
    """A value built by a template (`{{ ... }}`) at evaluation time: prr-lint cannot know it."""
    return isinstance(value, str) and "{{" in value


def severity(item: dict) -> str | None:
    value = labels(item).get("severity")
    return str(value).strip() if isinstance(value, (str, int)) and str(value).strip() else None


def name(item: dict) -> str:
    value = item.get("alert") if isinstance(item.get("alert"), str) else item.get("record")
    return value if isinstance(value, str) else "(unnamed)"
