"""The README's waiver examples are copy-paste ready: they validate and waive what they say on a real run."""

import os
import re

from prr_lint.loaders.yamlread import load_yaml
from prr_lint.schemas import schema_errors

from ci_sample import found, make_repo, report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _blocks(lang):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        return re.findall(rf"```{lang}\n(.*?)```", fh.read(), re.S)


def test_readme_waiver_file_validates_and_waives(cli, tmp_path):
    text = next(b for b in _blocks("yaml") if b.startswith("# .prr-waivers.yaml"))
    assert schema_errors(load_yaml(text)[0][0], "waivers.schema.json") == []
    repo = make_repo(tmp_path / "repo")
    (repo / ".prr-waivers.yaml").write_text(text)
    code, rep, _ = report(cli, repo, "--today", "2027-01-01")
    assert code == 0
    assert [f[0] for f in found(rep, suppressed=True)] == ["K8S002", "TF002"]


def test_readme_inline_hcl_waiver_works(cli, tmp_path):
    from ci_sample import FILES, TERRAFORM

    line = next(b for b in _blocks("hcl") if "prr-lint: disable=" in b).strip()
    tf = TERRAFORM.replace("deletion_protection     = false", line)
    repo = make_repo(tmp_path / "repo", {**FILES, "services/checkout/infra/main.tf": tf})
    _, rep, _ = report(cli, repo)
    assert ("TF002", "services/checkout/infra/main.tf", 12) in found(rep, suppressed=True)
