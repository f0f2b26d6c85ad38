"""The fixture harness: run one rule over its own bad/ and good/ examples through the real engine.

Every file under bad/ marks each line that must get a finding with `# expect: ID` (several ids are
comma-separated); files without comments (JSON, Markdown) list `path:line ID` lines in an EXPECT file.
A fixture may be a single file or a directory holding a small repository. A directory fixture may hold
- `.prr-lint.yaml`: the configuration the fixture runs with (else the defaults);
- `.git-history`: commits to replay into a real git repository before the run, one per line,
  `YYYY-MM-DD path [path ...]` (those files, as they are, committed at that date); any other file is
  committed last, at the fixture's today. A line `shallow N` makes the run use a `--depth N` clone.
Markers check rule, file and line; the snapshot beside each bad fixture (`<name>.snap`, one
`file:line:col ID message` line per finding) checks what users read, compared exactly.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import tempfile

from .config import Config, load_config
from .engine import Options, run
from .escape import one_line
from .rule import Rule

EXPECT = re.compile(r"\s*#\s*expect:\s*([A-Z0-9_, ]+?)\s*$")
EXPECT_FILE = "EXPECT"
HISTORY_FILE = ".git-history"
SNAPSHOT_SUFFIX = ".snap"
FIXTURE_TODAY = datetime.date(2026, 11, 1)


def fixtures(rule_dir: str, sub: str) -> list[str]:
    base = os.path.join(rule_dir, sub)
    if not os.path.isdir(base):
        return []
    return sorted(os.path.join(base, n) for n in os.listdir(base)
                  if n != EXPECT_FILE and not n.startswith(".") and not n.endswith(SNAPSHOT_SUFFIX))


def expect_marker(line: str) -> tuple[list[str], str] | None:
    """The one parser of `# expect: ID[, ID]` markers: (ids, the line without the marker), or None."""
    m = EXPECT.search(line.rstrip("\r\n"))
    if not m:
        return None
    return [rid.strip() for rid in m.group(1).split(",") if rid.strip()], line[:m.start()]


def _expect_file(path: str) -> set[tuple[str, str, int]]:
    """The `path:line ID` lines of an EXPECT file (for files that cannot hold a comment)."""
    out = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                where, rule_id = line.split()
                file, lineno = where.rsplit(":", 1)
                out.add((rule_id, file, int(lineno)))
    return out


def expected(fixture: str) -> set[tuple[str, str, int]]:
    """(rule id, file relative to the fixture, line) pairs marked in a fixture."""
    out = set()
    root = fixture if os.path.isdir(fixture) else os.path.dirname(fixture)
    files = [fixture] if os.path.isfile(fixture) else [
        os.path.join(d, n) for d, _, names in os.walk(fixture) for n in names]
    for path in files:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        if os.path.basename(path) == EXPECT_FILE:
            out.update(_expect_file(path))
            continue
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                marker = expect_marker(line)
                if marker:
                    out.update((rid, rel, n) for rid in marker[0])
    if os.path.isfile(fixture):
        # a single-file fixture takes its own lines of the EXPECT file beside it
        sidecar = os.path.join(os.path.dirname(fixture), EXPECT_FILE)
        if os.path.exists(sidecar):
            name = os.path.basename(fixture)
            out.update(e for e in _expect_file(sidecar) if e[1] == name)
    return out


def snapshot_path(fixture: str) -> str:
    """The snapshot of a bad fixture (file or directory) sits beside it: `<name>.snap`."""
    return fixture.rstrip("/" + os.sep) + SNAPSHOT_SUFFIX


def stray_snapshots(rule_dir: str) -> list[str]:
    """Snapshots under bad/ or good/ that no bad fixture owns (left behind by a renamed or removed fixture)."""
    out = []
    for sub in ("bad", "good"):
        base = os.path.join(rule_dir, sub)
        names = os.listdir(base) if os.path.isdir(base) else []
        owned = {snapshot_path(f) for f in fixtures(rule_dir, sub)} if sub == "bad" else set()
        out += sorted(p for p in (os.path.join(base, n) for n in names if n.endswith(SNAPSHOT_SUFFIX))
                      if p not in owned)
    return out


def snapshot(findings) -> str:
    """What users read of a rule's findings, one `file:line:col ID message` line each, in report order."""
    return "".join(f"{one_line(f.file)}:{f.span.line}:{f.span.col} {one_line(f.rule_id)} {one_line(f.message)}\n"
                   for f in sorted(findings, key=lambda f: f.sort_key()))


