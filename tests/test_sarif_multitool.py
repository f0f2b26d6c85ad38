"""GitHub's ingestion rules go beyond the JSON schema: Microsoft's SARIF Multitool checks them.

The multitool comes from npm (no .NET runtime needed) and is installed once into .cache/. Its npm wrapper
runs through a shell that splits "Sarif;Ghas", so the native binary is called directly.
"""

import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, run_cli

VERSION = "5.7.0"
CACHE = os.path.join(ROOT, ".cache", f"sarif-multitool-{VERSION}")


def multitool() -> str:
    npm = shutil.which("npm")
    assert npm, "npm is required to validate SARIF with Microsoft's SARIF Multitool"
    marker = os.path.join(CACHE, "node_modules", "@microsoft", "sarif-multitool")
    if not os.path.isdir(marker):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", CACHE,
                        f"@microsoft/sarif-multitool@{VERSION}"], check=True, capture_output=True, timeout=600)
    out = subprocess.run(["node", "-e", "process.stdout.write(require('@microsoft/sarif-multitool'))"],
                         cwd=CACHE, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def validate(sarif_path: str, tmp_path) -> list:
    report = tmp_path / "validation.sarif"
    subprocess.run([multitool(), "validate", sarif_path, "--rule-kind", "Sarif;Ghas", "--level", "Error;Warning;Note",
                    "-o", str(report), "--log", "ForceOverwrite", "--quiet"], capture_output=True, timeout=300)
    with open(report, encoding="utf-8") as fh:
        results = json.load(fh)["runs"][0]["results"]
    return results


@pytest.mark.slow
def test_sample_repository_sarif_passes_the_multitool(tmp_path):
    out = tmp_path / "prr.sarif"
    proc = run_cli("check", "--no-cache", "--format", "sarif", "-o", str(out),
                   os.path.join(ROOT, "examples", "monorepo"))
    assert proc.returncode in (0, 1), proc.stderr
    results = validate(str(out), tmp_path)
    blocking = [r for r in results if r.get("level") in ("error", "warning")]
    assert blocking == [], json.dumps(blocking, indent=1)[:3000]
    assert json.loads(out.read_text())["runs"][0]["results"], "the sample should produce findings"


@pytest.mark.slow
def test_the_multitool_does_catch_errors(tmp_path):
    broken = tmp_path / "broken.sarif"
    broken.write_text(json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"ruleId": "X1", "level": "error", "message": {"text": "m."},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.yaml"}, "region": {"startLine": 0}}}]}]}]}))
    results = validate(str(broken), tmp_path)
    assert any(r.get("level") == "error" for r in results)
