"""SARIF from a waived and baselined run passes both validations: the JSON schema and the SARIF Multitool."""

import json

import pytest

from ci_sample import DEPLOY, FILES, RULES, make_repo, sarif_errors, write
from test_sarif_multitool import validate


@pytest.mark.slow
def test_waived_and_baselined_sarif_passes_both_validations(cli, tmp_path):
    deploy = DEPLOY.replace("          resources:\n            requests: {cpu: 50m",
                            "          # prr-lint: disable=K8S002 reason=\"LimitRange\" expires=2027-01-31\n"
                            "          resources:\n            requests: {cpu: 50m")
    repo = make_repo(tmp_path / "repo", {**FILES, "services/checkout/k8s/deploy.yaml": deploy,
                                         "services/checkout/k8s/worker.yaml": DEPLOY.replace("checkout", "worker")})
    baseline = tmp_path / "baseline.json"
    assert cli("baseline", "--no-cache", "--select", RULES, "-o", str(baseline), str(repo)).returncode == 0
    write(str(repo), {".prr-waivers.yaml": "waivers:\n  - rule: TF002\n    target: {service: checkout}\n"
                                           "    reason: scratch database\n    owner: team-data\n"
                                           "    expires: 2027-01-31\n"})
    out = tmp_path / "prr.sarif"
    proc = cli("check", "--no-cache", "--select", RULES, "--today", "2026-11-01", "--baseline", str(baseline),
               "--format", "sarif", "-o", str(out), str(repo))
    assert proc.returncode == 0, proc.stderr
    log = json.loads(out.read_text())
    kinds = sorted(r["suppressions"][0]["kind"] for r in log["runs"][0]["results"])
    assert kinds == ["external", "external", "inSource"], "waiver file, baseline, inline"
    assert sarif_errors(log) == []
    results = validate(str(out), tmp_path)
    blocking = [r for r in results if r.get("level") in ("error", "warning")]
    assert blocking == [], json.dumps(blocking, indent=1)[:3000]
