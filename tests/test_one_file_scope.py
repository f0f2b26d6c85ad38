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
