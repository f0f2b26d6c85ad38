"""Baseline end to end: `prr-lint baseline` then `check --baseline` on git repositories built in tmp_path."""

import json

import pytest

from ci_sample import (
    DEPLOY,
    RULES,
    SCRATCH_LINE,
    SERVICE,
    SIDECAR_LINE,
    TERRAFORM,
    WORKER,
    commit,
    failing_rule_config,
    found,
    make_repo,
    report,
    sarif_errors,
    write,
)

DEPLOY_FILE = "services/checkout/k8s/deploy.yaml"
TF_FILE = "services/checkout/infra/main.tf"


def _baseline(cli, repo, *args):
    out = repo / ".prr-baseline.json"
    proc = cli("baseline", "--no-cache", "--select", RULES, "--today", "2026-11-01", "-o", str(out), *args, str(repo))
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_baseline_records_findings_without_line_numbers(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    out, proc = _baseline(cli, repo)
    assert proc.stderr.strip() == f"prr-lint: recorded 2 findings in {out}"
    data = json.loads(out.read_text())
    assert data["version"] == 1
    assert [(e["rule"], e["file"], e["address"]) for e in data["findings"]] == [
        ("TF002", TF_FILE, "terraform#0:resource.aws_db_instance.scratch.deletion_protection"),
        ("K8S002", DEPLOY_FILE, "Deployment/checkout:spec.template.spec.containers[sidecar].resources.limits.memory"),
    ]
    assert all(len(e["fingerprint"]) == 32 and "line" not in e for e in data["findings"])


@pytest.mark.slow
def test_only_new_findings_are_reported(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    out, _ = _baseline(cli, repo)
    code, rep, _ = report(cli, repo, "--baseline", str(out))
    assert code == 0
    assert found(rep) == []
    assert found(rep, suppressed=True) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE), ("TF002", TF_FILE, SCRATCH_LINE)]
    assert {f["suppressed"]["kind"] for f in rep["findings"]} == {"baseline"}

    # moving code around: documents reordered, lines inserted above, resources reordered
    moved_deploy = WORKER.replace("worker", "batch") + "---\n# the main deployment\n\n" + DEPLOY.replace(
        "        - name: app", "        # app container first\n        - name: app")
    blocks = TERRAFORM.split("\n\n")
    write(str(repo), {DEPLOY_FILE: moved_deploy, TF_FILE: "# databases\n\n" + blocks[1] + "\n" + blocks[0] + "\n"})
    commit(repo, "move code around")
    code, rep, _ = report(cli, repo, "--baseline", str(out))
    batch = ("K8S002", DEPLOY_FILE, 10)   # the new batch Deployment has no resources at all: a new violation
    assert found(rep) == [batch]
    assert len(found(rep, suppressed=True)) == 2
    assert all(line != SIDECAR_LINE for _, _, line in found(rep, suppressed=True)), "lines moved"

    # the same rule violated in another file is never absorbed
    write(str(repo), {"services/checkout/k8s/worker.yaml": WORKER})
    code, rep, _ = report(cli, repo, "--baseline", str(out))
    assert code == 1
    assert found(rep) == [batch, ("K8S002", "services/checkout/k8s/worker.yaml", 10)]

    # fixing a baselined finding and re-recording shrinks the baseline
    write(str(repo), {TF_FILE: TERRAFORM.replace("= false", "= true")})
    _baseline(cli, repo)
    assert [e["rule"] for e in json.loads(out.read_text())["findings"]] == ["K8S002", "K8S002", "K8S002"]


@pytest.mark.slow
def test_baselined_sarif_validates_and_keeps_suppressions(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    out, _ = _baseline(cli, repo)
    proc = cli("check", "--format", "sarif", "--no-cache", "--select", RULES, "--baseline", str(out), str(repo))
    assert proc.returncode == 0, proc.stderr
    log = json.loads(proc.stdout)
    assert sarif_errors(log) == []
    assert [r["suppressions"][0]["kind"] for r in log["runs"][0]["results"]] == ["external", "external"]
    assert all("baseline" in r["suppressions"][0]["justification"] for r in log["runs"][0]["results"])


@pytest.mark.slow
def test_baseline_from_config(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    _baseline(cli, repo)
    write(str(repo), {".prr-lint.yaml": "baseline: .prr-baseline.json\n"})
    code, rep, _ = report(cli, repo)
    assert code == 0 and len(found(rep, suppressed=True)) == 2


@pytest.mark.slow
def test_bad_baseline_files_exit_2_with_one_line(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc = cli("check", "--baseline", str(tmp_path / "missing.json"), str(repo))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"prr-lint: error: {tmp_path / 'missing.json'}: baseline file not found "
                                   f"(create it with `prr-lint baseline -o {tmp_path / 'missing.json'}`)")
    for content in ("{not json", '{"version": 7, "findings": []}', '{"version": 1, "findings": [{"rule": 3}]}'):
        write(str(tmp_path), {"bad.json": content})
        proc = cli("check", "--baseline", str(tmp_path / "bad.json"), str(repo))
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and "not a prr-lint baseline" in proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_baseline_to_stdout_and_not_written_on_engine_errors(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"services/checkout/service.yaml": SERVICE, DEPLOY_FILE: DEPLOY})
    proc = cli("baseline", "--no-cache", "--select", RULES, "-o", "-", str(repo))
    assert proc.returncode == 0
    assert [e["rule"] for e in json.loads(proc.stdout)["findings"]] == ["K8S002"]
    write(str(repo), {".prr-lint.yaml": failing_rule_config(tmp_path)})
    out = tmp_path / "baseline.json"
    proc = cli("baseline", "--no-cache", "-o", str(out), str(repo))
    assert proc.returncode == 2
    assert "ACME900" in proc.stderr and "refused the connection" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "prr-lint: error: baseline not written"
    assert not out.exists()
