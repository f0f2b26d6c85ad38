"""A one-file run (pre-commit) on a warm cache does work that stays nearly flat as the repository grows, and
still sees every manifest that was changed, added, deleted, renamed, or written over another kind of file.
Work is counted (Python calls, files read, spans decoded), never timed."""

import os
import shutil
import subprocess
import sys

import pytest

from prr_lint import cache
from prr_lint import repo as repo_module
from prr_lint.config import Config
from prr_lint.engine import Options, run

from conftest import write

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from test_linear_cost import calls_of, monorepo  # noqa: E402

SMALL = 16
ONE = "services/svc-1/k8s/deployment.yaml"
# what one more service costs a one-file run: its manifest and SLO file decoded (without their spans) and
# joined into the graph (Backstage, duplicates, the dependency graph), each of its files named, stat-ed and
# matched against the scope (its Chart.yaml is not read: test_one_file_cost.py). A whole warm run costs about
# 4,500 calls per service: this bound still catches a one-file run that checks what it does not report.
CALLS_PER_SERVICE = 300


def one_file(root: str, home: str, rel: str, use_cache: bool = True):
    return run(Options(paths=[os.path.join(root, rel)], config=Config(), root=root, cache_home=home,
                       use_cache=use_cache))


def shown(result) -> list:
    return [(f.rule_id, f.file, f.span.line, f.severity, f.service, f.tier, f.message) for f in result.findings]


class Work:
    """What one call of `fn` read, decoded and called."""

    def __init__(self, monkeypatch, fn):
        self.reads, self.spans = [], 0
        read_bytes, decode_spans = repo_module.read_bytes, cache._spans

        def counting_read(path, *args, **kwargs):
            self.reads.append(path)
            return read_bytes(path, *args, **kwargs)

        def counting_spans(text):
            self.spans += 1
            return decode_spans(text)

        monkeypatch.setattr(repo_module, "read_bytes", counting_read)
        monkeypatch.setattr(cache, "_spans", counting_spans)
        self.calls, self.result = calls_of(fn)
        monkeypatch.setattr(repo_module, "read_bytes", read_bytes)
        monkeypatch.setattr(cache, "_spans", decode_spans)


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(cache, "RACY_SECONDS", 0)   # the files of a test are seconds old at most


def test_a_one_file_run_stays_nearly_flat_as_the_repository_doubles(tmp_path, monkeypatch, fresh):
    work = {}
    for n in (SMALL, 2 * SMALL, 4 * SMALL):
        root, home = monorepo(tmp_path / f"mono{n}", n), str(tmp_path / f"home{n}")
        # a work tree: git lists the files (in C), as in a pre-commit run; the walk without git is Python
        subprocess.run(["git", "init", "-q", root], check=True)
        run(Options(paths=[root], config=Config(), root=root, cache_home=home))     # fills the cache
        expected = shown(one_file(root, home, ONE, use_cache=False))
        work[n] = Work(monkeypatch, lambda root=root, home=home: one_file(root, home, ONE))
        assert shown(work[n].result) == expected
        assert work[n].reads == []          # nothing changed: no file read, none hashed
    small, large = work[SMALL], work[4 * SMALL]
    assert len(large.result.graph.services) == 4 * SMALL      # every manifest was read, for ownership
    # spans are decoded for the owning service's documents only, whatever the number of services
    assert 0 < small.spans == large.spans <= 12, (small.spans, large.spans)
    assert large.calls - small.calls <= CALLS_PER_SERVICE * 3 * SMALL, (small.calls, large.calls)


