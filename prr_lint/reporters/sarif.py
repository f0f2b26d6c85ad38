"""SARIF 2.1.0 for GitHub code scanning: one run, every rule described, our own stable fingerprints."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import __version__, jsonout
from ..escape import json_text
from ..model import SEVERITY_RANK, Finding
from ..rule import Rule

if TYPE_CHECKING:
    from ..engine import Result

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/prr-lint/prr-lint"
FINGERPRINT_KEY = "prrLint/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def help_uri(rule: Rule) -> str:
    return rule.help_uri or f"{INFO_URI}/blob/main/docs/rules/{rule.id}.md"


def _rule_level(rule: Rule) -> str:
    levels = [lvl for lvl in rule.severity.values() if lvl]
    return _LEVEL[max(levels, key=lambda lvl: SEVERITY_RANK[lvl])] if levels else "none"


def pascal(name: str) -> str:
    """SARIF's friendly rule name is a Pascal-case identifier: memory-limit -> MemoryLimit."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-"))


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    text = f"{rule.summary}\n\nWhy it matters: {rule.why}\n\nHow to fix: {rule.fix}"
    markdown = (f"**{rule.summary}**\n\n**Why it matters.** {rule.why}\n\n**How to fix.** {rule.fix}\n\n"
                f"[Rule reference]({help_uri(rule)})")
    return {
        "id": rule.id,
        "name": pascal(rule.name),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "help": {"text": text, "markdown": markdown},
        "helpUri": help_uri(rule),
        "defaultConfiguration": {"level": _rule_level(rule)},
        "properties": {"tags": sorted(set(rule.tags) | {"production-readiness"}), "precision": "high"},
    }


def _result(f: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    region = {"startLine": f.span.line, "startColumn": f.span.col}
    if f.span.end_line >= f.span.line:
        region["endLine"] = f.span.end_line
        if f.span.end_col > (f.span.col if f.span.end_line == f.span.line else 0):
            region["endColumn"] = f.span.end_col
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index[f.rule_id],
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
            "region": region,
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    }
    props = {k: v for k, v in (("service", f.service), ("tier", f.tier), ("address", f.address)) if v is not None}
    if props:
        out["properties"] = props
    if f.suppression is not None:
        s = f.suppression
        kind = "inSource" if s.kind == "inline" else "external"
        sup = {"kind": kind, "status": "accepted"}
        justification = s.justification or f"{s.kind}"
        if s.owner:
            justification += f" (owner: {s.owner})"
        if s.expires:
            justification += f" (expires {s.expires})"
        sup["justification"] = justification
        out["suppressions"] = [sup]
    return out


def render(result: Result, category: str | None = None, **_: Any) -> str:
    # a file name that is not UTF-8 arrives with lone surrogates: JSON readers reject them, so U+FFFD;
    # `##vso[` must not appear raw in a line that a CI log may show
    return json_text(jsonout.dumps(_log(result, category))) + "\n"


def write(result: Result, out: Callable[[str], object], category: str | None = None, **_: Any) -> None:
    """`out(render(result, category))` in parts, as the JSON reporter writes (reporters/json.py)."""
    jsonout.write(_log(result, category), lambda part: out(json_text(part)))
    out("\n")


def _log(result: Result, category: str | None) -> dict[str, Any]:
    rules = sorted(result.rules, key=lambda r: r.id)
    rule_index = {r.id: i for i, r in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "prr-lint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFO_URI,
            "rules": [rule_descriptor(r) for r in rules],
        }},
        "results": [_result(f, rule_index) for f in result.findings if f.rule_id in rule_index],
        "columnKind": "unicodeCodePoints",
    }
    if category:
        run["automationDetails"] = {"id": category.rstrip("/") + "/"}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