RULE_ERROR = "PRR007"
RAISE_ANNOTATION = "prr-lint.test/raise"


def _raise_on_annotation(doc, _ctx):
    value = doc.get(("metadata", "annotations", RAISE_ANNOTATION))
    if value is not None:
        raise RuntimeError(str(value))
    return ()


# a rule only the harness has, so that PRR007's own fixtures can show a rule failing on a document
RAISING_RULE = Rule.from_meta({
    "id": "TEST999", "name": "fixture-raises", "summary": "Raises on an object annotated " + RAISE_ANNOTATION,
    "why": "Test-only.", "fix": "Test-only.", "targets": ["k8s"], "severity": "error"}, _raise_on_annotation)


def actual(fixture: str, rule_id: str, extra_rules=(), config: Config | None = None) -> set[tuple[str, str, int]]:
    """(rule id, file, line) of the findings of one rule on a fixture."""
    return {(f.rule_id, f.file, f.span.line) for f in findings(fixture, rule_id, extra_rules, config)}


def findings(fixture: str, rule_id: str, extra_rules=(), config: Config | None = None) -> list:
    """The findings of one rule on a fixture, copied into a clean directory.
    A rule that raises on a fixture (PRR007) fails the harness, except in PRR007's own fixtures."""
    with tempfile.TemporaryDirectory(prefix="prr-fixture-") as tmp:
        repo = os.path.join(tmp, "repo")
        if os.path.isdir(fixture):
            shutil.copytree(fixture, repo)
        else:
            os.makedirs(repo)
            shutil.copy(fixture, repo)
        if config is None and os.path.isfile(os.path.join(repo, ".prr-lint.yaml")):
            config = load_config(os.path.join(repo, ".prr-lint.yaml"))
        history = os.path.join(repo, HISTORY_FILE)
        if os.path.isfile(history):
            repo = replay_history(repo, history, FIXTURE_TODAY)
        select, extra_rules = [rule_id], list(extra_rules)
        if rule_id == RULE_ERROR:
            select, extra_rules = select + [RAISING_RULE.id], extra_rules + [RAISING_RULE]
        options = Options(paths=[repo], config=config or Config(), root=repo, select=select,
                          today=FIXTURE_TODAY, use_cache=False, extra_rules=extra_rules)
        result = run(options)
        if result.errors:
            raise AssertionError("; ".join(result.errors))
        failed = [f"{f.file}:{f.span.line}: {f.message}" for f in result.findings
                  if f.rule_id == RULE_ERROR and rule_id != RULE_ERROR]
        if failed:
            raise AssertionError(f"a rule raised on fixture {fixture}: " + "; ".join(failed))
        return [f for f in result.findings if f.rule_id == rule_id]


def _git(cwd: str, *args: str, date: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="prr-lint fixture", GIT_AUTHOR_EMAIL="fixture@prr-lint.invalid",
               GIT_COMMITTER_NAME="prr-lint fixture", GIT_COMMITTER_EMAIL="fixture@prr-lint.invalid")
    if date:
        env.update(GIT_AUTHOR_DATE=f"{date}T12:00:00+00:00", GIT_COMMITTER_DATE=f"{date}T12:00:00+00:00")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=60).stdout


def replay_history(repo: str, history: str, today: datetime.date) -> str:
    """Turn a fixture copy into a git repository with the commits `.git-history` lists; returns the
    directory to run in (a shallow clone of it when asked for)."""
    with open(history, encoding="utf-8") as fh:
        lines = [line.split() for line in fh if line.strip() and not line.lstrip().startswith("#")]
    os.remove(history)
    _git(repo, "init", "-q", "-b", "main")
    depth = None
    for n, parts in enumerate(lines, 1):
        if parts[0] == "shallow" and len(parts) == 2 and parts[1].isdigit():
            depth = int(parts[1])
            continue
        day = datetime.date.fromisoformat(parts[0])
        if len(parts) < 2:
            raise ValueError(f"{history}:{n}: expected `YYYY-MM-DD path [path ...]`")
        _git(repo, "add", "--", *parts[1:])
        _git(repo, "commit", "-q", "--allow-empty", "-m", f"fixture commit {n}", date=day.isoformat())
    _git(repo, "add", "-A")
    if lines == [] or _git(repo, "status", "--porcelain"):
        _git(repo, "commit", "-q", "--allow-empty", "-m", "fixture: remaining files", date=today.isoformat())
    if depth is None:
        return repo
    clone = repo + "-shallow"
    _git(os.path.dirname(repo), "clone", "-q", "--depth", str(depth), "file://" + repo, clone)
    return clone
