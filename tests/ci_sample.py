"""A small service repository under git, shared by the waiver, baseline, diff and gate end-to-end tests."""

import json
import os
import subprocess
import sys

from conftest import sarif_errors, write

# the rules these tests are about: new rules elsewhere in the pack must not change their outcome
RULES = "PRR000,PRR001,PRR002,SVC001,K8S002,TF002"

SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: checkout
  owner: team-payments
  tier: 1
spec:
  deploy:
    kubernetes: [k8s/]
    terraform: [infra/]
"""

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/checkout:1.4.2
          resources:
            requests: {cpu: 100m, memory: 256Mi}
            limits: {memory: 512Mi}
        - name: sidecar
          image: registry.example.com/envoy:1.30.1
          resources:
            requests: {cpu: 50m, memory: 64Mi}
"""
# a second, clean workload: a file the change or the baseline has not seen
WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: worker
          image: registry.example.com/worker:2.0.0
"""

SIDECAR_LINE = 17   # K8S002: the sidecar has no memory limit

TERRAFORM = """\
resource "aws_db_instance" "main" {
  engine                  = "postgres"
  instance_class          = "db.t3.medium"
  backup_retention_period = 7
  deletion_protection     = true
}

resource "aws_db_instance" "scratch" {
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  backup_retention_period = 7
  deletion_protection     = false
}
"""
SCRATCH_LINE = 12   # TF002: deletion_protection = false

FILES = {
    "services/checkout/service.yaml": SERVICE,
    "services/checkout/k8s/deploy.yaml": DEPLOY,
    "services/checkout/infra/main.tf": TERRAFORM,
}


def git(repo, *args, check=True):
    env = {**os.environ, "GIT_AUTHOR_NAME": "prr-lint tests", "GIT_AUTHOR_EMAIL": "tests@prr-lint.invalid",
           "GIT_COMMITTER_NAME": "prr-lint tests", "GIT_COMMITTER_EMAIL": "tests@prr-lint.invalid",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    proc = subprocess.run(["git", "-C", str(repo), "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
                           *args], capture_output=True, text=True, env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def make_repo(path, files=None, message="initial"):
    """A git repository with `files` committed on main."""
    os.makedirs(path, exist_ok=True)
    git(path, "init", "-q")
    write(str(path), FILES if files is None else files)
    commit(path, message)
    return path


def commit(repo, message):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def report(cli, repo, *args, cwd=None):
    """`prr-lint check --format json` on repo: (exit code, parsed report, stderr)."""
    proc = cli("check", "--format", "json", "--no-cache", "--select", RULES, "--today", "2026-11-01", *args,
               str(repo), cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def found(rep, suppressed=False):
    """(rule, file, line) of the active (or suppressed) findings of a JSON report."""
    return sorted((f["rule"], f["file"], f["line"]) for f in rep["findings"] if bool(f["suppressed"]) == suppressed)


__all__ = ["git", "make_repo", "commit", "report", "found", "sarif_errors", "write", "sys"]


FAILING_RULE = '''\
from prr_lint.rule import rule


@rule(id="ACME900", name="remote-policy", summary="Asks a policy server about every Deployment.",
      why="A stand-in for a policy engine the run depends on.", fix="Nothing to fix.",
      targets=["k8s"], tags=["availability"], severity="error", since="0.1.0")
def check(doc, ctx):
    raise ConnectionError("policy server http://127.0.0.1:9/v1/data refused the connection")
'''


def failing_rule_config(tmp_path) -> str:
    """A .prr-lint.yaml whose user rule pack cannot reach its policy server: the run must not pass."""
    write(str(tmp_path / "pack" / "ACME900-remote-policy"), {"rule.py": FAILING_RULE})
    return f"rule_paths: ['{tmp_path / 'pack'}']\n"
