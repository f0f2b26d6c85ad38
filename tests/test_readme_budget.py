"""The README's error-budget examples are valid: the config block loads, the overrides file parses."""

import os
import re

from prr_lint.budget.overrides import load_overrides
from prr_lint.budget.policy import freezes, tier_policy
from prr_lint.config import load_config

from conftest import ROOT


def _section() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    return text.split("## Error-budget gate (Prometheus)", 1)[1].split("\n## ", 1)[0]


def _yaml_blocks() -> list:
    return re.findall(r"```yaml\n(.*?)```", _section(), re.S)


def test_readme_config_example_loads(tmp_path):
    (block,) = [b for b in _yaml_blocks() if b.startswith("error_budget:")]
    path = tmp_path / ".prr-lint.yaml"
    path.write_text(block)
    config = load_config(str(path))
    assert tier_policy(config.error_budget, 0).min_remaining_percent == 10
    assert tier_policy(config.error_budget, 1).min_remaining_percent == 0
    assert [f.reason for f in freezes(config.error_budget)] == ["end-of-year freeze"]


def test_readme_overrides_example_parses(tmp_path):
    (block,) = [b for b in _yaml_blocks() if b.startswith("# budget-overrides.yaml")]
    path = tmp_path / "budget-overrides.yaml"
    path.write_text(block)
    (override,) = load_overrides(str(path), "budget-overrides.yaml")
    assert (override.service, override.slo, override.approver, override.expires.isoformat()) == \
        ("checkout", "availability", "vp-engineering", "2026-11-30")
