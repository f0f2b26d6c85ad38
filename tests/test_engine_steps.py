"""The engine's contracts: typed Result fields for the steps, a StepContext for what a step asks of the engine,
public fingerprints, one severity order, and the environment read only by the command line."""

import ast
import dataclasses
import datetime
import glob
import os

from prr_lint import cli, features
from prr_lint.config import SEVERITY_LEVELS, Config
from prr_lint.engine import Options, Result, assign_fingerprints, fingerprint, run
from prr_lint.loaders import load_text
from prr_lint.model import SEVERITIES, SEVERITY_RANK

from conftest import ROOT, write
from test_config import DEPLOY

DAY = datetime.date(2026, 11, 1)


def test_a_step_sees_typed_fields_and_adds_findings_through_its_context(tmp_path):
    write(tmp_path, {"k8s/deploy.yaml": DEPLOY})
    seen = {}
    other = load_text("elsewhere/deploy.yaml", DEPLOY.replace("web", "api"), "yaml", set())[0]

    def step(result, ctx):
        seen.update(today=result.today, ran=sorted(r.id for r in result.ran), docs=[d.file for d in result.docs],
                    graph=result.graph is not None, repo=result.repo is not None)
        ctx.check(result, other)   # a document the step brings is checked by the selected rules
        ctx.emit(result, result.rule("PRR002"), "k8s/deploy.yaml", 3, 1, "made by a step", "step:1")
        return result

    res = run(Options(paths=[str(tmp_path)], config=Config(), root=str(tmp_path), use_cache=False, today=DAY,
                      select=["K8S002", "PRR002"], steps=[step]))
    assert not hasattr(res, "extra")
    assert seen == {"today": DAY, "ran": ["K8S002", "PRR002"], "docs": ["k8s/deploy.yaml"], "graph": True,
                    "repo": True}
    made = [f for f in res.findings if f.message == "made by a step"]
    assert len(made) == 1 and made[0].fingerprint == fingerprint("PRR002", "k8s/deploy.yaml", "step:1", 0)
    assert sorted(f.file for f in res.findings if f.rule_id == "K8S002") == ["elsewhere/deploy.yaml",
                                                                             "k8s/deploy.yaml"]
    assert all(f.fingerprint for f in res.findings)


def test_assign_fingerprints_numbers_findings_that_share_rule_file_and_address(tmp_path):
    write(tmp_path, {"k8s/deploy.yaml": DEPLOY})
    res = run(Options(paths=[str(tmp_path)], config=Config(), root=str(tmp_path), use_cache=False, today=DAY,
                      select=["K8S002"]))
    f = res.findings[0]
    twin = dataclasses.replace(f, fingerprint="")
    findings = [f, twin]
    assign_fingerprints(findings)
    assert {f.fingerprint, twin.fingerprint} == {fingerprint(f.rule_id, f.file, f.address, n) for n in (0, 1)}


def test_a_result_built_by_hand_runs_every_rule_it_lists():
    result = Result("/repo", [], [], [], [])
    assert result.ran == [] and result.selected is None and result.diff is None and result.waivers == []


def test_prr_lint_today_is_read_by_the_command_line_not_the_engine(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"k8s/deploy.yaml": DEPLOY})
    monkeypatch.setenv("PRR_LINT_TODAY", "not-a-day")
    res = run(Options(paths=[str(tmp_path)], config=Config(), root=str(tmp_path), use_cache=False,
                      select=["K8S002"]))
    assert res.today == datetime.date.today()
    assert cli.main(["check", "--no-cache", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "prr-lint: error: PRR_LINT_TODAY: not a date (YYYY-MM-DD): not-a-day\n"
    # --today wins over the environment, as before
    assert cli.main(["check", "--no-cache", "--today", "2026-11-01", "--select", "K8S002", str(tmp_path)]) == 1
    monkeypatch.setenv("PRR_LINT_TODAY", "2026-11-02")
    args = cli.build_parser().parse_args(["check", str(tmp_path)])
    assert cli.make_options(args).today == datetime.date(2026, 11, 2)


def test_only_the_command_line_and_the_policy_feature_read_the_environment():
    allowed = {"cli.py", "config.py", os.path.join("policy", "feature.py"),
               os.path.join("budget", "__init__.py"),    # the gate's Prometheus and its credentials
               os.path.join("policy", "worker.py"),   # clears it: policies see none of the host's
               "prestart.py", "fixtures.py"}          # pass it on to git, minus what would change its answers
    readers = set()
    for path in glob.glob(os.path.join(ROOT, "prr_lint", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if "os.environ" in text or "getenv" in text:
            readers.add(os.path.relpath(path, os.path.join(ROOT, "prr_lint")))
    assert readers <= allowed, readers - allowed


def test_rules_import_only_what_a_rule_may_see():
    """A rule reaches the engine, the schemas and git history through its RuleContext, never by import."""
    allowed = ("prr_lint.model", "prr_lint.rule", "prr_lint.checks", "prr_lint.escape", "prr_lint.loaders")
    bad = []
    for path in glob.glob(os.path.join(ROOT, "rules", "**", "rule.py"), recursive=True):
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module == "prr_lint":
                names = [f"prr_lint.{a.name}" for a in node.names]
            bad += [(path, n) for n in names if n.startswith("prr_lint") and not n.startswith(allowed)]
    assert bad == []


def test_one_severity_order():
    assert SEVERITIES == ("error", "warning", "info")
    assert sorted(SEVERITIES, key=SEVERITY_RANK.get, reverse=True) == list(SEVERITIES)
    assert cli.FAIL_ON == SEVERITIES + ("never",) and SEVERITY_LEVELS == SEVERITIES + ("off",)


def test_plan_is_its_own_feature_before_the_gate():
    names = features.FEATURE_MODULES
    assert names.index(".diff") < names.index(".plans") < names.index(".gate")
    args = cli.build_parser().parse_args(["check", "--plan", "a.json", "."])
    assert args.plan == ["a.json"]
