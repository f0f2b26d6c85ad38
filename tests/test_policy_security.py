"""Rego policies on untrusted pull requests: no host data for policies, remote settings only from the command
line or the environment, no network built-ins pushed without --allow-net, and every remote call bounded."""

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_cli, write
from opa_standin import OpaStandin

SECRET = "s3cr3t-value-of-the-ci-job"

SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: api
  owner: team-core
  tier: 1
spec:
  oncall: {rotation: pagerduty/P1}
  slos:
    - {name: availability, objective: 99.9, window: 30d}
  deploy:
    kubernetes: [k8s/]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/api:1.0
"""

SIMPLE = 'package main\n\nimport rego.v1\n\ndeny contains "seen" if input.kind == "Service"\n'


@pytest.fixture
def repo(tmp_path):
    return write(str(tmp_path / "repo"), {
        "services/api/service.yaml": SERVICE,
        "services/api/k8s/workloads.yaml": DEPLOYMENT,
    })


def policy_dir(tmp_path, files: dict) -> str:
    return write(str(tmp_path / "policy"), files)


def messages(stdout: str) -> list:
    return [f["message"] for f in json.loads(stdout)["findings"] if f["rule"].startswith("REGO")]


# -- 1. embedded policies see no environment ----------------------------------------------------------------
def test_embedded_policies_see_an_empty_environment(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"env.rego": """\
package main

import rego.v1

deny contains sprintf("env: %v", [opa.runtime().env]) if input.kind == "Service"

deny contains sprintf("runtime: %v", [opa.runtime()]) if input.kind == "Service"

deny contains sprintf("secret: %v", [opa.runtime().env.PRR_TEST_SECRET]) if input.kind == "Service"
"""})
    env = {"PRR_TEST_SECRET": SECRET, "GITHUB_TOKEN": SECRET}
    r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", cwd=repo, env=env)
    assert r.returncode == 1, r.stderr
    got = messages(r.stdout)
    assert "env: {}" in got, got
    assert any(m.startswith("runtime: ") for m in got), got
    assert not any(m.startswith("secret: ") for m in got), got  # undefined: the variable does not exist
    assert SECRET not in r.stdout + r.stderr
    # the same in every other output format
    for fmt in ("text", "sarif", "markdown", "github", "junit"):
        out = run_cli("check", "--policy", pdir, repo, "-f", fmt, "--no-cache", cwd=repo, env=env)
        assert out.returncode == 1, (fmt, out.stderr)
        assert SECRET not in out.stdout + out.stderr, fmt


def test_policy_unit_tests_see_an_empty_environment(tmp_path):
    pdir = policy_dir(tmp_path, {
        "p.rego": "package p\nimport rego.v1\nvars := opa.runtime().env\n",
        "p_test.rego": "package p_test\nimport rego.v1\n"
                       "test_no_environment if { count(data.p.vars) == 0 }\n"
                       f'test_leak if {{ data.p.vars.PRR_TEST_SECRET == "{SECRET}" }}\n',
    })
    r = run_cli("policy", "test", pdir, "-v", cwd=tmp_path, env={"PRR_TEST_SECRET": SECRET})
    assert "data.p_test.test_no_environment: PASS" in r.stdout, r.stdout + r.stderr
    assert "data.p_test.test_leak: FAIL" in r.stdout
