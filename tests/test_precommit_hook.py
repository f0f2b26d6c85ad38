"""The pre-commit hook: its manifest, and the real `pre-commit try-repo` on a throwaway repository.

The hook repository is a copy of this project's current working tree (tracked and untracked files, less what
.gitignore leaves out), committed in a temp dir because pre-commit clones a commit. pre-commit builds the hook's
virtualenv by pip-installing that copy, which takes a while the first time; the environment is shared by the
tests of this module through one PRE_COMMIT_HOME.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

import jsonschema
import pytest
import yaml

from conftest import ROOT, git, shared_schema

BIN = os.path.dirname(sys.executable)
PRE_COMMIT = os.path.join(BIN, "pre-commit")
MANIFEST = os.path.join(ROOT, ".pre-commit-hooks.yaml")


def _commit_all(cwd, message="commit"):
    git(cwd, "add", "-A")
    git(cwd, "commit", "-q", "--no-verify", "-m", message)


# -- the manifest --------------------------------------------------------------------------------

def test_manifest_validates_with_pre_commit():
    proc = subprocess.run([PRE_COMMIT, "validate-manifest", MANIFEST], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_manifest_validates_against_the_schema():
    with open(shared_schema("pre-commit-hooks.schema.json")) as fh:
        schema = json.load(fh)
    with open(MANIFEST) as fh:
        manifest = yaml.safe_load(fh)
    jsonschema.validate(manifest, schema)
    hook, = manifest
    assert hook["id"] == "prr-lint" and hook["language"] == "python" and hook["entry"] == "prr-lint check"
    assert hook["pass_filenames"] is True and hook["require_serial"] is True
    assert set(hook["types_or"]) == {"yaml", "json", "terraform", "markdown"}


def test_manifest_selects_the_files_prr_lint_reads():
    from identify import identify

    with open(MANIFEST) as fh:
        hook, = yaml.safe_load(fh)
    for name, wanted in [("service.yaml", True), ("values.yml", True), ("main.tf", True), ("plan.json", True),
                         ("README.md", True), ("runbook.markdown", True), ("app.py", False)]:
        assert bool(identify.tags_from_filename(name) & set(hook["types_or"])) is wanted, name


# -- pre-commit try-repo, end to end -------------------------------------------------------------

SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata: {name: api, owner: team-api, tier: 0}
spec:
  deploy: {kubernetes: [k8s/]}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.0
          resources:
            requests: {{cpu: 100m, memory: 256Mi}}
            limits: {limits}
"""

