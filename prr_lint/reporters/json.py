"""Machine output: a versioned structure (schemas/report.schema.json), stable ordering."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import __version__, jsonout, scorecard
from ..escape import json_text
from ..model import Finding
from . import counts
from .dependencies import graph_json

if TYPE_CHECKING:
    from ..engine import Result

REPORT_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule_id, "name": f.rule_name, "severity": f.severity, "message": f.message,
        "file": f.file, "line": f.span.line, "column": f.span.col,
        "end_line": f.span.end_line, "end_column": f.span.end_col,
        "service": f.service, "tier": f.tier, "address": f.address, "fingerprint": f.fingerprint,
        "suppressed": None,
    }
    if f.suppression is not None:
        s = f.suppression
        out["suppressed"] = {"kind": s.kind, "justification": s.justification, "owner": s.owner,
                             "expires": s.expires, "source": s.source}
    return out


def service_dicts(result: Result) -> list[dict[str, Any]]:
    # findings grouped by service in one pass: counting per service over all findings is services x findings
    by_service: dict[str | None, list[Finding]] = {}
    for f in result.findings:
        by_service.setdefault(f.service, []).append(f)
    out = []
    for s in sorted(result.services, key=lambda s: s.name):
        mine = counts(by_service.get(s.name, ()))
        out.append({"name": s.name, "tier": s.tier, "file": s.file, "owner": s.owner,
                    "errors": mine["error"], "warnings": mine["warning"], "info": mine["info"],
                    "suppressed": mine["suppressed"]})
    return out


def render(result: Result, **_: Any) -> str:
    # a file name that is not UTF-8 arrives with lone surrogates: JSON readers reject them, so U+FFFD;
    # `##vso[` must not appear raw in a line that a CI log may show
    return json_text(jsonout.dumps(_report(result))) + "\n"


def write(result: Result, out: Callable[[str], object], **_: Any) -> None:
    """`out(render(result))` in parts (jsonout.write): a large run's report is never one string. A part ends
    between two tokens, and `#` only occurs inside strings, so json_text gives each part what it gives the whole."""
    jsonout.write(_report(result), lambda part: out(json_text(part)))
    out("\n")


def _report(result: Result) -> dict[str, Any]:
    c = counts(result.findings)
    report = {
        "version": REPORT_VERSION,
        "tool": {"name": "prr-lint", "version": __version__},
        "summary": {"errors": c["error"], "warnings": c["warning"], "info": c["info"],
                    "suppressed": c["suppressed"], "files": result.files_read, "documents": result.documents},
        "findings": [finding_dict(f) for f in result.findings],
        "services": service_dicts(result),
        "notices": [{"file": file, "message": message} for file, message in result.notices],
        "graph": graph_json(result),
        "scorecard": scorecard.build(result).as_json(),
    }
    if result.shard is not None:   # `prr-lint merge` checks that every part of the repository is there once
        report["shard"] = {"index": result.shard.index, "count": result.shard.count}
    return report
