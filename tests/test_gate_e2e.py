"""`prr-lint gate` end to end: pass, blocked, every fail-closed case, the JSON report, --plan."""

import json

import pytest

import prr_lint

from ci_sample import DEPLOY, FILES, RULES, SERVICE, TERRAFORM, commit, failing_rule_config, git, make_repo, write

TODAY = "2026-11-01"
DEPLOY_FILE = "services/checkout/k8s/deploy.yaml"
TF_FILE = "services/checkout/infra/main.tf"
CLEAN_DEPLOY = DEPLOY.replace("requests: {cpu: 50m, memory: 64Mi}",
                              "requests: {cpu: 50m, memory: 64Mi}\n            limits: {memory: 128Mi}")
CLEAN_TF = TERRAFORM.replace("= false", "= true")
SEARCH = {"services/search/service.yaml": SERVICE.replace("checkout", "search").replace("team-payments", "team-search"),
          "services/search/k8s/deploy.yaml": CLEAN_DEPLOY.replace("checkout", "search")}
PLAN = """\
{
  "format_version": "1.2",
  "terraform_version": "1.9.5",
  "resource_changes": [
    {
      "address": "aws_db_instance.orders",
      "mode": "managed",
      "type": "aws_db_instance",
      "name": "orders",
      "change": {
        "actions": ["create"],
        "before": null,
        "after": {
          "engine": "postgres",
          "backup_retention_period": 7,
          "deletion_protection": false
        }
      }
    }
  ]
}
"""


def gate(cli, repo, *args, report=None):
    extra = ["--report", str(report)] if report else []
    proc = cli("gate", "--no-cache", "--select", RULES, "--today", TODAY, *extra, *args, str(repo))
    data = json.loads(report.read_text()) if report and report.exists() else None
    return proc, data


def test_blocked(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "prr-lint gate: BLOCKED (2 blocking findings at or above error)"
    assert "  checkout  1     BLOCKED  2       0         0" in lines
    assert any(line.startswith(f"  {DEPLOY_FILE}:17:11  K8S002  ") for line in lines)
    assert len(lines) < 25, "one screen"
    assert rep["decision"] == "blocked" and rep["reasons"] == []
    assert rep["tool"] == {"name": "prr-lint", "version": prr_lint.__version__}
    assert rep["commit"] == git(repo, "rev-parse", "HEAD")
    assert [(b["rule"], b["file"], b["line"]) for b in rep["blocking"]] == [("TF002", TF_FILE, 12),
                                                                             ("K8S002", DEPLOY_FILE, 17)]
    assert rep["services"] == [{"name": "checkout", "tier": 1, "owner": "team-payments",
                                 "manifest": "services/checkout/service.yaml", "decision": "blocked", "errors": 2,
                                 "warnings": 0, "info": 0, "suppressed": 0, "blocking": 2}]
    assert rep["summary"]["blocking"] == 2


@pytest.mark.slow
def test_pass_with_waivers_applied_and_expiring(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, TF_FILE: CLEAN_TF, ".prr-waivers.yaml": (
        "waivers:\n  - rule: K8S002\n    target: {service: checkout}\n    reason: LimitRange sets it\n"
        "    owner: team-payments\n    expires: 2026-11-10\n"
        "  - rule: TF002\n    target: {service: checkout}\n    reason: old risk\n"
        "    owner: team-data\n    expires: 2026-10-01\n")})
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].startswith("prr-lint gate: PASS")
    assert "Waivers: 1 applied, 1 expiring within 14 days, 1 expired" in proc.stdout
    assert ".prr-waivers.yaml:2  K8S002  expires 2026-11-10 (owner: team-payments)" in proc.stdout
    assert rep["decision"] == "pass" and rep["blocking"] == []
    applied = rep["waivers"]["applied"]
    assert [(w["rule"], w["source"], w["reason"], len(w["findings"])) for w in applied] == [
        ("K8S002", ".prr-waivers.yaml:2", "LimitRange sets it", 1)]
    assert [w["source"] for w in rep["waivers"]["expiring_within_14_days"]] == [".prr-waivers.yaml:2"]
    assert [w["source"] for w in rep["waivers"]["expired"]] == [".prr-waivers.yaml:7"]
    # the same waiver, 10 days on, has expired: the gate blocks
    proc, rep = gate(cli, repo, "--today", "2026-11-11", report=tmp_path / "gate.json")
    assert proc.returncode == 1 and rep["decision"] == "blocked"


@pytest.mark.slow
def test_inline_waivers_cannot_bypass_a_gate_that_turns_them_off(cli, tmp_path):
    deploy = DEPLOY.replace("          resources:\n            requests: {cpu: 50m",
                            "          # prr-lint: disable=K8S002 reason=\"trust me\"\n"
                            "          resources:\n            requests: {cpu: 50m")
    repo = make_repo(tmp_path / "repo", {**FILES, TF_FILE: CLEAN_TF, DEPLOY_FILE: deploy})
    assert gate(cli, repo)[0].returncode == 0
    proc, rep = gate(cli, repo, "--no-inline-waivers", report=tmp_path / "gate.json")
    assert proc.returncode == 1 and rep["blocking"][0]["rule"] == "K8S002"


