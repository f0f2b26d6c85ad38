"""Golden outputs of the JUnit XML and GitLab Code Quality reporters on a small fixed Result.

Set PRR_UPDATE_SNAPSHOTS=1 to rewrite the golden files after an intended change, then review the diff.
"""

import json
import xml.etree.ElementTree as ET

import pytest

from prr_lint.engine import Result, ServiceSummary
from prr_lint.model import Finding, Span, Suppression
from prr_lint.reporters import render
from prr_lint.rule import Rule

from conftest import golden


def _rule(rule_id, name, summary, severity):
    return Rule.from_meta({"id": rule_id, "name": name, "summary": summary, "why": f"Why {name} matters.",
                           "fix": f"How to fix {name}.", "targets": ["k8s"], "tags": ["resources"],
                           "severity": severity, "since": "0.1.0"})


def _finding(rule, message, file, line, col, tier, service, fp, suppression=None, end=None):
    return Finding(rule.id, rule.name, rule.level(tier), message, file, Span(line, col, *(end or (line, col + 4))),
                   service=service, tier=tier, address=f"Deployment/{service or 'x'}:spec", fingerprint=fp,
                   suppression=suppression)


@pytest.fixture(scope="module")
def result():
    k8s002 = _rule("K8S002", "memory-limit", "A container has no memory limit.", "error")
    k8s005 = _rule("K8S005", "min-replicas", "Too few replicas for the tier.",
                   {0: "error", 1: "warning", 2: "warning", 3: "warning"})
    prom001 = _rule("PROM001", "alert-runbook-url", "An alert has no runbook_url.",
                    {0: "error", 1: "error", 2: "info", 3: "info"})
    svc001 = _rule("SVC001", "owner", "The service does not name an owning team.", "error")
    findings = [
        _finding(k8s002, 'container "app" has no memory limit; set resources.limits.memory',
                 "services/checkout/k8s/deploy.yaml", 14, 11, 0, "checkout", "a" * 32, end=(16, 40)),
        _finding(k8s002, 'container "side" has no memory limit & <no> "limits"', "services/checkout/k8s/deploy.yaml",
                 21, 11, 0, "checkout", "b" * 32,
                 Suppression("waiver", "limit set by the namespace LimitRange", "team-payments", "2027-01-31",
                             ".prr-waivers.yaml:3")),
        _finding(k8s005, "spec.replicas is 1, below the tier 1 minimum of 2", "services/search/k8s/deploy.yaml",
                 6, 3, 1, "search", "c" * 32),
        _finding(k8s005, "spec.replicas is 0", "batch/cron.yaml", 5, 3, 3, None, "d" * 32),
        _finding(prom001, "alert HighLatency has no runbook_url", "services/search/alerts.yaml", 9, 11, 2, "search",
                 "e" * 32,
                 Suppression("baseline", "recorded in baseline .prr-baseline.json", source=".prr-baseline.json")),
        _finding(prom001, "alert Errors has no runbook_url", "services/search/alerts.yaml", 15, 11, 1, "search",
                 "f" * 32),
    ]
    findings.sort(key=Finding.sort_key)
    return Result("/repo", findings, [k8s002, k8s005, prom001, svc001], [],
                  [ServiceSummary("checkout", 0, "services/checkout/service.yaml", "team-payments")], files_read=7,
                  documents=9)



def test_junit_golden(result):
    golden("check.junit.xml", render("junit", result))


def test_gitlab_golden(result):
    golden("check.gitlab.json", render("gitlab", result))


def test_junit_structure(result):
    root = ET.fromstring(render("junit", result))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "4", "2")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["K8S002 memory-limit", "K8S005 min-replicas", "PROM001 alert-runbook-url", "SVC001 owner"]
    # a rule without findings is one passing test, so a clean run is not an empty report
    owner = suites["SVC001 owner"].findall("testcase")
    assert len(owner) == 1 and not list(owner[0])
    cases = suites["K8S002 memory-limit"].findall("testcase")
    failure = cases[0].find("failure")
    assert cases[0].get("name") == "services/checkout/k8s/deploy.yaml:14:11"
    assert cases[0].get("file") == "services/checkout/k8s/deploy.yaml" and cases[0].get("line") == "14"
    assert failure.get("type") == "error"
    assert failure.text.startswith("services/checkout/k8s/deploy.yaml:14:11: error: K8S002 ")
    skipped = cases[1].find("skipped")
    assert skipped.get("message") == "waiver: limit set by the namespace LimitRange (expires 2027-01-31)"
    # special characters survive the round trip
    assert cases[1].get("name") == "services/checkout/k8s/deploy.yaml:21:11"


def test_junit_clean_run_has_passing_tests(result):
    clean = Result("/repo", [], result.rules, [], [])
    root = ET.fromstring(render("junit", clean))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "0", "0")


def test_junit_control_characters_are_escaped(result):
    f = result.findings[0]
    odd = Result("/repo", [Finding(f.rule_id, f.rule_name, "error", "bad byte \x01 here", f.file, f.span,
                                   fingerprint="9" * 32)], result.rules, [], [])
    root = ET.fromstring(render("junit", odd))
    assert "\\x01" in root.find("testsuite/testcase/failure").get("message")


def test_gitlab_code_quality_shape(result):
    issues = json.loads(render("gitlab", result))
    assert len(issues) == 4, "suppressed findings are left out"
    # tier 3 warning, tier 0 error, error, warning
    assert [i["severity"] for i in issues] == ["minor", "blocker", "critical", "major"]
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert issues[1]["location"] == {"path": "services/checkout/k8s/deploy.yaml", "lines": {"begin": 14, "end": 16}}
