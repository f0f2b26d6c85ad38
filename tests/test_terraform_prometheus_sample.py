"""The Terraform and Prometheus rules on the shipped sample, through the real console script: exact places."""

import json
import os

from conftest import ROOT, run_cli

SAMPLE = os.path.join(ROOT, "examples", "monorepo")


def _findings(select: str) -> set:
    proc = run_cli("check", "--no-cache", "--format", "json", "--select", select, SAMPLE)
    assert proc.returncode in (0, 1), proc.stderr
    return {(f["rule"], f["file"].removeprefix("examples/monorepo/"), f["line"], f["severity"])
            for f in json.loads(proc.stdout)["findings"]}


def test_terraform_rules_on_the_sample():
    inv, legacy = "services/inventory/infra/main.tf", "legacy-batch/main.tf"
    assert _findings("TF") == {
        ("TF001", inv, 11, "error"),        # backup_retention_period = var.backup_days (default 1)
        ("TF001", inv, 14, "error"),        # DynamoDB table without point-in-time recovery
        ("TF002", inv, 6, "error"),
        ("TF002", inv, 14, "error"),
        ("TF003", inv, 6, "error"),         # tier 0, no multi_az
        ("TF004", inv, 25, "error"),
        ("TF005", inv, 38, "error"),        # min_size 1 < 3 for tier 0
        ("TF006", inv, 43, "error"),
        # a call of the shared modules/postgres that passes deletion_protection = false: at the argument
        ("TF002", "services/inventory/infra/ledger.tf", 6, "error"),
        ("TF001", legacy, 6, "warning"),    # Cloud SQL settings without backup_configuration (default tier 2)
        ("TF004", legacy, 11, "warning"),
        ("TF007", legacy, 52, "error"),
    }


def test_prometheus_rules_on_the_sample():
    inv = "services/inventory/monitoring/inventory-rules.yaml"
    got = _findings("PROM003,PROM004,PROM005,PROM006")
    assert got == {
        ("PROM004", inv, 9, "error"),       # critical without `for`
        ("PROM003", inv, 19, "error"),      # severity: page
        ("PROM005", inv, 20, "error"),      # annotations without summary/description
        ("PROM006", inv, 23, "error"),      # unclosed parenthesis
        ("PROM005", "legacy-batch/alerts.yaml", 4, "warning"),
    }


def test_the_ready_service_passes_terraform_and_prometheus_rules():
    proc = run_cli("check", "--no-cache", "--format", "json", "--select", "TF,PROM",
                   os.path.join(SAMPLE, "services", "checkout"))
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["findings"] == []