@pytest.mark.slow
def test_service_selection(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, **SEARCH})
    proc, rep = gate(cli, repo, "--service", "search", report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout
    assert [s["name"] for s in rep["services"]] == ["search"]
    proc, rep = gate(cli, repo, "--service", "search,checkout", report=tmp_path / "gate.json")
    assert proc.returncode == 1
    assert [(s["name"], s["decision"]) for s in rep["services"]] == [("checkout", "blocked"), ("search", "pass")]


def _undecided(proc, rep, reason_part):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == "prr-lint gate: COULD NOT DECIDE (fail-closed, exit 2)"
    assert "Traceback" not in proc.stderr
    assert any(reason_part in line for line in proc.stderr.splitlines())
    if rep is not None:
        assert rep["decision"] == "error"
        assert any(reason_part in r for r in rep["reasons"])


@pytest.mark.slow
def test_fail_closed_unparseable_and_unreadable_manifest(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, **SEARCH})
    write(str(repo), {"services/search/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: [\n"})
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    _undecided(proc, rep, "services/search/service.yaml:")
    # even when only the other service is asked about, an unowned unreadable file is a reason not to decide
    write(str(repo), {"services/search/service.yaml": b"\xff\xfeapiVersion: prr-lint/v1\n"})
    proc, rep = gate(cli, repo, "--service", "checkout", report=tmp_path / "gate.json")
    _undecided(proc, rep, "cannot read or parse: not UTF-8")
    # a --select that leaves out parse errors does not hide them from the gate
    proc = cli("gate", "--no-cache", "--select", "K8S002", str(repo))
    assert proc.returncode == 2


def test_fail_closed_invalid_config(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, ".prr-lint.yaml": "fail_on: sometimes\n"})
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    _undecided(proc, rep, ".prr-lint.yaml:1: fail_on:")
    assert rep["commit"] == git(repo, "rev-parse", "HEAD")


def test_fail_closed_zero_documents(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"README.md": "# nothing to check here\n", "app/main.py": "print(1)\n"})
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    _undecided(proc, rep, "no documents found")


def test_fail_closed_policy_engine_unreachable(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, TF_FILE: CLEAN_TF, DEPLOY_FILE: CLEAN_DEPLOY})
    write(str(repo), {".prr-lint.yaml": failing_rule_config(tmp_path)})
    proc, rep = gate(cli, repo, "--select", "ACME900", report=tmp_path / "gate.json")
    _undecided(proc, rep, "refused the connection")


def test_fail_closed_unknown_service(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc, rep = gate(cli, repo, "--service", "payments", report=tmp_path / "gate.json")
    _undecided(proc, rep, "no service named 'payments' (known: checkout)")


@pytest.mark.slow
def test_plan_outside_the_repository(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, TF_FILE: CLEAN_TF, DEPLOY_FILE: CLEAN_DEPLOY})
    assert gate(cli, repo)[0].returncode == 0
    plan = tmp_path / "artifacts" / "tfplan.json"
    write(str(tmp_path), {"artifacts/tfplan.json": PLAN})
    proc, rep = gate(cli, repo, "--plan", str(plan), "--service", "checkout", report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [(b["rule"], b["file"], b["line"], b["service"]) for b in rep["blocking"]] == [
        ("TF002", str(plan), 16, "checkout")]
    assert rep["plans"] == [str(plan)]
    # the plan is an ordinary input of `check` too
    proc = cli("check", "--no-cache", "--select", "TF002", "--format", "json", "--plan", str(plan), str(repo))
    finding = json.loads(proc.stdout)["findings"][0]
    # without --service the plan belongs to no service: checked at default_tier (2), where TF002 is a warning
    assert (proc.returncode, finding["file"], finding["severity"], finding["tier"]) == (0, str(plan), "warning", 2)


@pytest.mark.slow
def test_plan_problems_are_exit_2(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    write(str(tmp_path), {"not-a-plan.json": '{"hello": "world"}\n', "broken.json": '{"format_version": "1.2",\n'})
    proc, rep = gate(cli, repo, "--plan", str(tmp_path / "missing.json"), report=tmp_path / "gate.json")
    _undecided(proc, rep, "plan file not found")
    proc, rep = gate(cli, repo, "--plan", str(tmp_path / "not-a-plan.json"), report=tmp_path / "gate.json")
    _undecided(proc, rep, "not a Terraform plan JSON")
    proc, rep = gate(cli, repo, "--plan", str(tmp_path / "broken.json"), report=tmp_path / "gate.json")
    _undecided(proc, rep, "not a Terraform plan")


@pytest.mark.slow
def test_gate_on_a_change_only(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "feature")
    write(str(repo), {"services/checkout/README.md": "# checkout\n"})
    commit(repo, "docs only")
    proc, rep = gate(cli, repo, "--diff-base", "main", report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout
    assert rep["diff"]["base"] == "main" and rep["diff"]["dropped"] == 2


@pytest.mark.slow
def test_fail_closed_opa_server_unreachable(cli, tmp_path):
    import os
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    policies = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "policy")
    repo = make_repo(tmp_path / "repo", {**FILES, TF_FILE: CLEAN_TF, DEPLOY_FILE: CLEAN_DEPLOY})
    proc, rep = gate(cli, repo, "--policy", policies, "--opa-url", f"http://127.0.0.1:{port}",
                     report=tmp_path / "gate.json")
    _undecided(proc, rep, f"OPA server http://127.0.0.1:{port}")
