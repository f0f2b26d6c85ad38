"""Link resolution: repository paths, Markdown heading slugs, runbook hosts, links into this repository."""

import os

import pytest

from prr_lint.checks.links import markdown_anchors, normalize_remote, resolve, slug
from prr_lint.engine import Settings
from prr_lint.repo import Repository


def settings(hosts=(), repo_url=None):
    return Settings(2, {}, list(hosts), repo_url, ["critical"])


def make_repo(tmp_path, files):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Repository(str(tmp_path))


RUNBOOK = """---
title: ignored # Not a heading
---
# Checkout runbook

## High error rate

```sh
# not a heading
```

## Rollback: `kubectl argo rollouts undo` [docs](https://example.com)

Rollback
--------

## Über-Latenz & 99th %ile!

<a name="legacy-anchor"></a>
"""


def test_github_slugs():
    assert slug("High error rate") == "high-error-rate"
    assert slug("Über-Latenz & 99th %ile!") == "über-latenz--99th-ile"
    assert slug("my_var  two") == "my_var--two"


def test_markdown_anchors_skip_code_and_front_matter_and_number_repeats():
    anchors = markdown_anchors(RUNBOOK)
    assert anchors == ["checkout-runbook", "high-error-rate", "rollback-kubectl-argo-rollouts-undo-docs",
                       "rollback", "über-latenz--99th-ile", "legacy-anchor"]
    assert markdown_anchors("# A\n# A\n# A-1\n") == ["a", "a-1", "a-1-1"]


def test_repository_paths_and_anchors(tmp_path):
    repo = make_repo(tmp_path, {"svc/docs/runbook.md": RUNBOOK, "svc/service.yaml": "x: 1\n",
                                "ops/README.md": "# Ops\n"})
    s = settings()
    assert resolve("docs/runbook.md#high-error-rate", repo, s, "svc").ok
    assert resolve("docs/runbook.md#user-content-rollback", repo, s, "svc").ok
    assert resolve("docs/runbook.md#L10-L12", repo, s, "svc").ok
    assert resolve("/svc/docs/runbook.md", repo, s, "other").ok
    assert resolve("../ops#ops", repo, s, "svc").ok                     # a directory's README
    missing = resolve("docs/nope.md", repo, s, "svc")
    assert missing.missing and missing.problem == "svc/docs/nope.md does not exist"
    bad_anchor = resolve("docs/runbook.md#stock-sync-lag", repo, s, "svc")
    assert not bad_anchor.missing and "no heading for #stock-sync-lag" in bad_anchor.problem
    assert "outside the repository" in resolve("../../x.md", repo, s, "svc").problem
    assert resolve("#rollback", repo, s, "svc").kind == "invalid"


def test_hosts_and_links_into_this_repository(tmp_path):
    repo = make_repo(tmp_path, {"shop/svc/docs/runbook.md": RUNBOOK})
    s = settings(["runbooks.example.com", "*.wiki.example.com"], "https://github.com/Acme/Shop.git")
    assert resolve("https://runbooks.example.com/checkout#x", repo, s, "shop/svc", "shop").ok
    assert resolve("https://team.wiki.example.com/page", repo, s, "shop/svc", "shop").ok
    denied = resolve("https://wiki.internal.example.org/inventory", repo, s, "shop/svc", "shop")
    assert denied.kind == "url" and "not in runbook_hosts" in denied.problem
    assert resolve("https://anything.example.net/x", repo, settings(), "shop/svc", "shop").ok  # no allow-list
    assert resolve("mailto:team@example.com", repo, s, "shop/svc", "shop").kind == "invalid"
    blob = "https://github.com/acme/shop/blob/main/svc/docs/runbook.md"
    link = resolve(blob + "#rollback", repo, s, "shop/svc", "shop")
    assert link.ok and link.kind == "repo-url" and link.local == "shop/svc/docs/runbook.md"
    assert "no heading" in resolve(blob + "#nope", repo, s, "shop/svc", "shop").problem
    assert resolve("https://github.com/acme/shop/blob/release/2026.11/svc/docs/runbook.md#rollback",
                   repo, s, "shop/svc", "shop").ok                  # a ref with a slash
    assert resolve("https://gitlab.com/acme/shop/-/blob/main/x.md", repo, s, "x", "shop").kind == "url"
    gone = resolve("https://github.com/acme/shop/blob/main/svc/docs/gone.md", repo, s, "shop/svc", "shop")
    assert gone.missing and gone.kind == "repo-url"


def test_origin_remote_is_this_repository(tmp_path):
    import subprocess

    repo_dir = tmp_path / "r"
    repo = make_repo(repo_dir, {"docs/runbook.md": RUNBOOK})
    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    subprocess.run(["git", "-C", str(repo_dir), "remote", "add", "origin", "git@gitlab.example.com:acme/shop.git"],
                   check=True)
    link = resolve("https://gitlab.example.com/acme/shop/-/blob/main/docs/runbook.md#rollback", repo,
                   settings(["runbooks.example.com"]), "", "")
    assert link.ok and link.kind == "repo-url" and link.local == "docs/runbook.md"
    assert os.path.isdir(repo_dir / ".git")


def test_normalize_remote():
    assert normalize_remote("git@github.com:acme/shop.git") == "github.com/acme/shop"
    assert normalize_remote("ssh://git@github.com:22/acme/shop.git") == "github.com/acme/shop"
    assert normalize_remote("https://GitHub.com/acme/shop/") == "github.com/acme/shop"
    assert normalize_remote("") is None


@pytest.mark.slow
def test_scoped_run_on_a_runbook_reports_the_links_it_breaks(tmp_path):
    """`check RUNBOOK.md` (the pre-commit hook on a staged runbook): findings sit in the files linking to it."""
    import shutil
    import subprocess

    from conftest import ROOT, run_cli

    repo = tmp_path / "mono"
    shutil.copytree(os.path.join(ROOT, "examples", "monorepo"), repo,
                    ignore=shutil.ignore_patterns(".prr-lint-cache"))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)   # the origin remote is not needed: repo_url
    runbook = repo / "services/checkout/docs/runbook.md"
    args = ("check", "--no-cache", "services/checkout/docs/runbook.md")
    assert run_cli(*args, cwd=repo).returncode == 0
    runbook.write_text(runbook.read_text().replace("## Rollback", "## Roll back")
                       .replace("## High error rate", "## Errors"))
    proc = run_cli(*args, cwd=repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # a repository URL in an alert, and a rollback procedure path in the manifest
    assert "services/checkout/monitoring/checkout-rules.yaml:22:" in proc.stdout and "#high-error-rate" in proc.stdout
    assert "services/checkout/service.yaml:30:" in proc.stdout and "#rollback" in proc.stdout
    # a Markdown file nothing links to reports nothing
    assert run_cli("check", "--no-cache", "README.md", cwd=repo).returncode == 0
