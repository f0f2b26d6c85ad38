"""What a one-file run leaves out when its scope does not need it, counted: the pass over every Terraform module
joins module calls only when a Terraform file is in scope."""

import os

from test_linear_cost import monorepo

from prr_lint.checks import tfmodules
from prr_lint.config import Config
from prr_lint.engine import Options, run


def _findings(root: str, rel: str) -> list:
    result = run(Options(paths=[os.path.join(root, rel)], config=Config(), root=root, use_cache=False))
    assert not result.errors
    return [(f.rule_id, f.file, f.span.line) for f in result.findings]


def test_terraform_modules_are_joined_only_for_a_terraform_file_in_scope(tmp_path, monkeypatch):
    root = monorepo(tmp_path / "mono", 3)
    passes: list[int] = []
    files_by_dir = tfmodules.files_by_dir

    def counted(repo):
        passes.append(1)
        return files_by_dir(repo)

    monkeypatch.setattr(tfmodules, "files_by_dir", counted)
    _findings(root, "services/svc-1/k8s/deployment.yaml")
    assert passes == []
    _findings(root, "services/svc-1/infra/main.tf")
    assert passes


def test_the_files_the_cache_knows_are_stamped_while_git_lists_and_not_again(tmp_path, monkeypatch):
    import subprocess

    from prr_lint import cache as cache_module
    from prr_lint import discover
    from prr_lint import repo as repo_module

    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = monorepo(tmp_path / "mono", 3)
    subprocess.run(["git", "init", "-q", root], check=True)
    home = str(tmp_path / "home")
    edited = "services/svc-1/k8s/deployment.yaml"

    def findings(use_cache: bool = True) -> list:
        result = run(Options(paths=[os.path.join(root, edited)], config=Config(), root=root, cache_home=home,
                             use_cache=use_cache, parse_workers=0))
        return [(f.rule_id, f.file, f.span.line, f.message) for f in result.findings]

    findings()
    candidates = {os.path.join(root, rel) for rel in repo_module.Repository(root).candidates}
    events: list[str] = []
    lstat, popen, check_files = os.lstat, discover.subprocess.Popen, repo_module.check_files

    class Listing(popen):
        def communicate(self, *args, **kwargs):
            events.append("git read")
            return super().communicate(*args, **kwargs)

    stamped_first: set = set()

    def counted(path, *args, **kwargs):
        if os.fspath(path) in candidates:
            events.append("lstat")
            if "git read" not in events:
                stamped_first.add(os.fspath(path))
        return lstat(path, *args, **kwargs)

    def checked(*args, **kwargs):
        events.append("check_files")
        try:
            return check_files(*args, **kwargs)
        finally:
            events.append("checked")

    monkeypatch.setattr(discover.subprocess, "Popen", Listing)
    monkeypatch.setattr(os, "lstat", counted)
    monkeypatch.setattr(repo_module, "check_files", checked)
    with open(os.path.join(root, edited), "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    after_edit = findings()
    # every candidate the cache knew is stamped once before git's answer is read; the pass after asks none again
    assert stamped_first == candidates
    assert events[events.index("check_files"):events.index("checked")] == ["check_files"]
    monkeypatch.undo()
    assert after_edit == findings(use_cache=False)
