"""Fuzzing: real inputs, mutated, through every loader, the Markdown reader and the whole CLI.

What must hold for any input a pull request can hold: no traceback and no internal error, an exit code of 0, 1
or 2, no hang (every file has a time budget) and no memory blow-up (the CLI runs under an address-space limit).

The seeds are the project's own files: rule fixtures, the sample monorepo, the golden repository. In CI the runs
are derandomized and bounded; for a longer hunt set PRR_FUZZ_EXAMPLES (e.g. 20000) and PRR_FUZZ_RANDOM=1:

    PRR_FUZZ_EXAMPLES=20000 PRR_FUZZ_RANDOM=1 .venv/bin/python -m pytest tests/test_fuzz.py -p no:cacheprovider \
        --hypothesis-show-statistics
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PRR, ROOT, write

EXAMPLES = int(os.environ.get("PRR_FUZZ_EXAMPLES", "150"))
RANDOM = os.environ.get("PRR_FUZZ_RANDOM") == "1"
FILE_BUDGET_S = 5            # one file through one loader
CLI_BUDGET_S = 60            # one whole CLI run on a small repository
CLI_MEMORY = 2 << 30         # address space of one CLI run

SEED_DIRS = ("rules", "examples", "tests/data/golden-repo")
SEED_ENDINGS = (".yaml", ".yml", ".tf", ".json", ".md")

# Fragments that stress parsers: YAML structure and tags, aliases, HCL syntax, numbers, encodings, line breaks,
# templating, Markdown links and headings, waiver comments, path tricks.
TOKENS = [
    b"[", b"{", b"]", b"}", b"&a ", b"*a", b"<<: *a\n", b"!!python/object/apply:os.system ['touch /tmp/pwned']",
    b"!!binary", b"? ", b"- ", b": ", b"---\n", b"...\n", b"%YAML 1.1\n", b"\t", b"\r", b"\r\n", b"\x00", b"\xff",
    b"\xc3", "\u2028".encode(), "\ufeff".encode(), "\ufffe".encode(), b"\x1b[31m", b"\x0b", b"\x85",
    b"0x10", b"1e400", b"-.inf", b".nan", b"9" * 5000, b"2026-13-40", b"~", b"null", b"true", b"off",
    b'"', b"'", b"\\", b"#", b"// ", b"/* ", b"*/", b"<<EOT\n", b"EOT\n", b"${var.x}", b"%{ if x }", b"{{ .Values }}",
    b"${{ values.name }}", b"{%- if x %}", b"module \"m\" { source = \"../..\" }\n", b"locals = 5\n",
    b"resource = 5\n", b"](", b"![", b"[x](#", b"# ", b"\n## h\n", b"<a name=\"x\">", b"`", b"```\n",
    b"# prr-lint: disable=K8S003 reason=x\n", b"../../../../etc/passwd", b"/dev/stdin", b"file:///etc/passwd",
    b"apiVersion: v1\nkind: Pod\n", b"kind: List\nitems:\n", b"groups:\n- name: g\n  rules:\n",
    b"sum(rate(x[5m])) / " * 40, b"(" * 300, b")" * 300, b"maxUnavailable: \"\xc2\xb2\"\n",
    b'"format_version": "1.2", "resource_changes": [', b"[" * 700, b"]" * 700,
]


def _seeds() -> list[tuple[str, bytes]]:
    out = []
    for top in SEED_DIRS:
        for dirpath, _dirs, names in os.walk(os.path.join(ROOT, top)):
            for name in sorted(names):
                if name.endswith(SEED_ENDINGS):
                    path = os.path.join(dirpath, name)
                    with open(path, "rb") as fh:
                        data = fh.read()
                    if len(data) <= 64 * 1024:
                        out.append((os.path.relpath(path, ROOT).replace(os.sep, "/"), data))
    return sorted(out)


# Small hostile files, so that mutation starts close to the shapes that broke parsers and rules before.
HOSTILE_SEEDS = [
    ("hostile/hex.tf", b'resource "aws_db_instance" "db" {\n  backup_retention_period = 0x10\n}\n'),
    ("hostile/same-name.tf", b'resource "aws_db_instance" "db" {\n  tags = {}\n  tags {\n  }\n}\n'),
    ("hostile/scalars.tf", b"locals = 5\nresource = 5\nmodule = 1\nvariable = {}\n"),
    ("hostile/plan.json", b'{"format_version": "1.2", "resource_changes": [{"address": "a", "type": "aws_db_instance",'
                          b' "change": {"actions": ["create"], "after": {"backup_retention_period": ' + b"9" * 5000
                          + b"}}}]}\n"),
    ("hostile/deep-plan.json", b'{"format_version": "1.2", "resource_changes": ' + b"[" * 600 + b"]" * 600 + b"}\n"),
    ("hostile/pdb.yaml", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec:\n"
                         "  maxUnavailable: \"\u00b2\"\n  selector: {matchLabels: {app: a}}\n".encode()),
    ("hostile/quoted.yaml", b"apiVersion: v1\nkind: ConfigMap\ndata:\n  x: \"" + b"[" * 250 + b"\"\n"),
    ("hostile/dup.yaml", b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: 3\n"
                         b"  replicas: 1\n"),
    ("hostile/alerts.yaml", b"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: " + b"a + " * 3000 + b"a\n"
                            b"    labels: {severity: critical}\n"),
    ("hostile/heading.md", b"# " + b"![" * 4000 + b"\n"),
]
SEEDS = _seeds()


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    """A seed file with a few random edits: insert a token or random bytes, delete, duplicate, truncate."""
    # half the draws start from a hostile seed, which may also be left as it is
    rel, data = draw(st.one_of(st.sampled_from(HOSTILE_SEEDS), st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        n = len(data)
        pos = draw(st.integers(0, n))
        op = draw(st.sampled_from(("token", "bytes", "delete", "duplicate", "truncate", "repeat")))
        if op == "token":
            data = data[:pos] + draw(st.sampled_from(TOKENS)) + data[pos:]
        elif op == "bytes":
            data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
        elif op == "delete":
            data = data[:pos] + data[pos + draw(st.integers(1, 64)):]
        elif op == "duplicate":
            size = draw(st.integers(1, 400))
            data = data[:pos + size] + data[pos:pos + size] + data[pos + size:]
        elif op == "truncate":
            data = data[:pos]
        else:  # a line repeated many times: long files, many documents, many keys
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            line = data[start:end if end >= 0 else n] + b"\n"
            # bounded so that a budget measures work per byte, not a file far over max_file_size
            times = min(draw(st.integers(2, 2000)), max(2, (512 << 10) // len(line)))
            data = data[:start] + line * times + data[start:]
    return rel, data


def _profile(examples: int = EXAMPLES):
    return settings(max_examples=examples, deadline=None, derandomize=not RANDOM, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _budget(seconds: int, what: str):
    def expired(_sig, _frame):
        raise _Timeout(f"{what}: still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _kind_for(rel: str) -> str | None:
    from prr_lint.loaders import candidate_kind

    directory = os.path.dirname(rel)
    charts = {directory} if os.path.basename(rel).startswith(("Chart.", "values")) else set()
    return candidate_kind(rel, charts)


@pytest.mark.slow
@_profile()
@given(mutated())
def test_every_loader_survives_mutated_input(sample):
    """Each loader turns any bytes into documents, an error at a line, or a notice: never an exception."""
    from prr_lint.checks.links import markdown_anchors, markdown_headings
    from prr_lint.loaders import Loaded, load_file

    rel, data = sample
    if rel.endswith(".md"):
        text = data.decode("utf-8", "replace")
        with _budget(FILE_BUDGET_S, f"markdown {rel}"):
            assert isinstance(markdown_headings(text), list)
            assert isinstance(markdown_anchors(text), list)
        return
    how = _kind_for(rel) or "yaml"
    directory = os.path.dirname(rel)
    with _budget(FILE_BUDGET_S, f"{how} loader on {rel}"):
        result = load_file("/nonexistent", rel, how, {directory}, 5 << 20, data)
    assert isinstance(result, Loaded)
    if result.error is not None:
        assert result.error.line >= 1 and result.error.message


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY, CLI_MEMORY))


SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata: {name: fuzzed, owner: team-a, tier: 1}
spec:
  runbooks: [runbook.md]
  alerts: [alerts.yaml]
"""