MANIFEST = """apiVersion: prr-lint/v1
kind: Service
metadata: {{name: {name}, owner: team-{name}, tier: {tier}}}
"""
DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: web:1.0
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {level: debug}
"""
TARGET = "apps/web/deployment.yaml"


def owner_and_tier(result) -> set:
    return {(f.service, f.tier) for f in result.findings if f.file == TARGET}


def check_same_as_uncached(root: str, home: str) -> set:
    got = one_file(root, home, TARGET)
    assert shown(got) == shown(one_file(root, home, TARGET, use_cache=False))
    return owner_and_tier(got)


def test_a_one_file_run_sees_every_manifest_change(tmp_path, fresh):
    root, home = str(tmp_path / "repo"), str(tmp_path / "home")
    write(tmp_path / "repo", {TARGET: DEPLOY, "apps/web/settings.yaml": CONFIGMAP,
                              "apps/other/service.yaml": MANIFEST.format(name="other", tier=1)})
    run(Options(paths=[root], config=Config(), root=root, cache_home=home))
    assert check_same_as_uncached(root, home) == {(None, 2)}              # unowned: default_tier
    # added
    write(tmp_path / "repo", {"apps/web/service.yaml": MANIFEST.format(name="web", tier=0)})
    assert check_same_as_uncached(root, home) == {("web", 0)}
    # changed
    write(tmp_path / "repo", {"apps/web/service.yaml": MANIFEST.format(name="web", tier=1)})
    assert check_same_as_uncached(root, home) == {("web", 1)}
    # renamed
    shutil.move(os.path.join(root, "apps/web/service.yaml"), os.path.join(root, "apps/web/prr.yaml"))
    assert check_same_as_uncached(root, home) == {("web", 1)}
    # deleted
    os.unlink(os.path.join(root, "apps/web/prr.yaml"))
    assert check_same_as_uncached(root, home) == {(None, 2)}
    # a file the cache knew as a ConfigMap is now a manifest: its stamp changed, so it is read again
    write(tmp_path / "repo", {"apps/web/settings.yaml": MANIFEST.format(name="web", tier=0)})
    assert check_same_as_uncached(root, home) == {("web", 0)}
    # a manifest elsewhere that claims the file
    os.unlink(os.path.join(root, "apps/web/settings.yaml"))
    write(tmp_path / "repo", {"apps/other/service.yaml": MANIFEST.format(name="other", tier=1)
                              + "spec: {deploy: {kubernetes: [/apps/web/]}}\n"})
    assert check_same_as_uncached(root, home) == {("other", 1)}


def test_a_one_file_run_asks_git_about_its_runbook_only(tmp_path, monkeypatch):
    import datetime

    import git as gitpython
    from test_linear_cost import git_repo

    root = git_repo(tmp_path / "repo", 4)
    manifest = "services/svc-1/service.yaml"
    statuses = []
    original = gitpython.cmd.safer_popen

    def counting(command, *args, **kwargs):
        if "status" in command:
            statuses.append(command[command.index("status") + 1:])
        return original(command, *args, **kwargs)

    def svc022(paths):
        result = run(Options(paths=[os.path.join(root, p) for p in paths or ["."]], config=Config(), root=root,
                             select=["SVC022"], use_cache=False, today=datetime.date(2028, 6, 1)))
        return [(f.rule_id, f.file, f.span.line, f.message) for f in result.findings if f.file == manifest]

    monkeypatch.setattr(gitpython.cmd, "safer_popen", counting)
    whole = svc022([])
    assert whole and statuses and all(s[-1] != "--" and "--" not in s for s in statuses)
    statuses.clear()
    assert svc022([manifest]) == whole
    # one status, limited to the runbook: the work tree is not walked
    assert [s[-2:] for s in statuses] == [["--", ":(literal)services/svc-1/docs/runbook.md"]]
    with open(os.path.join(root, "services/svc-1/docs/runbook.md"), "a") as fh:
        fh.write("\nbeing edited\n")
    assert svc022([manifest]) == svc022([]) != whole     # the edit is seen in both


def test_stored_spans_are_decoded_on_first_use(monkeypatch):
    import json

    from prr_lint.loaders import Loaded
    from prr_lint.model import Document, Span

    doc = Document("k8s", "a.yaml", {"spec": {"replicas": 1}},
                   {(): Span(1, 1, 4, 1), ("spec",): Span(2, 1, 3, 12), ("spec", "replicas"): Span(3, 13, 3, 14)})
    stored = json.loads(cache.encode_loaded(Loaded("a.yaml", [doc])))
    decoded = []
    original = cache._spans
    monkeypatch.setattr(cache, "_spans", lambda text: decoded.append(text) or original(text))
    lazy = cache.decode_loaded(stored, lazy=True).docs[0]
    assert isinstance(lazy.spans, cache.StoredSpans) and decoded == []
    assert lazy.locate(("spec", "replicas", "x")) == Span(3, 13, 3, 14) and len(decoded) == 1
    assert lazy.spans == doc.spans and dict(lazy.spans) == doc.spans and len(decoded) == 1
    eager = cache.decode_loaded(stored).docs[0]
    assert type(eager.spans) is dict and eager.spans == doc.spans and len(decoded) == 2
    # a stored string that is not spans (never written by prr-lint) points findings at line 1, never raises
    stored[3][0][5] = "not json"
    assert cache.decode_loaded(stored, lazy=True).docs[0].locate(("spec",)) == Span(1, 1)
    assert cache.decode_loaded(stored) is None


def test_only_files_that_are_not_plain_take_the_slow_stat(tmp_path, monkeypatch):
    from prr_lint import discover

    write(tmp_path, {"a.yaml": "a: 1\n", "b.yaml": "b: 2\n"})
    os.symlink("a.yaml", tmp_path / "c.yaml")
    os.mkfifo(tmp_path / "d.yaml")
    slow = []
    original = discover.check_file

    def counting(root, rel):
        slow.append(rel)
        return original(root, rel)

    monkeypatch.setattr(discover, "check_file", counting)
    stats, refused = discover.check_files(str(tmp_path), ["a.yaml", "b.yaml", "c.yaml", "d.yaml", "gone.yaml"])
    assert slow == ["c.yaml", "d.yaml", "gone.yaml"]
    assert sorted(stats) == ["a.yaml", "b.yaml", "c.yaml"] and stats["c.yaml"] == stats["a.yaml"]
    assert {rel: r.message for rel, r in refused.items()} == {"d.yaml": "not a regular file (FIFO); not checked"}


def test_a_few_changed_files_rewrite_the_journal_not_the_index(tmp_path, monkeypatch, fresh):
    from prr_lint.cache import default_directory

    root, home = monorepo(tmp_path / "mono", 8), str(tmp_path / "home")
    subprocess.run(["git", "init", "-q", root], check=True)
    directory = default_directory(home, root)
    run(Options(paths=[root], config=Config(), root=root, cache_home=home))
    (index,) = [os.path.join(directory, n) for n in os.listdir(directory) if n.startswith("index-")]
    journal = index.replace("index-", "journal-")
    written = os.stat(index).st_mtime_ns, open(index, "rb").read()
    path = os.path.join(root, ONE)
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("replicas: 3", "replicas: 1"))
    edited = shown(one_file(root, home, ONE))
    assert edited == shown(one_file(root, home, ONE, use_cache=False)) != []
    assert (os.stat(index).st_mtime_ns, open(index, "rb").read()) == written
    assert os.path.getsize(journal) < len(written[1]) // 10
    # the next run reads the edit from the journal: nothing to read again, the same findings
    work = Work(monkeypatch, lambda: one_file(root, home, ONE))
    assert work.reads == [] and shown(work.result) == edited
    # a run that changes more than the journal holds writes the index whole, and empties the journal
    monkeypatch.setattr(cache, "JOURNAL_MIN", 4)
    changed = [os.path.join(root, f"services/svc-{i}/k8s/deployment.yaml") for i in range(2, 8)]
    for p in changed:
        with open(p, "a") as fh:
            fh.write("# reviewed\n")
    whole = run(Options(paths=[root], config=Config(), root=root, cache_home=home))
    assert open(index, "rb").read() != written[1] and os.path.getsize(journal) < 200
    work = Work(monkeypatch, lambda: run(Options(paths=[root], config=Config(), root=root, cache_home=home)))
    assert work.reads == [] and shown(work.result) == shown(whole)