# a file no service claims, with a finding: it must never show up when other files are checked
LEGACY = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: legacy}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: registry.example.com/job:1.0
"""


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This project's working tree, committed in a temp dir."""
    dest = tmp_path_factory.mktemp("hook-repo")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue  # deleted in the working tree
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))
    git(dest, "init", "-q")
    _commit_all(dest, "hook repo")
    return str(dest)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    return str(tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture
def project(tmp_path):
    """A throwaway repository with one tier-0 service, committed."""
    repo = tmp_path / "project"
    (repo / "services/api/k8s").mkdir(parents=True)
    (repo / "legacy").mkdir()
    (repo / ".prr-lint.yaml").write_text("select: [K8S002, K8S005]\n")
    (repo / "services/api/service.yaml").write_text(SERVICE)
    (repo / "services/api/k8s/deployment.yaml").write_text(
        DEPLOYMENT.format(replicas=3, limits="{memory: 256Mi}"))
    (repo / "legacy/cronjob.yaml").write_text(LEGACY)
    (repo / "README.md").write_text("# project\n")
    git(repo, "init", "-q")
    _commit_all(repo, "initial")
    return repo


def try_repo(project, hook_repo, home, *files):
    env = dict(os.environ, PRE_COMMIT_HOME=home, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PRE_COMMIT", None)
    start = time.monotonic()
    proc = subprocess.run([PRE_COMMIT, "try-repo", hook_repo, "prr-lint", "--color", "never",
                           "--verbose", "--files", *files],
                          cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    return proc, time.monotonic() - start


DEPLOY = "services/api/k8s/deployment.yaml"


@pytest.mark.slow
def test_hook_fails_on_a_bad_change_with_the_finding(project, hook_repo, pre_commit_home):
    # drop the memory limit: a finding in the changed file itself
    (project / DEPLOY).write_text(DEPLOYMENT.format(replicas=3, limits="{}"))
    git(project, "add", DEPLOY)
    proc, _ = try_repo(project, hook_repo, pre_commit_home, DEPLOY)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "prr-lint (production readiness)" in out and "Failed" in out
    assert "services/api/k8s/deployment.yaml:15:" in out and "K8S002" in out and "no memory limit" in out
    assert "legacy/cronjob.yaml" not in out     # only the files passed are reported


@pytest.mark.slow
def test_hook_knows_the_owning_service(project, hook_repo, pre_commit_home):
    # 2 replicas are enough at the default tier (2) but not for this tier-0 service: the hook must have read
    # the service manifest, which is not among the files passed
    (project / DEPLOY).write_text(DEPLOYMENT.format(replicas=2, limits="{memory: 256Mi}"))
    git(project, "add", DEPLOY)
    proc, _ = try_repo(project, hook_repo, pre_commit_home, DEPLOY)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "K8S005" in out and "tier 0 minimum of 3" in out and "[api]" in out


@pytest.mark.slow
def test_hook_passes_on_a_good_change(project, hook_repo, pre_commit_home):
    (project / DEPLOY).write_text(DEPLOYMENT.format(replicas=4, limits="{memory: 512Mi}"))
    git(project, "add", DEPLOY)
    proc, _ = try_repo(project, hook_repo, pre_commit_home, DEPLOY)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "prr-lint (production readiness)" in out and "Passed" in out
    from prr_lint.cache import default_directory

    # the hook's parse cache is in the user's cache directory, never in the checked tree
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    assert glob.glob(os.path.join(default_directory(home, str(project)), "index-*.json"))
    assert not (project / ".prr-lint-cache").exists()


@pytest.mark.slow
def test_installed_hook_one_file_run_is_fast(project, hook_repo, pre_commit_home):
    """`try-repo` builds a new environment each time; an installed hook (`pre-commit run`) reuses its own."""
    rev = git(hook_repo, "rev-parse", "HEAD").strip()
    (project / ".pre-commit-config.yaml").write_text(textwrap.dedent(f"""\
        repos:
          - repo: {hook_repo}
            rev: {rev}
            hooks: [{{id: prr-lint}}]
        """))
    git(project, "add", ".pre-commit-config.yaml")
    env = dict(os.environ, PRE_COMMIT_HOME=pre_commit_home, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    cmd = [PRE_COMMIT, "run", "prr-lint", "--color", "never", "--verbose", "--files", DEPLOY]
    subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=1800)  # installs; warms
    timings = []
    for _ in range(3):
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=600)
        timings.append((time.monotonic() - start, float(re.search(r"- duration: ([\d.]+)s", proc.stdout).group(1))))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    wall, hook = min(timings)
    print(f"\none-file pre-commit run: {wall:.2f}s wall, hook {hook:.2f}s (best of 3)")
    assert hook < 5.0, timings


@pytest.mark.slow
def test_hook_skips_files_prr_lint_does_not_read(project, hook_repo, pre_commit_home):
    (project / "app.py").write_text("print(1)\n")
    git(project, "add", "app.py")
    proc, _ = try_repo(project, hook_repo, pre_commit_home, "app.py")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "(no files to check)Skipped" in out.replace(".", "")


RUNBOOK = "# API runbook\n\n## Rollback\n\nRun `deploy rollback api`.\n"
ALERTS = """\
groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 5m
        labels: {severity: critical}
        annotations:
          summary: The API is down
          runbook_url: ../docs/runbook.md#rollback
"""


@pytest.mark.slow
def test_commit_renaming_a_linked_heading_fails(project, hook_repo, pre_commit_home):
    """A Markdown change is checked for what it breaks: the alert and the manifest that link to its heading."""
    (project / ".prr-lint.yaml").write_text("select: [K8S002, K8S005, PROM002, SVC021]\n")
    (project / "services/api/service.yaml").write_text(SERVICE + "  runbooks: [docs/runbook.md#rollback]\n")
    (project / "services/api/docs").mkdir()
    (project / "services/api/docs/runbook.md").write_text(RUNBOOK)
    (project / "services/api/monitoring").mkdir()
    (project / "services/api/monitoring/alerts.yaml").write_text(ALERTS)
    rev = git(hook_repo, "rev-parse", "HEAD").strip()
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks: [{{id: prr-lint}}]\n")
    _commit_all(project, "runbook and alerts")
    env = dict(os.environ, PRE_COMMIT_HOME=pre_commit_home, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PRE_COMMIT", None)
    subprocess.run([PRE_COMMIT, "install"], cwd=project, env=env, check=True, capture_output=True, timeout=120)

    def commit(message):
        return subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "user.name=ci",
                               "-c", "user.email=ci@example.com", "commit", "-q", "-m", message],
                              cwd=project, env=env, capture_output=True, text=True, timeout=1800)

    # an unrelated Markdown file: nothing links to it, the commit goes through
    (project / "README.md").write_text("# project\n\n## Contributing\n")
    git(project, "add", "README.md")
    proc = commit("readme")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # rename the heading the alert and the manifest link to: the commit is refused, naming both links
    (project / "services/api/docs/runbook.md").write_text(RUNBOOK.replace("## Rollback", "## Roll back"))
    git(project, "add", "services/api/docs/runbook.md")
    proc = commit("rename a heading")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "prr-lint (production readiness)" in out and "Failed" in out
    assert "services/api/monitoring/alerts.yaml:10:" in out and "PROM002" in out and "#rollback" in out, out
    assert "services/api/service.yaml:" in out and "SVC021" in out, out
    assert "legacy/cronjob.yaml" not in out


def test_readme_snippet_is_a_valid_pre_commit_config(tmp_path):
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    snippets = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "id: prr-lint" in b]
    assert len(snippets) == 1
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(snippets[0])
    proc = subprocess.run([PRE_COMMIT, "validate-config", str(config)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hook, = yaml.safe_load(snippets[0])["repos"][0]["hooks"]
    assert hook["id"] == "prr-lint"
