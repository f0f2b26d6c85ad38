"""Cost grows with the repository, never faster: doubling a generated monorepo at most about doubles the work
of a run and of the reporters. Work is counted (Python calls, finding attribute reads, git processes), never
timed, so the tests give the same answer on a loaded machine."""

import os
import subprocess
import sys

import git as gitpython
import pytest

from prr_lint import reporters
from prr_lint.config import Config, load_config
from prr_lint.engine import Options, run
from prr_lint.model import Finding

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from generate import generate  # noqa: E402

SMALL = 12
# constant start-up work makes the ratio of a linear run fall below 2; a services x findings step gives ~4
LINEAR = 2.2

OPENSLO = """apiVersion: openslo/v1
kind: SLO
metadata: {{name: latency-{i}}}
spec:
  service: svc-{i}
  budgetingMethod: Occurrences
  objectives: [{{targetPercent: 99.9}}]
  timeWindow: [{{duration: 28d, isRolling: true}}]
"""


def monorepo(path, n: int) -> str:
    root = str(path)
    generate(n, root)
    # an OpenSLO document per service: SLO ownership is looked up once per document
    for i in range(n):
        with open(os.path.join(root, "services", f"svc-{i}", "slo.yaml"), "w") as fh:
            fh.write(OPENSLO.format(i=i))
    return root


def options(root: str) -> Options:
    return Options(paths=[root], config=load_config(os.path.join(root, ".prr-lint.yaml")), root=root,
                   use_cache=False)


def calls_of(fn) -> tuple[int, object]:
    """Python function calls made by fn(): work that does not depend on the machine's speed."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        value = fn()
    finally:
        sys.setprofile(None)
    return count, value


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(python calls, result) of a whole run at N, 2N and 4N services."""
    out = {}
    roots = {n: monorepo(tmp_path_factory.mktemp(f"mono{n}"), n) for n in (SMALL, 2 * SMALL, 4 * SMALL)}
    run(options(roots[SMALL]))          # imports and compiled schemas are one-time work: not counted
    for n, root in roots.items():
        out[n] = calls_of(lambda root=root: run(options(root)))
    return out


def test_a_run_over_twice_the_services_costs_at_most_about_twice(runs):
    (c1, r1), (c2, r2), (c4, r4) = runs[SMALL], runs[2 * SMALL], runs[4 * SMALL]
    assert [len(r.services) for r in (r1, r2, r4)] == [SMALL, 2 * SMALL, 4 * SMALL]
    assert len(r4.findings) >= 2 * len(r2.findings) >= 4 * len(r1.findings) > 0
    # every SLO document found its service
    assert sum(1 for d in r4.docs if d.kind == "openslo" and d.service) == 4 * SMALL
    assert c2 <= LINEAR * c1, (c1, c2)
    # the work the second doubling adds, start-up left out: about twice what the first one added
    assert c4 - c2 <= LINEAR * (c2 - c1), (c1, c2, c4)


def _finding_reads(result, fmt: str) -> int:
    """How many times rendering reads an attribute of a finding."""
    count = 0
    original = Finding.__getattribute__

    def counting(self, name):
        nonlocal count
        count += 1
        return original(self, name)

    Finding.__getattribute__ = counting
    try:
        reporters.render(fmt, result)
    finally:
        Finding.__getattribute__ = original
    return count


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_reporters_visit_each_finding_a_bounded_number_of_times(runs, fmt):
    r1, r2 = runs[SMALL][1], runs[2 * SMALL][1]
    small, large = _finding_reads(r1, fmt), _finding_reads(r2, fmt)
    assert small > 0
    assert large <= LINEAR * small * len(r2.findings) / (2 * len(r1.findings)), (small, large)


def test_slo_ownership_does_not_compare_services(runs):
    """`slo_owner` once compared services with their dataclass __eq__ (list.index inside max)."""
    from prr_lint.service import Service

    calls = 0
    original = Service.__eq__

    def counting(self, other):
        nonlocal calls
        calls += 1
        return original(self, other)

    Service.__eq__ = counting
    try:
        graph = runs[2 * SMALL][1].graph
        docs = [d for d in runs[2 * SMALL][1].docs if d.kind == "openslo"]
        owners = [graph.slo_owner(d) for d in docs]
    finally:
        Service.__eq__ = original
    assert calls == 0
    assert sorted(o.name for o in owners) == sorted(f"svc-{i}" for i in range(2 * SMALL))


# -- git history: one process for any number of runbooks ---------------------------------------------

ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "test",
       "GIT_AUTHOR_EMAIL": "test@prr-lint.invalid", "GIT_COMMITTER_NAME": "test",
       "GIT_COMMITTER_EMAIL": "test@prr-lint.invalid"}


