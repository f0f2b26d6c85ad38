"""The built wheel carries the rule pack and the schemas: install it in a fresh venv and run it."""

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_wheel_contains_rules_and_schemas_and_runs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), ROOT], check=True,
                   capture_output=True, timeout=600)
    wheel = next(dist.glob("prr_lint-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "prr_lint/rules/k8s/K8S002-memory-limit/rule.py" in names
    assert "prr_lint/rules/k8s/K8S002-memory-limit/bad/deployment.yaml" in names
    assert "prr_lint/schemas/service.schema.json" in names
    assert "prr_lint/schemas/config.schema.json" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, timeout=900)
    prr = str(venv / "bin" / "prr-lint")
    # run from an unrelated directory so nothing can come from the source checkout
    listing = subprocess.run([prr, "rules"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "K8S002" in listing and "PRR001" in listing
    sample = os.path.join(ROOT, "examples", "monorepo")
    proc = subprocess.run([prr, "check", "--no-cache", "--format", "json", sample], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert '"rule": "PRR001"' in proc.stdout  # the service schema was found inside the wheel
