"""JUnit XML for CD systems that show test reports (Jenkins, GitLab, Azure DevOps).

One <testsuite> per rule that ran; each finding is a <testcase> named by its location, an active finding a
<failure> (type = severity) and a suppressed one <skipped> with the waiver's justification. A rule with no
finding is one passing test case, so a clean run shows passed tests rather than an empty report.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from ..escape import multi_line, one_line, printable
from ..rule import Rule

if TYPE_CHECKING:
    from ..engine import Result


def _rules(result: Result) -> list[Rule]:
    rules = result.ran
    have = {r.id for r in rules}
    rules += [r for r in result.rules if r.id not in have and any(f.rule_id == r.id for f in result.findings)]
    return sorted(rules, key=lambda r: r.id)


def _clean(text: str) -> str:
    """Element text: XML 1.0 cannot carry most control characters, U+FFFE/U+FFFF or lone surrogates (a file
    name that is not UTF-8); a message quoting a binary file must still render. Line breaks stay in a body."""
    return printable(text, keep="\t\n\r")


def _attr(text: str) -> str:
    """A name or a location: one line, every control character shown as an escape."""
    return one_line(text)


def render(result: Result, **_: Any) -> str:
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    root = ET.Element("testsuites", name="prr-lint")
    for rule in _rules(result):
        mine = [f for f in result.findings if f.rule_id == rule.id]
        suite = ET.SubElement(root, "testsuite", name=_attr(f"{rule.id} {rule.name}"))
        failures = skipped = 0
        if not mine:
            ET.SubElement(suite, "testcase", classname=_attr(f"prr-lint.{rule.id}"),
                          name=_attr(f"{rule.id}: no findings"), time="0")
        for f in mine:
            where = f"{f.file}:{f.span.line}:{f.span.col}"
            case = ET.SubElement(suite, "testcase", classname=_attr(f"prr-lint.{rule.id}"), name=_attr(where),
                                 file=_attr(f.file), line=str(f.span.line), time="0")
            service = f" [{f.service}]" if f.service else ""
            s = f.suppression
            if s is not None:
                skipped += 1
                ET.SubElement(case, "skipped", message=_clean(f"{s.kind}: {s.justification}"
                                                              + (f" (expires {s.expires})" if s.expires else "")))
            else:
                failures += 1
                failure = ET.SubElement(case, "failure", type=f.severity, message=_clean(f.message))
                # the report may be printed to a CI log: the finding is one line, the rule's text (a user rule
                # pack is repository content) several lines, none of which may start a workflow command
                failure.text = (one_line(f"{where}: {f.severity}: {f.rule_id} {f.message}{service}") + "\n"
                                + multi_line(f"{rule.summary}\nHow to fix: {rule.fix}"))
        tests = max(len(mine), 1)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(skipped))
        suite.set("time", "0")
        totals["tests"] += tests
        totals["failures"] += failures
        totals["skipped"] += skipped
    for k in ("tests", "failures", "skipped"):
        root.set(k, str(totals[k]))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
