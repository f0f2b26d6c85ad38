"""Golden outputs of the text, JSON and SARIF reporters on a small repository with one finding per rule.

Set PRR_UPDATE_SNAPSHOTS=1 to rewrite the golden files after an intended change, then review the diff.
"""

import datetime
import json
import os

import jsonschema
import pytest

from prr_lint.config import Config
from prr_lint.engine import Options, run
from prr_lint.model import Suppression
from prr_lint.reporters import render

from conftest import golden, sarif_errors

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "data", "golden-repo")
FOUNDATION_RULES = ["PRR000", "PRR001", "SVC001", "K8S002", "TF001", "PROM001"]


def waive_slow_alert(result, _run):
    for f in result.findings:
        if f.rule_id == "PROM001" and "PaymentsSlow" in f.message:
            f.suppression = Suppression("waiver", "dashboards cover it until the Q1 alert review", "team-payments",
                                        "2027-01-31", ".prr-waivers.yaml:3")
    return result


@pytest.fixture(scope="module")
def result():
    options = Options(paths=[REPO], config=Config(), root=REPO, select=FOUNDATION_RULES,
                      today=datetime.date(2026, 11, 1), use_cache=False, steps=[waive_slow_alert])
    res = run(options)
    res.rules = [r for r in res.rules if r.id in FOUNDATION_RULES]
    return res



def test_every_foundation_rule_fires_once(result):
    assert sorted(f.rule_id for f in result.findings) == sorted(FOUNDATION_RULES + ["PROM001"])


@pytest.mark.parametrize("fmt,name", [("text", "check.txt"), ("json", "check.json"), ("sarif", "check.sarif")])
def test_golden(result, fmt, name):
    golden(name, render(fmt, result))


def test_text_colour_only_when_asked(result):
    assert "\033[" not in render("text", result)
    assert "\033[31m" in render("text", result, color=True)


def test_sarif_category_sets_automation_details(result):
    log = json.loads(render("sarif", result, category="prr/prod"))
    assert log["runs"][0]["automationDetails"] == {"id": "prr/prod/"}
    assert "automationDetails" not in json.loads(render("sarif", result))["runs"][0]


def test_sarif_validates_against_the_schema(result):
    log = json.loads(render("sarif", result))
    assert sarif_errors(log) == []
    run_ = log["runs"][0]
    results = run_["results"]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%" for r in results)
    assert all("prrLint/v1" in r["partialFingerprints"] for r in results)
    assert all("primaryLocationLineHash" not in r["partialFingerprints"] for r in results)
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["kind"] == "external"
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert all(run_["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    assert sorted(rule_ids) == sorted(FOUNDATION_RULES)


def test_clean_sarif_has_empty_results(tmp_path):
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    res = run(Options(paths=[str(tmp_path)], config=Config(), root=str(tmp_path), use_cache=False))
    log = json.loads(render("sarif", res))
    assert log["runs"][0]["results"] == []
    assert sarif_errors(log) == []


def test_fingerprints_do_not_depend_on_line_numbers(tmp_path):
    import shutil

    shutil.copytree(REPO, tmp_path / "repo")
    path = tmp_path / "repo" / "infra" / "db.tf"
    path.write_text("# moved down by a comment\n\n" + path.read_text())
    options = Options(paths=[str(tmp_path / "repo")], config=Config(), root=str(tmp_path / "repo"),
                      select=FOUNDATION_RULES, use_cache=False)
    moved = {f.rule_id: f for f in run(options).findings if f.rule_id == "TF001"}
    original = {f.rule_id: f for f in run(Options(paths=[REPO], config=Config(), root=REPO, select=FOUNDATION_RULES,
                                                  use_cache=False)).findings if f.rule_id == "TF001"}
    assert moved["TF001"].span.line == original["TF001"].span.line + 2
    assert moved["TF001"].fingerprint == original["TF001"].fingerprint


def test_json_report_validates_against_its_published_schema(result):
    from prr_lint.schemas import load_schema

    report = json.loads(render("json", result))
    validator = jsonschema.Draft202012Validator(load_schema("report.schema.json"))
    assert list(validator.iter_errors(report)) == []
    assert report["findings"] == sorted(report["findings"],
                                        key=lambda f: (f["file"], f["line"], f["column"], f["rule"]))