def git_repo(path, n: int) -> str:
    root = str(path)
    generate(n, root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(ENV)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "services"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    # a later commit touches half the runbooks: the walk must tell the two dates apart
    for i in range(0, n, 2):
        with open(os.path.join(root, "services", f"svc-{i}", "docs", "runbook.md"), "a") as fh:
            fh.write("\nreviewed\n")
    env.update(GIT_COMMITTER_DATE="2026-10-01T12:00:00+00:00")
    subprocess.run(["git", "commit", "-qam", "review"], cwd=root, env=env, check=True, capture_output=True)
    return root


def git_processes(monkeypatch, root: str) -> tuple[int, object]:
    count = 0
    original = gitpython.cmd.safer_popen

    def counting(*args, **kwargs):
        nonlocal count
        count += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(gitpython.cmd, "safer_popen", counting)
    from prr_lint import git

    history = git.History(root)
    dates = {i: history.last_change(f"services/svc-{i}/docs/runbook.md") for i in range(len(os.listdir(
        os.path.join(root, "services"))))}
    history.close()
    monkeypatch.setattr(gitpython.cmd, "safer_popen", original)
    return count, dates


def test_git_history_starts_the_same_processes_for_any_number_of_runbooks(tmp_path, monkeypatch):
    few, dates_few = git_processes(monkeypatch, git_repo(tmp_path / "few", 2))
    many, dates_many = git_processes(monkeypatch, git_repo(tmp_path / "many", 16))
    assert few == many <= 3, (few, many)
    reviewed = {d.date for i, d in dates_many.items() if i % 2 == 0}
    untouched = {d.date for i, d in dates_many.items() if i % 2 == 1}
    assert len(reviewed) == 1 and len(untouched) == 1 and reviewed != untouched
    assert str(next(iter(reviewed))) == "2026-10-01"
    assert not any(d.pending for d in dates_many.values())


def test_svc022_over_many_services_runs_one_git_log(tmp_path, monkeypatch):
    root = git_repo(tmp_path / "repo", 8)
    logs = []
    original = gitpython.cmd.safer_popen

    def counting(command, *args, **kwargs):
        if "log" in command:
            logs.append(command)
        return original(command, *args, **kwargs)

    monkeypatch.setattr(gitpython.cmd, "safer_popen", counting)
    result = run(Options(paths=[root], config=Config(), root=root, select=["SVC022"], use_cache=False))
    assert not result.errors
    assert len(logs) == 1, logs


# -- warm runs: unchanged files are neither read nor hashed ------------------------------------------

def reads(monkeypatch, root: str, home: str, *paths) -> tuple[list, object]:
    """(files read, result) of a cached run on `paths` (the whole root when none)."""
    from prr_lint import repo as repo_module

    seen = []
    original = repo_module.read_bytes

    def counting(path, *args, **kwargs):
        seen.append(os.path.relpath(path, root))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(repo_module, "read_bytes", counting)
    result = run(Options(paths=[os.path.join(root, p) for p in paths] or [root], config=Config(), root=root,
                         cache_home=home))
    monkeypatch.setattr(repo_module, "read_bytes", original)
    return seen, [(f.rule_id, f.file, f.span.line) for f in result.findings]


def test_warm_runs_read_only_changed_files(tmp_path, monkeypatch):
    from prr_lint import cache

    monkeypatch.setattr(cache, "RACY_SECONDS", 0)   # files of a test are seconds old at most
    root = monorepo(tmp_path / "repo", 4)
    home = str(tmp_path / "home")
    cold, expected = reads(monkeypatch, root, home)
    assert len(cold) >= 40
    warm, got = reads(monkeypatch, root, home)
    assert warm == [] and got == expected
    deploy = "services/svc-1/k8s/deployment.yaml"
    one, before = reads(monkeypatch, root, home, deploy)
    assert one == [] and not [f for f in before if f[0] == "K8S005"]
    # an edit that keeps size and mtime still changes the ctime: the file is read again, and the edit seen
    path = os.path.join(root, deploy)
    st = os.stat(path)
    with open(path) as fh:
        text = fh.read()
    assert "replicas: 3" in text
    with open(path, "w") as fh:
        fh.write(text.replace("replicas: 3", "replicas: 1"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(path).st_size, os.stat(path).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    again, got = reads(monkeypatch, root, home, deploy)
    assert again == [deploy]
    assert [f for f in got if f[0] == "K8S005"] and got == reads(monkeypatch, root, home, deploy)[1]


def test_a_file_changed_just_before_it_was_stamped_is_read_again(tmp_path, monkeypatch):
    from prr_lint import cache

    monkeypatch.setattr(cache, "RACY_SECONDS", 3600)   # every file is "just changed"
    root = monorepo(tmp_path / "repo", 2)
    home = str(tmp_path / "home")
    cold, expected = reads(monkeypatch, root, home)
    warm, got = reads(monkeypatch, root, home)
    assert sorted(warm) == sorted(cold) and got == expected   # read and hashed, not parsed: the same answer
