import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRR = os.path.join(os.path.dirname(sys.executable), "prr-lint")

# The sample's dates (rollback and DR tests, waiver expiry) are judged as of this day, so the suite gives
# the same answer next year. Tests that are about dates pass their own --today.
os.environ.setdefault("PRR_LINT_TODAY", "2026-11-23")


def shared_schema(name: str) -> str:
    """A published schema: from ../shared/schemas beside the checkout when there is one, else our copy."""
    beside = os.path.join(os.path.dirname(ROOT), "shared", "schemas", name)
    return beside if os.path.exists(beside) else os.path.join(ROOT, "tests", "data", "schemas", name)


def sarif_errors(log) -> list:
    """Messages of every error of a SARIF log against the SARIF 2.1.0 schema GitHub uses."""
    import json

    import jsonschema

    with open(shared_schema("sarif-schema-2.1.0.json"), encoding="utf-8") as fh:
        schema = json.load(fh)
    cls = jsonschema.validators.validator_for(schema)
    return [e.message for e in cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(log)]


def run_cli(*args, cwd=None, env=None):
    """The real installed console script, as a user runs it."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run([PRR, *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=300)


@pytest.fixture
def cli():
    return run_cli


def write(base, files: dict):
    for rel, content in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as fh:
            fh.write(content)
    return base
