"""Waivers end to end: the real CLI on git repositories built in tmp_path."""

import json

import pytest

from ci_sample import RULES, SCRATCH_LINE, SIDECAR_LINE, found, make_repo, report, sarif_errors, write

DEPLOY_FILE = "services/checkout/k8s/deploy.yaml"
TF_FILE = "services/checkout/infra/main.tf"

WAIVERS = """\
version: 1
waivers:
  - rule: K8S002
    target: {service: checkout, path: "services/checkout/k8s/*.yaml"}
    reason: memory limit comes from the namespace LimitRange
    owner: team-payments
    approver: sre-leads
    expires: 2026-12-31
  - rule: deletion-protection
    target: {address: "resource.aws_db_instance.scratch*"}
    reason: scratch database, recreated nightly
    owner: team-data
    expires: {expires}
  - rule: K8S002
    target: {service: inventory}
    reason: no such finding
    owner: team-stock
    expires: 2027-06-30
"""


@pytest.mark.slow
def test_waived_findings_stay_in_the_report_as_suppressed(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    write(str(repo), {".prr-waivers.yaml": WAIVERS.replace("{expires}", "2027-01-31")})
    code, rep, _ = report(cli, repo)
    assert code == 0
    assert found(rep) == []
    assert found(rep, suppressed=True) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE), ("TF002", TF_FILE, SCRATCH_LINE)]
    k8s = next(f for f in rep["findings"] if f["rule"] == "K8S002")
    assert k8s["suppressed"] == {"kind": "waiver", "justification": "memory limit comes from the namespace LimitRange",
                                 "owner": "team-payments, approved by sre-leads", "expires": "2026-12-31",
                                 "source": ".prr-waivers.yaml:3"}
    assert rep["summary"]["suppressed"] == 2
    # the third waiver matches nothing: an unused-waiver notice, which never changes the exit code
    assert {"file": ".prr-waivers.yaml", "message": "line 14: unused waiver: K8S002 matched no finding"} \
        in rep["notices"]

    proc = cli("check", "--format", "sarif", "--no-cache", "--select", RULES, "--today", "2026-11-01", str(repo))
    assert proc.returncode == 0, proc.stderr
    log = json.loads(proc.stdout)
    assert sarif_errors(log) == []
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["K8S002"]["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "memory limit comes from the namespace LimitRange (owner: team-payments, approved by "
                         "sre-leads) (expires 2026-12-31)"}]

    text = cli("check", "--no-cache", "--select", RULES, "--today", "2026-11-01", "-v", str(repo)).stdout
    assert ".prr-waivers.yaml: note: line 14: unused waiver: K8S002 matched no finding" in text
    assert "2 suppressed" in text


def test_unused_waivers_are_not_reported_by_a_narrowed_run(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    write(str(repo), {".prr-waivers.yaml": WAIVERS.replace("{expires}", "2027-01-31")})
    _, rep, _ = report(cli, repo / "services" / "checkout" / "k8s")
    assert found(rep, suppressed=True) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE)]
    assert not [n for n in rep["notices"] if "unused" in n["message"]]


@pytest.mark.slow
def test_expired_waiver_is_prr002_and_its_finding_is_active_again(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    write(str(repo), {".prr-waivers.yaml": WAIVERS.replace("{expires}", "2026-10-31")})
    code, rep, _ = report(cli, repo)
    assert code == 1
    assert found(rep) == [("PRR002", ".prr-waivers.yaml", 13), ("TF002", TF_FILE, SCRATCH_LINE)]
    prr002 = next(f for f in rep["findings"] if f["rule"] == "PRR002")
    assert prr002["message"] == ("waiver for deletion-protection expired on 2026-10-31 (owner: team-data); "
                                 "the finding it covered is reported again")
    assert prr002["severity"] == "warning"
    # the last day of a waiver still counts
    _, rep, _ = report(cli, repo, "--today", "2026-10-31")
    assert found(rep) == []


def test_invalid_waiver_entry_is_prr001_and_waives_nothing(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    write(str(repo), {".prr-waivers.yaml": "waivers:\n  - rule: K8S002\n    target: {service: checkout}\n"
                                           "    owner: team-payments\n    expires: 2027-01-31\n"})
    code, rep, _ = report(cli, repo)
    assert code == 1
    assert ("PRR001", ".prr-waivers.yaml", 2) in found(rep)
    assert ("K8S002", DEPLOY_FILE, SIDECAR_LINE) in found(rep)


INLINE_ABOVE = "          # prr-lint: disable=K8S002 reason=\"limit from the LimitRange\" expires=2027-01-31\n"


def _inline_repo(tmp_path, expires="2027-01-31"):
    from ci_sample import DEPLOY, TERRAFORM

    lines = DEPLOY.splitlines(keepends=True)
    lines.insert(SIDECAR_LINE - 1, INLINE_ABOVE.replace("2027-01-31", expires))
    tf = TERRAFORM.replace("deletion_protection     = false",
                           "deletion_protection     = false  # prr-lint: disable=TF002 reason='scratch only'")
    return make_repo(tmp_path / "repo", {"services/checkout/service.yaml": __import__("ci_sample").SERVICE,
                                         DEPLOY_FILE: "".join(lines), TF_FILE: tf})


@pytest.mark.slow
def test_inline_waivers_in_yaml_and_hcl(cli, tmp_path):
    repo = _inline_repo(tmp_path)
    code, rep, _ = report(cli, repo)
    assert code == 0
    assert found(rep, suppressed=True) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE + 1), ("TF002", TF_FILE, SCRATCH_LINE)]
    by_rule = {f["rule"]: f["suppressed"] for f in rep["findings"]}
    assert by_rule["K8S002"] == {"kind": "inline", "justification": "limit from the LimitRange", "owner": "",
                                 "expires": "2027-01-31", "source": f"{DEPLOY_FILE}:{SIDECAR_LINE}"}
    assert by_rule["TF002"]["justification"] == "scratch only"
    log = json.loads(cli("check", "--format", "sarif", "--no-cache", "--select", RULES, "--today", "2026-11-01",
                         str(repo)).stdout)
    assert sarif_errors(log) == []
    assert {r["suppressions"][0]["kind"] for r in log["runs"][0]["results"]} == {"inSource"}


