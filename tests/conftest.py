import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRR = os.path.join(os.path.dirname(sys.executable), "prr-lint")

# The sample's dates (rollback and DR tests, waiver expiry) are judged as of this day, so the suite gives
# the same answer next year. Tests that are about dates pass their own --today.
os.environ.setdefault("PRR_LINT_TODAY", "2026-11-23")

# the kustomize scripts/test installs when neither kustomize nor kubectl is on PATH (Kustomize overlay tests)
LOCAL_KUSTOMIZE = os.path.join(ROOT, ".venv", "kustomize", "bin")
if os.path.isdir(LOCAL_KUSTOMIZE) and LOCAL_KUSTOMIZE not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = LOCAL_KUSTOMIZE + os.pathsep + os.environ.get("PATH", "")


def require_kustomize() -> None:
    """Skip a test that builds Kustomize overlays when no kustomize or kubectl is there; under CI, fail it."""
    import shutil

    if not (shutil.which("kustomize") or shutil.which("kubectl")):
        if os.environ.get("CI") == "true":
            pytest.fail("no kustomize or kubectl on PATH: run scripts/test, which installs one")
        pytest.skip("no kustomize or kubectl on PATH (scripts/test installs one)")


GOLDEN = os.path.join(ROOT, "tests", "golden")
# PRR_UPDATE_SNAPSHOTS=1 rewrites golden files and rule fixture snapshots; PRR_UPDATE_GOLDEN=1 is its older name
UPDATE_ENV = "PRR_UPDATE_SNAPSHOTS"


def updating() -> bool:
    return any(os.environ.get(name, "") not in ("", "0") for name in (UPDATE_ENV, "PRR_UPDATE_GOLDEN"))


def golden(path: str, text: str, how: str = "pytest tests/") -> None:
    """Compare `text` exactly with a golden file (a name under tests/golden, or a full path); with
    PRR_UPDATE_SNAPSHOTS=1 write it instead, then review the diff before committing it."""
    path = path if os.path.isabs(path) else os.path.join(GOLDEN, path)
    rerun = f"{UPDATE_ENV}=1 {how}"
    if updating():
        current = None
        if os.path.exists(path):
            with open(path, encoding="utf-8", newline="") as fh:
                current = fh.read()
        if current != text:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
    if not os.path.exists(path):
        pytest.fail(f"missing {os.path.relpath(path, ROOT)}: create it with `{rerun}`", pytrace=False)
    with open(path, encoding="utf-8", newline="") as fh:
        want = fh.read()
    assert text == want, f"{os.path.relpath(path, ROOT)} differs from the output (`{rerun}` rewrites it)"


# A Deployment with no resources, probes or replicas: a workload every Kubernetes rule has something to say about
# (K8S002 at its container), used where a test needs one real finding beside the input it is about.
BARE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: web:1.0
"""


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


def git(cwd, *args) -> str:
    """`git ARGS` in `cwd` as a test's author (no signing): its standard output; a failure fails the test."""
    env = dict(os.environ, GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@example.com",
               GIT_COMMITTER_NAME="ci", GIT_COMMITTER_EMAIL="ci@example.com")
    return subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout


def write(base, files: dict):
    for rel, content in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as fh:
            fh.write(content)
    return base


@pytest.fixture
def promql_parses(monkeypatch):
    """fresh() -> the list of expressions the PromQL parser parses from then on, with prr-lint's in-process
    caches emptied (as in a new process); emptied again after the test."""
    import promql_parser

    from prr_lint.checks import promql

    parsed: list = []
    real_parse = promql_parser.parse

    def counted_parse(expr):
        parsed.append(expr)
        return real_parse(expr)

    def fresh() -> list:
        for cached in (promql.parse, promql._facts, promql._text_facts):
            cached.cache_clear()
        parsed.clear()
        return parsed

    monkeypatch.setattr(promql_parser, "parse", counted_parse)
    yield fresh
    fresh()
