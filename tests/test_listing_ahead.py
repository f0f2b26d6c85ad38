"""While git lists the work tree, Repository takes the files the cache index knows through naming, stat checks and
the cache's unchanged entries (repo._Ahead); once git answers, only what the listing adds is done. Whatever changed
in the tree, the result must be the one the steps give when they all run after the listing."""

import os
import subprocess

import pytest

from prr_lint import repo as repo_module
from prr_lint.cache import default_directory, open_cache
from prr_lint.repo import Repository

from conftest import write

MANIFEST = "apiVersion: prr-lint/v1\nkind: Service\nmetadata:\n  name: {name}\n  owner: team-a\n  tier: 2\n"
FILES = {
    "services/a/service.yaml": MANIFEST.format(name="a"),
    "services/a/k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n",
    "services/a/chart/Chart.yaml": "apiVersion: v2\nname: a\nversion: 0.1.0\n",
    "services/a/chart/values.yaml": "replicaCount: 2\n",
    "services/a/chart/templates/deploy.yaml": "kind: Deployment\n",
    "services/b/service.yaml": MANIFEST.format(name="b"),
    "services/b/infra/main.tf": 'resource "aws_db_instance" "db" {\n  engine = "postgres"\n}\n',
    "services/b/docs/runbook.md": "# Runbook\n",
}


def _git(root, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root, check=True,
                   capture_output=True)


def _state(root: str, home: str, ahead: bool) -> tuple:
    cache = open_cache(default_directory(home, root), os.path.join(home, "prr-lint"), "", root)
    assert cache is not None
    # stamps handed over by a caller take the way where every step runs after the listing
    repo = Repository(root, cache=cache, lstats=None if ahead else {})
    return (list(repo.candidates.items()), repo.stats, {rel: r.message for rel, r in repo.refused.items()},
            repo._known, repo.chart_dirs)


def _filled(tmp_path) -> tuple[str, str]:
    root, home = str(tmp_path / "repo"), str(tmp_path / "home")
    write(root, FILES)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "x")
    cache = open_cache(default_directory(home, root), os.path.join(home, "prr-lint"), "", root)
    repo = Repository(root, cache=cache)
    for rel in repo.candidates:
        repo.load(rel)
    repo.save_cache()
    return root, home


def _remove(root, rel):
    os.unlink(os.path.join(root, rel))


def _symlink_out(root, rel):
    path = os.path.join(root, rel)
    if os.path.lexists(path):
        _remove(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink("/etc/hostname", os.path.join(root, rel))


CHANGES = {
    "nothing": lambda root: None,
    "a manifest added": lambda root: write(root, {"services/c/service.yaml": MANIFEST.format(name="c")}),
    "a tracked file deleted": lambda root: _remove(root, "services/a/k8s/deploy.yaml"),
    "a file edited": lambda root: write(root, {"services/b/service.yaml": MANIFEST.format(name="b2")}),
    "a file turned into a symlink out of the tree": lambda root: _symlink_out(root, "services/b/infra/main.tf"),
    "files refused, known and new": lambda root: (_symlink_out(root, "services/b/infra/main.tf"),
                                                   _symlink_out(root, "services/a/extra.yaml"),
                                                   _symlink_out(root, "services/0/first.yaml")),
    "a chart added": lambda root: write(root, {"services/b/chart/Chart.yaml": "apiVersion: v2\nname: b\nversion: 1\n",
                                               "services/b/chart/values.yaml": "x: 1\n"}),
    "a chart removed": lambda root: _git(root, "rm", "-q", "services/a/chart/Chart.yaml"),
    "a chart's file deleted, still tracked": lambda root: _remove(root, "services/a/chart/Chart.yaml"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_listing_worked_out_ahead_is_the_listing_worked_out_after(tmp_path, monkeypatch, change):
    root, home = _filled(tmp_path)
    CHANGES[change](root)
    used: list[int] = []
    reconciled = repo_module._Ahead.reconciled
    monkeypatch.setattr(repo_module._Ahead, "reconciled", lambda self, *a: used.append(1) or reconciled(self, *a))
    ahead = _state(root, home, ahead=True)
    # with other charts, the names are worked out again after the listing (a file's loader depends on them)
    assert used == ([] if change in ("a chart added", "a chart removed") else [1])
    assert ahead == _state(root, home, ahead=False)
    candidates = dict(ahead[0])
    assert ("services/c/service.yaml" in candidates) == (change == "a manifest added")
    assert ("services/a/k8s/deploy.yaml" in candidates) == (change != "a tracked file deleted")


def test_a_listing_ahead_names_only_the_files_the_listing_adds(tmp_path, monkeypatch):
    root, home = _filled(tmp_path)
    write(root, {"services/c/service.yaml": MANIFEST.format(name="c")})
    named: list[str] = []
    original = repo_module.candidate_kind
    cache = open_cache(default_directory(home, root), os.path.join(home, "prr-lint"), "", root)
    monkeypatch.setattr(repo_module, "candidate_kind", lambda rel, charts: named.append(rel) or original(rel, charts))
    Repository(root, cache=cache)
    known = [rel for rel in FILES if not rel.endswith((".md", "templates/deploy.yaml"))]
    # the index's files while git lists; then the two the index does not know (the runbook is no candidate)
    assert sorted(named) == sorted(known + ["services/c/service.yaml", "services/a/chart/templates/deploy.yaml",
                                            "services/b/docs/runbook.md"])