@pytest.mark.slow
def test_no_inline_waivers_flag_and_config_key(cli, tmp_path):
    repo = _inline_repo(tmp_path)
    want = [("K8S002", DEPLOY_FILE, SIDECAR_LINE + 1), ("TF002", TF_FILE, SCRATCH_LINE)]
    code, rep, _ = report(cli, repo, "--no-inline-waivers")
    assert (code, found(rep), found(rep, suppressed=True)) == (1, want, [])
    write(str(repo), {".prr-lint.yaml": "inline_waivers: false\n"})
    code, rep, _ = report(cli, repo)
    assert (code, found(rep), found(rep, suppressed=True)) == (1, want, [])


def test_inline_waiver_only_covers_its_own_line_and_the_next(cli, tmp_path):
    from ci_sample import DEPLOY, SERVICE

    lines = DEPLOY.splitlines(keepends=True)
    lines.insert(SIDECAR_LINE - 2, INLINE_ABOVE)   # two lines above the finding: covers nothing
    repo = make_repo(tmp_path / "repo", {"services/checkout/service.yaml": SERVICE, DEPLOY_FILE: "".join(lines)})
    code, rep, _ = report(cli, repo)
    assert found(rep) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE + 1)]
    unused = f"line {SIDECAR_LINE - 1}: unused inline waiver: K8S002 matched no finding"
    assert {"file": DEPLOY_FILE, "message": unused} in rep["notices"]


def test_expired_inline_waiver_is_prr002_at_the_comment(cli, tmp_path):
    repo = _inline_repo(tmp_path, expires="2026-10-01")
    code, rep, _ = report(cli, repo)
    assert code == 1
    assert found(rep) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE + 1), ("PRR002", DEPLOY_FILE, SIDECAR_LINE)]


def test_waiver_file_from_the_command_line_and_config(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    text = WAIVERS.replace("{expires}", "2027-01-31")
    write(str(tmp_path), {"platform/accepted-risks.yaml": text})
    code, rep, _ = report(cli, repo, "--waivers", str(tmp_path / "platform" / "accepted-risks.yaml"))
    assert code == 0 and len(found(rep, suppressed=True)) == 2
    write(str(repo), {"policy/waivers.yaml": text, ".prr-lint.yaml": "waivers: policy/waivers.yaml\n"})
    code, rep, _ = report(cli, repo)
    assert code == 0 and len(found(rep, suppressed=True)) == 2
    assert {f["suppressed"]["source"] for f in rep["findings"]} == {"policy/waivers.yaml:3", "policy/waivers.yaml:9"}


def test_missing_waiver_file_is_a_usage_error(cli, tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc = cli("check", "--waivers", str(tmp_path / "nope.yaml"), str(repo))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"prr-lint: error: {tmp_path / 'nope.yaml'}: waiver file not found"]


def test_a_team_waiver_file_only_covers_its_own_directory(cli, tmp_path):
    from ci_sample import DEPLOY

    repo = make_repo(tmp_path / "repo")
    team = ("waivers:\n  - rule: K8S002\n    target: {path: '**'}\n    reason: try to waive every K8S002\n"
            "    owner: team-payments\n    expires: 2027-01-31\n")
    write(str(repo), {"services/checkout/.prr-waivers.yaml": team,
                      "services/search/k8s/deploy.yaml": DEPLOY.replace("checkout", "search")})
    code, rep, _ = report(cli, repo)
    assert code == 1
    assert [f for f in found(rep) if f[0] == "K8S002"] == [("K8S002", "services/search/k8s/deploy.yaml", SIDECAR_LINE)]
    assert found(rep, suppressed=True) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE)]
