"""`check --timing`: where a run's time went, on stderr, without changing the report or what is replayed."""

import itertools
import os
import re
import shutil

from prr_lint import timing as timing_module
from prr_lint.timing import TOP_RULES, Timing

from conftest import ROOT, run_cli

STAGES = ["start-up", "replay check", "garbage collection", "list files", "read and parse", "render", "rules",
          "findings", "store result", "report", "total"]


def _ticking(monkeypatch, step: float = 1.0):
    """A clock that moves `step` seconds each time it is read."""
    clock = itertools.count(0.0, step)
    monkeypatch.setattr(timing_module.time, "perf_counter", lambda: next(clock))


def test_a_stage_inside_another_is_counted_once(monkeypatch):
    _ticking(monkeypatch)
    t = Timing()                            # reads 0
    with t.stage("outer"):                  # 1
        with t.stage("inner"):              # 2
            pass                            # 3: inner took 1
        with t.stage("inner"):              # 4
            pass                            # 5: inner took 1 more
    # 6: outer took 5, of which 2 inside
    assert t.stages == {"outer": 3.0, "inner": 2.0}
    assert list(t.stages) == ["outer", "inner"]      # in the order they began


def test_rules_are_ranked_and_the_rest_summed():
    t = Timing(started=0.0)
    for n in range(TOP_RULES + 2):
        for _ in range(n + 1):
            t.rule(f"R{n:03d}", 0.5)
    lines = t.lines(total=9.0)
    assert lines[0] == "prr-lint timing (seconds)"
    assert lines[1] == "  total                    9.000"
    assert lines[2].split() == ["rule", "seconds", "calls"]
    ranked = [line.split() for line in lines[3:]]
    assert ranked[0] == [f"R{TOP_RULES + 1:03d}", f"{0.5 * (TOP_RULES + 2):.3f}", str(TOP_RULES + 2)]
    assert [r[0] for r in ranked[:TOP_RULES]] == [f"R{n:03d}" for n in range(TOP_RULES + 1, 1, -1)]
    assert ranked[TOP_RULES] == ["2", "more", "1.500", "3"]        # R001 (2 calls) and R000 (1 call)


def _stderr_table(stderr: str) -> dict:
    start = stderr.index("prr-lint timing (seconds)\n")
    out = {}
    for line in stderr[start:].splitlines()[1:]:
        m = re.fullmatch(r"  (\S.*?)\s+(\d+\.\d{3})(?:\s+(\d+))?", line)
        if m:
            out[m.group(1)] = (float(m.group(2)), int(m.group(3)) if m.group(3) else None)
    return out


def test_check_timing_reports_stages_and_rules_and_changes_no_report(tmp_path):
    repo = tmp_path / "monorepo"
    shutil.copytree(os.path.join(ROOT, "examples", "monorepo"), repo)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    timed = run_cli("check", "--timing", "--format", "json", str(repo), env={**env, "PRR_LINT_NO_REPLAY": "1"})
    plain = run_cli("check", "--format", "json", str(repo), env={**env, "PRR_LINT_NO_REPLAY": "1"})
    assert timed.returncode == plain.returncode == 1
    assert timed.stdout == plain.stdout and "timing" not in plain.stderr
    table = _stderr_table(timed.stderr)
    assert [name for name in table if name in STAGES] == STAGES
    assert abs(sum(table[s][0] for s in STAGES[:-1]) - table["total"][0]) < 0.01
    rules = {name: calls for name, (_, calls) in table.items() if calls is not None}
    assert rules and all(re.fullmatch(r"[A-Z][A-Z0-9]*\d{3}|\d+ more", name) for name in rules)
    assert len(rules) == TOP_RULES + 1 and list(rules)[-1].endswith(" more")
    # a service rule is called once for each of the sample's five services
    assert [calls for name, calls in rules.items() if name.startswith("SVC")] and \
        all(calls == 5 for name, calls in rules.items() if name.startswith("SVC"))


def test_timing_from_the_environment_does_not_stop_a_replay(tmp_path):
    repo = tmp_path / "monorepo"
    shutil.copytree(os.path.join(ROOT, "examples", "monorepo"), repo)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = run_cli("check", "--format", "json", str(repo), env=env)
    again = run_cli("check", "--format", "json", str(repo), env={**env, "PRR_LINT_TIMING": "1"})
    assert again.stdout == first.stdout
    assert "the result was replayed: no rule ran" in again.stderr
    table = _stderr_table(again.stderr)
    assert list(table) == ["start-up", "replay check", "report", "total"]


def test_a_rule_id_never_starts_a_workflow_command():
    t = Timing(started=0.0)
    t.rule("::error file=x::pwned\n::warning::x", 1.0)
    lines = t.lines(total=1.0)
    assert len(lines) == 4 and not any(line.lstrip().startswith("::") for line in lines)
