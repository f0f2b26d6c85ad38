"""The git listing starts as soon as the command line names the repository, and is the run's only listing: counted
(processes started, and what happened before), not timed."""

import os
import subprocess

import pytest
from test_linear_cost import monorepo

from prr_lint import cli, engine, prestart

EDITED = "services/svc-1/k8s/deployment.yaml"


@pytest.fixture
def git_processes(monkeypatch):
    """(events, processes): every git process started, in order with the engine's construction."""
    events: list[str] = []
    processes: list[subprocess.Popen] = []
    popen = subprocess.Popen

    class Counted(popen):
        def __init__(self, args, **kwargs):
            super().__init__(args, **kwargs)
            if args[0] == "git":
                events.append(" ".join(args[3:5]) if args[1] == "-C" else args[1])
                processes.append(self)
                env = kwargs.get("env") or {}
                self.config = [(env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"])
                               for i in range(int(env.get("GIT_CONFIG_COUNT", 0)))]

    init = engine.Engine.__init__

    def constructed(self, options):
        events.append("engine")
        init(self, options)

    monkeypatch.setattr(subprocess, "Popen", Counted)
    monkeypatch.setattr(engine.Engine, "__init__", constructed)
    return events, processes


def _repo(tmp_path, monkeypatch, git_processes) -> str:
    root = monorepo(tmp_path / "mono", 2)
    subprocess.run(["git", "init", "-q", root], check=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRR_LINT_TODAY", "2026-01-01")
    monkeypatch.chdir(root)
    events, processes = git_processes
    events.clear()
    processes.clear()
    return root


def test_check_starts_its_one_listing_before_the_engine_exists(tmp_path, monkeypatch, git_processes):
    _repo(tmp_path, monkeypatch, git_processes)
    events, processes = git_processes
    out = str(tmp_path / "report.json")
    assert cli.main(["check", "--format", "json", "-o", out, EDITED]) in (0, 1)
    assert events.index("ls-files -z") < events.index("engine")
    assert events.count("ls-files -z") == 1
    assert all(p.returncode is not None for p in processes)
    # no git the run started may run a program its repository's config names
    assert processes and all(("core.fsmonitor", "false") in p.config for p in processes)
    first = open(out, encoding="utf-8").read()
    # the same run with the listing made where it is needed: the same report
    monkeypatch.setattr(cli, "_start_listing", lambda args: None)
    assert cli.main(["check", "--format", "json", "-o", out, "--no-cache", EDITED]) in (0, 1)
    assert events.count("ls-files -z") == 2
    assert open(out, encoding="utf-8").read() == first


def test_a_listing_no_run_takes_is_killed_when_the_command_ends(tmp_path, monkeypatch, git_processes):
    _repo(tmp_path, monkeypatch, git_processes)
    events, processes = git_processes
    assert cli.main(["check", "-c", "no-such-config.yaml", "."]) == 2      # fails before anything lists
    assert events == ["ls-files -z"]
    assert processes[0].returncode is not None
    assert prestart.take(os.getcwd()) is None


def test_a_listing_is_taken_only_for_its_own_root_and_only_once(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    for path in (one, other):
        subprocess.run(["git", "init", "-q", str(path)], check=True)
    (one / "a.yaml").write_text("a: 1\n")
    prestart.start(str(one))
    try:
        assert prestart.take(str(other)) is None
        proc = prestart.take(str(one))
        assert proc is not None and prestart.take(str(one)) is None
        with proc:
            out, _ = proc.communicate(timeout=60)
        assert out == b"a.yaml\0"
    finally:
        prestart.stop()


def test_commands_that_run_no_rules_start_no_listing(tmp_path, monkeypatch, git_processes):
    _repo(tmp_path, monkeypatch, git_processes)
    events, _ = git_processes
    assert cli.main(["report", "--from", "no-such-report.json"]) == 2
    assert cli.main(["rules", "--format", "json"]) == 0
    assert "ls-files -z" not in events
