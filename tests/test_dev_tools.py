"""The project's own development tools: ruff and mypy configured in pyproject.toml, run by scripts/test (what
.ci/run runs) before the tests, and a pre-commit configuration that pre-commit accepts."""

import os
import subprocess
import sys
import tomllib

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRICT_MODULES = ["prr_lint.model", "prr_lint.rule", "prr_lint.engine", "prr_lint.reporters.*"]


def pyproject() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        return tomllib.load(fh)


def test_scripts_test_runs_ruff_then_mypy_then_pytest_with_its_arguments():
    with open(os.path.join(ROOT, "scripts", "test"), encoding="utf-8") as fh:
        lines = [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    assert "set -euo pipefail" in lines           # a failing step fails the script
    steps = [ln for ln in lines if ln.startswith((".venv/bin/python -m ruff", ".venv/bin/python -m mypy",
                                                  "exec .venv/bin/python -m pytest"))]
    assert steps == [".venv/bin/python -m ruff check .", ".venv/bin/python -m mypy",
                     'exec .venv/bin/python -m pytest "$@"']
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as fh:
        assert "./scripts/test" in fh.read()


def test_ruff_and_mypy_configuration():
    tool = pyproject()["tool"]
    assert tool["ruff"]["line-length"] == 120
    assert set(tool["ruff"]["lint"]["select"]) == {"F", "E", "W", "I", "B", "UP"}
    assert tool["mypy"]["files"] == ["prr_lint"]
    extra = pyproject()["project"]["optional-dependencies"]["test"]
    assert {"ruff", "mypy", "types-PyYAML"} <= {d.split(">")[0].split("=")[0] for d in extra}


def test_strict_modules_get_every_per_module_flag_of_strict():
    # `strict = true` in an override would turn strict on everywhere (python/mypy#11401): the override lists the
    # flags instead, and must list all that `mypy --strict` sets for a module
    from mypy.main import process_options
    from mypy.options import PER_MODULE_OPTIONS

    # no config file: the defaults, and what --strict makes of them
    _, plain = process_options(["--config-file", os.devnull, "-c", "pass"])
    _, strict = process_options(["--config-file", os.devnull, "--strict", "-c", "pass"])
    wanted = {k: getattr(strict, k) for k in PER_MODULE_OPTIONS if getattr(strict, k, None) != getattr(plain, k, None)}
    assert "disallow_untyped_defs" in wanted
    section = next(o for o in pyproject()["tool"]["mypy"]["overrides"] if o["module"] == STRICT_MODULES)
    given = {("implicit_reexport" if k == "no_implicit_reexport" else k): (not v if k == "no_implicit_reexport" else v)
             for k, v in section.items() if k != "module"}
    assert {k: given.get(k) for k in wanted} == wanted
    assert "strict" not in section


def test_pre_commit_config_is_valid_and_runs_ruff_and_mypy():
    path = os.path.join(ROOT, ".pre-commit-config.yaml")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", path], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert set(hooks) == {"ruff", "mypy"}
    assert hooks["mypy"]["pass_filenames"] is False   # mypy checks the package as pyproject.toml configures it
