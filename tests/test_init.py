"""`prr-lint init` on a realistic repository: a chart, a Kustomize app, raw manifests, Terraform, alert files, an
OpenSLO spec, runbooks and a Backstage Component. The manifests it writes validate, claim every file, and a rerun
writes nothing; an existing manifest only gains the claims it lacks, its comments kept."""

import json
import os
import shutil
import subprocess

import jsonschema
import pytest
import yaml

from conftest import ROOT, run_cli

REPO = os.path.join(ROOT, "tests", "data", "init-repo")
# every file of the sample and the service that must own it after init
OWNERS = {
    "charts/web/Chart.yaml": "web", "charts/web/values.yaml": "web", "terraform/web/main.tf": "web",
    "alerts/web-rules.yaml": "web",
    "apps/api/base/deployment.yaml": "api", "apps/api/overlays/prod/kustomization.yaml": "api",
    "k8s/worker.yaml": "worker", "alerts/worker.rules.yaml": "worker",
    "services/billing/k8s/deploy.yaml": "billing",
}


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def _owners(root):
    from prr_lint.config import load_config
    from prr_lint.engine import Engine, Options

    engine = Engine(Options(paths=[str(root)], config=load_config(None), root=str(root), use_cache=False))
    _repo, graph, _loaded, docs = engine.load()
    owners = {rel: (svc.name if (svc := graph.owner_of(rel)) else None) for rel in OWNERS}
    slo = next(d for d in docs if d.file == "slos/api.openslo.yaml")
    return owners, slo.service


def test_init_writes_valid_manifests_that_claim_every_file(repo):
    r = run_cli("init", str(repo))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:3] == [
        "prr-lint init: wrote services/api/service.yaml (new manifest: api, 2 file(s))",
        "prr-lint init: wrote services/web/service.yaml (new manifest: web, 4 file(s))",
        "prr-lint init: wrote services/worker/service.yaml (new manifest: worker, 3 file(s))",
    ]
    # then the readiness summary of `check`, one row per service, the Backstage one included
    table = lines[lines.index("Readiness after init (prr-lint check):") + 1:]
    assert table[0].split() == ["service", "tier", "errors", "warnings", "most", "common"]
    assert [row.split()[0] for row in table[1:5]] == ["api", "billing", "web", "worker"]

    with open(os.path.join(ROOT, "schemas", "service.schema.json")) as fh:
        schema = json.load(fh)
    for name in ("api", "web", "worker"):
        with open(repo / "services" / name / "service.yaml") as fh:
            text = fh.read()
        jsonschema.validate(yaml.safe_load(text), schema)
        assert "TODO(prr-lint init)" in text and "# owner: team-x" in text
    web = yaml.safe_load((repo / "services" / "web" / "service.yaml").read_text())
    assert web["spec"] == {"deploy": {"helm": ["/charts/web/"], "terraform": ["/terraform/web/"]},
                           "alerts": ["/alerts/web-rules.yaml"], "runbooks": ["/docs/runbooks/web.md"]}
    assert "owner" not in web["metadata"] and "tier" not in web["metadata"]   # never a placeholder that passes

    owners, slo_service = _owners(repo)
    assert owners == OWNERS
    assert slo_service == "api"

    again = run_cli("init", "--no-check", str(repo))
    assert again.returncode == 0
    assert again.stdout == "prr-lint init: every file found already belongs to a service; nothing to write\n"


def test_dry_run_shows_a_diff_and_writes_nothing(repo):
    r = run_cli("init", "--dry-run", str(repo))
    assert r.returncode == 0, r.stderr
    assert "+++ b/services/worker/service.yaml" in r.stdout
    assert "+    kubernetes: [/k8s/worker.yaml]" in r.stdout
    assert "prr-lint init: would write services/worker/service.yaml (new manifest: worker, 3 file(s))" in r.stdout
    assert not (repo / "services" / "worker").exists()


EXISTING = """\
# the worker's manifest, written by hand
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: worker
  owner: team-queue   # owns the queue too
  tier: 1
spec:
  alerts: [/alerts/worker.rules.yaml]
"""


def test_an_existing_manifest_only_gains_the_claims_it_lacks(repo):
    path = repo / "ops" / "worker" / "service.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(EXISTING)
    r = run_cli("init", "--dry-run", str(repo))
    assert r.returncode == 0, r.stderr
    assert "--- a/ops/worker/service.yaml" in r.stdout
    assert path.read_text() == EXISTING
    r = run_cli("init", "--no-check", str(repo))
    assert r.returncode == 0, r.stderr
    assert "prr-lint init: wrote ops/worker/service.yaml (claims added: worker, 2 file(s))" in r.stdout
    text = path.read_text()
    assert text.startswith(EXISTING.splitlines()[0]) and "owner: team-queue   # owns the queue too" in text
    assert yaml.safe_load(text)["spec"] == {"alerts": ["/alerts/worker.rules.yaml"],
                                            "deploy": {"kubernetes": ["/k8s/worker.yaml"]},
                                            "runbooks": ["/docs/runbooks/worker.md"]}
    assert not (repo / "services" / "worker").exists()


def test_never_overwrites_a_file_that_is_not_a_manifest(repo):
    target = repo / "services" / "web" / "service.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("just: notes\n")
    r = run_cli("init", "--no-check", str(repo))
    assert r.returncode == 2
    assert r.stderr.strip() == ("prr-lint: error: services/web/service.yaml: exists but is not a service manifest; "
                                "not overwritten")
    assert target.read_text() == "just: notes\n"


def test_files_of_no_deployed_name_are_listed_not_guessed(repo):
    (repo / "alerts" / "node-exporter.yaml").write_text(
        "groups:\n  - name: node\n    rules:\n      - alert: NodeDown\n        expr: up == 0\n")
    r = run_cli("init", "--dry-run", str(repo))
    assert r.returncode == 0, r.stderr
    assert ("prr-lint init: not grouped: alerts/node-exporter.yaml (alerts; nothing deployed is named "
            "'node-exporter')") in r.stdout
    assert "services/node-exporter" not in r.stdout


def test_init_needs_a_directory(tmp_path):
    r = run_cli("init", str(tmp_path / "nope"))
    assert (r.returncode, r.stderr.strip()) == (2, f"prr-lint: error: {tmp_path / 'nope'}: not a directory")
