"""The policy runtime's lifecycle: the embedded worker process ends with the command that started it."""

import pytest

from prr_lint import cli
from prr_lint.policy import embedded
from prr_lint.registry import RuleError, validate_meta

from conftest import write

POLICY = """\
package main

import rego.v1

deny contains "no replicas" if {
	input.kind == "Deployment"
	not input.spec.replicas
}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {template: {spec: {containers: [{name: app, image: app:1}]}}}
"""


def test_the_embedded_worker_is_stopped_when_the_command_ends(tmp_path, monkeypatch, capsys):
    started = []

    class Recorded(embedded._Worker):
        def __init__(self):
            super().__init__()
            started.append(self)

    monkeypatch.setattr(embedded, "_Worker", Recorded)
    repo = write(str(tmp_path / "repo"), {"k8s/deploy.yaml": DEPLOYMENT})
    policy = write(str(tmp_path / "policy"), {"replicas.rego": POLICY})
    code = cli.main(["check", "--policy", policy, repo, "--no-cache", "-f", "json"])
    assert code == 1, capsys.readouterr()
    assert "no replicas" in capsys.readouterr().out
    assert started, "the policy was not evaluated by the embedded worker"
    # stopped and reaped by the command, not left to garbage collection or interpreter exit
    assert all(w.proc.returncode is not None for w in started)


def test_no_rule_targets_the_runbook_kind_nothing_produces():
    meta = {"id": "ORG100", "name": "runbook-shape", "summary": "Runbooks have a rollback section",
            "why": "A runbook without rollback steps slows every incident down.", "fix": "Add a rollback section.",
            "targets": ["runbook"], "tags": ["runbook"], "severity": {"0": "error", "1": "error", "2": "warning",
                                                                         "3": "info"}, "since": "0.2.0"}
    with pytest.raises(RuleError, match="runbook"):
        validate_meta(meta, "rules/ORG100-runbook-shape/rule.py")
    validate_meta({**meta, "targets": ["service"]}, "rules/ORG100-runbook-shape/rule.py")