@pytest.mark.slow
@_profile(max(10, EXAMPLES // 8))
@given(st.lists(mutated(), min_size=1, max_size=3))
@pytest.mark.slow
def test_the_cli_survives_a_repository_of_mutated_files(tmp_path_factory, samples):
    """The whole CLI over a small repository of mutated files: exit 0/1/2, no traceback, no internal error,
    no hang, bounded memory; every file it could not read is a PRR000 finding, not a lost run."""
    repo = tmp_path_factory.mktemp("fuzz")
    files = {"svc/service.yaml": SERVICE, "svc/runbook.md": "# Runbook\n## Rollback\n"}
    for i, (rel, data) in enumerate(samples):
        name = os.path.basename(rel)
        if name.endswith(".md"):
            target = "svc/runbook.md"
        elif name.startswith(("Chart.", "values")):
            files.setdefault("svc/chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
            target = f"svc/chart/{name}"
        else:
            target = f"svc/f{i}/{name}"
        files[target] = data
    write(str(repo), files)
    env = {**os.environ, "NO_COLOR": "1", "PRR_LINT_TODAY": "2026-11-23"}
    env.pop("PRR_LINT_DEBUG", None)
    try:
        proc = subprocess.run([PRR, "check", "--no-cache", "--format", "json", str(repo)], cwd=str(repo),
                              capture_output=True, timeout=CLI_BUDGET_S, env=env, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"prr-lint check hung on {[rel for rel, _ in samples]}")
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1, 2), (proc.returncode, stderr[-2000:])
    assert "Traceback" not in stderr, stderr[-4000:]
    assert "internal error" not in stderr, stderr[-2000:]
    if proc.returncode in (0, 1):
        import json

        report = json.loads(proc.stdout)
        assert isinstance(report["findings"], list)


def test_seeds_cover_every_input_kind():
    """The fuzzer starts from real files of each kind it is meant to exercise."""
    endings = {os.path.splitext(rel)[1] for rel, _ in SEEDS + HOSTILE_SEEDS}
    assert {".yaml", ".tf", ".json", ".md"} <= endings, endings
    assert len(SEEDS) > 100
