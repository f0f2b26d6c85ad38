"""GitLab Code Quality report (artifacts:reports:codequality): a JSON array of issues.

Suppressed findings are left out (GitLab has no notion of a suppressed issue). Severity: an error on a
tier-0 service is `blocker`, other errors `critical`, warnings `major` (`minor` on tier 3), info `info`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import jsonout
from ..escape import json_text
from ..model import Finding

if TYPE_CHECKING:
    from ..engine import Result


def severity(f: Finding) -> str:
    if f.severity == "error":
        return "blocker" if f.tier == 0 else "critical"
    if f.severity == "warning":
        return "minor" if f.tier == 3 else "major"
    return "info"


def render(result: Result, **_: Any) -> str:
    rules = {r.id: r for r in result.rules}
    issues = []
    for f in result.findings:
        if f.suppressed:
            continue
        rule = rules.get(f.rule_id)
        issue: dict[str, Any] = {
            "type": "issue",
            "description": f"{f.rule_id} {f.message}" + (f" [{f.service}]" if f.service else ""),
            "check_name": f"{f.rule_id} {f.rule_name}",
            "fingerprint": f.fingerprint,
            "severity": severity(f),
            "location": {"path": f.file, "lines": {"begin": f.span.line, "end": max(f.span.end_line, f.span.line)}},
        }
        if rule is not None:
            issue["categories"] = ["Bug Risk"]
            issue["content"] = {"body": f"{rule.summary}\n\nWhy it matters: {rule.why}\n\nHow to fix: {rule.fix}"}
        issues.append(issue)
    # a file name that is not UTF-8 arrives with lone surrogates: JSON readers reject them, so U+FFFD;
    # `##vso[` must not appear raw in a line that a CI log may show
    return json_text(jsonout.dumps(issues)) + "\n"
