"""Terraform resources from .tf files and plan JSON, with literal variable defaults resolved."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Iterator

from ..model import Document


class _Unknown:
    """A value prr-lint cannot know (an expression, an unset variable): never a finding."""

    def __repr__(self):
        return "UNKNOWN"

    def __bool__(self):
        return False


UNKNOWN = _Unknown()
_VAR = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")
_LOCAL = re.compile(r"^\$\{local\.([A-Za-z0-9_-]+)\}$")


@dataclass
class Resource:
    type: str
    name: str
    address: str
    body: dict
    doc: Document
    path: tuple                   # path of the body in the document
    variables: dict               # literal variable defaults and locals of the module

    def get(self, *keys, default=None):
        """The value at keys under the body, with `var.x`/`local.x` resolved; UNKNOWN for expressions."""
        value = self.body
        for key in keys:
            if isinstance(value, list) and isinstance(key, str):
                value = value[0] if value else None  # nested block written once
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return default
        return self.resolve(value)

    def has(self, *keys) -> bool:
        return self.get(*keys, default=_MISSING) is not _MISSING

    def resolve(self, value):
        if isinstance(value, str) and value.startswith("${"):
            m = _VAR.match(value) or _LOCAL.match(value)
            if m:
                key = ("var." if value.startswith("${var") else "local.") + m.group(1)
                return self.variables.get(key, UNKNOWN)
            return UNKNOWN
        return value

    def at(self, *keys) -> tuple:
        """Document path of keys under the body (for locating a finding)."""
        path = self.path
        value = self.body
        for key in keys:
            if isinstance(value, list) and isinstance(key, str):
                path, value = path + (0,), (value[0] if value else {})
            path = path + (key,)
            value = value.get(key) if isinstance(value, dict) else None
        return path

    @property
    def label(self) -> str:
        return self.address


_MISSING = object()


def module_variables(repo, module_dir: str) -> dict:
    """Literal `variable` defaults and `locals` of every .tf file in one directory."""
    cache = repo.memo.setdefault("tf-variables", {}) if repo is not None else {}
    key = module_dir
    if key in cache:
        return cache[key]
    out: dict = {}
    if repo is not None:
        for rel, how in repo.candidates.items():
            if how == "terraform" and posixpath.dirname(rel) == module_dir:
                for doc in repo.load(rel).docs:
                    for name, var in (doc.get(("variable",)) or {}).items():
                        if isinstance(var, dict) and "default" in var and not _is_expr(var["default"]):
                            out[f"var.{name}"] = var["default"]
                    for name, value in (doc.get(("locals",)) or {}).items():
                        if not _is_expr(value):
                            out[f"local.{name}"] = value
    cache[key] = out
    return out


def _is_expr(value) -> bool:
    return isinstance(value, str) and value.startswith("${")


def resources(doc: Document, types, repo=None) -> Iterator[Resource]:
    """Every resource of the given types in a .tf document or a plan (its planned `after` values)."""
    types = set(types)
    if doc.kind == "terraform":
        variables = module_variables(repo, doc.meta.get("module", posixpath.dirname(doc.file)))
        for rtype, by_name in (doc.get(("resource",)) or {}).items():
            if rtype not in types or not isinstance(by_name, dict):
                continue
            for rname, body in by_name.items():
                if isinstance(body, dict):
                    yield Resource(rtype, rname, f"{rtype}.{rname}", body, doc, ("resource", rtype, rname), variables)
    elif doc.kind == "terraform-plan":
        for i, change in enumerate(doc.get(("resource_changes",)) or []):
            if not isinstance(change, dict) or change.get("type") not in types or change.get("mode", "managed") != "managed":
                continue
            actions = (change.get("change") or {}).get("actions") or []
            after = (change.get("change") or {}).get("after")
            if actions == ["delete"] or not isinstance(after, dict):
                continue
            yield Resource(change["type"], str(change.get("name")), str(change.get("address")), _plan_body(after),
                           doc, ("resource_changes", i, "change", "after"), {})


def _plan_body(after: dict) -> dict:
    # plan JSON writes nested blocks as lists already; unknown values are absent (after_unknown)
    return after
