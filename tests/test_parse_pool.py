"""Parsing in worker processes: the same findings as in-process, no pool for small runs, and a worker that dies
or hangs costs the file it was on (a PRR000), never the run."""

import functools
import multiprocessing.connection

import crashing_loader
import pytest
from test_linear_cost import monorepo

from prr_lint import cache, parsepool
from prr_lint.config import Config
from prr_lint.engine import Options, run
from prr_lint.loaders import load_file

from conftest import BARE_DEPLOYMENT, write


def findings(result) -> list:
    return [(f.rule_id, f.file, f.span.line, f.span.col, f.severity, f.service, f.message) for f in result.findings]


def options(root: str, workers: int, cache_home: str | None = None) -> Options:
    return Options(paths=[root], config=Config(), root=root, use_cache=cache_home is not None, cache_home=cache_home,
                   parse_workers=workers, parse_pool_min=1)


@pytest.fixture
def pooled(monkeypatch):
    """Files answered by pool workers, counted in the parent; and no pickle ever read from a worker."""
    answered = []
    original = parsepool.parse_files

    def counting(*args, **kwargs):
        for parsed in original(*args, **kwargs):
            answered.append(parsed.rel)
            yield parsed

    def no_pickles(self, *args, **kwargs):
        raise AssertionError("a pickle was read from a parse worker")

    monkeypatch.setattr(parsepool, "parse_files", counting)
    monkeypatch.setattr(multiprocessing.connection.Connection, "recv", no_pickles)
    return answered


@pytest.fixture(scope="module")
def mono(tmp_path_factory):
    return monorepo(tmp_path_factory.mktemp("mono"), 6)


def test_the_pool_gives_the_same_findings_as_in_process(mono, pooled):
    expected = run(options(mono, workers=0))
    got = run(options(mono, workers=2))
    assert len(pooled) == got.files_read == expected.files_read == 60
    assert findings(got) == findings(expected) and findings(expected)
    assert got.documents == expected.documents


def test_files_parsed_by_the_pool_hold_the_listings_string_for_their_path(mono, pooled):
    got = run(options(mono, workers=2))
    assert len(pooled) == 60
    listed = {rel: rel for rel in got.repo.files}
    loaded = [got.repo.load(rel) for rel in got.repo.candidates]
    docs = [d for item in loaded for d in item.docs if d.file == item.file]
    assert len(docs) > 60
    assert all(item.file is listed[item.file] for item in loaded)
    assert all(d.file is listed[d.file] for d in docs)


def test_the_pool_fills_the_cache_that_later_runs_read(mono, tmp_path, pooled, monkeypatch):
    monkeypatch.setattr(cache, "RACY_SECONDS", 0)
    home = str(tmp_path / "home")
    expected = findings(run(options(mono, workers=0)))
    assert findings(run(options(mono, workers=2, cache_home=home))) == expected
    assert len(pooled) == 60
    pooled.clear()
    assert findings(run(options(mono, workers=2, cache_home=home))) == expected
    assert pooled == []          # everything came from the cache


def test_small_runs_start_no_pool(mono, pooled):
    run(Options(paths=[mono], config=Config(), root=mono, use_cache=False, parse_workers=2))   # default minimum
    run(Options(paths=[mono], config=Config(), root=mono, use_cache=False, parse_workers=1, parse_pool_min=1))
    assert pooled == []


def crashing(monkeypatch):
    monkeypatch.setattr(parsepool, "parse_files", functools.partial(parsepool.parse_files, load=crashing_loader.load))


@pytest.mark.parametrize("name, why", [("boom.yaml", "was killed by signal 9"),
                                       ("hang.yaml", "did not answer within 2 s")])
def test_a_file_that_ends_or_hangs_its_worker_is_a_prr000(tmp_path, monkeypatch, name, why):
    monkeypatch.setattr(parsepool, "FILE_TIMEOUT", 2.0)
    files = {f"k8s/app-{i}.yaml": BARE_DEPLOYMENT for i in range(80)}
    write(tmp_path, {**files, f"k8s/{name}": BARE_DEPLOYMENT})
    root = str(tmp_path)
    expected = [f for f in findings(run(options(root, workers=0))) if not f[1].endswith(name)]
    crashing(monkeypatch)
    got = findings(run(options(root, workers=2)))
    assert [f for f in got if f[1].endswith(name)] == [
        ("PRR000", f"k8s/{name}", 1, 1, "error", None,
         f"the parser's worker process {why} while reading this file; not checked")]
    assert [f for f in got if not f[1].endswith(name)] == expected and expected


def test_every_file_gets_one_answer_when_workers_die(tmp_path):
    files = {f"k8s/app-{i}.yaml": BARE_DEPLOYMENT for i in range(70)}
    write(tmp_path, {**files, "k8s/boom.yaml": BARE_DEPLOYMENT, "z/boom.yaml": BARE_DEPLOYMENT})
    items = [(rel, "yaml") for rel in sorted([*files, "k8s/boom.yaml", "z/boom.yaml"])]
    answers = list(parsepool.parse_files(str(tmp_path), items, set(), 1 << 20, 2, load=crashing_loader.load))
    assert sorted(p.rel for p in answers) == sorted(rel for rel, _ in items)
    errors = sorted(p.rel for p in answers if p.loaded.error is not None)
    assert errors == ["k8s/boom.yaml", "z/boom.yaml"]
    one = next(p for p in answers if p.rel == "k8s/app-3.yaml")
    alone = cache.encode_loaded(load_file(str(tmp_path), "k8s/app-3.yaml", "yaml", set(), 1 << 20))
    assert alone is not None and cache.encode_loaded(one.loaded) == alone
    assert one.key == cache.content_key("k8s/app-3.yaml", "yaml", 1 << 20,
                                        (tmp_path / "k8s/app-3.yaml").read_bytes())


def refuse(self, *args, **kwargs):
    raise OSError("no processes left")


@pytest.mark.parametrize("how", ["refused", "never_ready", "exit_at_once", "garbled"])
def test_a_pool_that_cannot_start_parses_in_process(mono, monkeypatch, how):
    expected = findings(run(options(mono, workers=0)))
    monkeypatch.setattr(parsepool, "FILE_TIMEOUT", 2.0)
    if how == "refused":
        monkeypatch.setattr(parsepool._Worker, "__init__", refuse)
    else:
        monkeypatch.setattr(parsepool, "_serve", getattr(crashing_loader, how))
    with pytest.raises(parsepool.PoolUnavailable):
        list(parsepool.parse_files(mono, [("services/svc-0/service.yaml", "yaml")], set(), 1 << 20, 2))
    assert findings(run(options(mono, workers=2))) == expected


def test_worker_settings_from_the_environment(tmp_path):
    from conftest import run_cli

    write(tmp_path, {"k8s/app.yaml": BARE_DEPLOYMENT})
    bad = run_cli("check", str(tmp_path), env={"PRR_LINT_PARSE_WORKERS": "two"})
    assert bad.returncode == 2
    assert bad.stderr.strip() == "prr-lint: error: PRR_LINT_PARSE_WORKERS: not a whole number: two"
    cache_home = str(tmp_path / "cache")
    pooled = run_cli("check", "-f", "json", "--no-cache", str(tmp_path),
                     env={"PRR_LINT_PARSE_WORKERS": "2", "PRR_LINT_PARSE_POOL_MIN": "1"})
    alone = run_cli("check", "-f", "json", str(tmp_path), env={"PRR_LINT_PARSE_WORKERS": "0",
                                                              "XDG_CACHE_HOME": cache_home})
    assert pooled.returncode == alone.returncode == 1 and pooled.stdout == alone.stdout


def test_a_loader_that_raises_in_a_worker_leaves_that_file_to_the_parent(tmp_path, monkeypatch):
    write(tmp_path, {**{f"k8s/app-{i}.yaml": BARE_DEPLOYMENT for i in range(40)}, "k8s/bug.yaml": BARE_DEPLOYMENT})
    root = str(tmp_path)
    expected = findings(run(options(root, workers=0)))
    assert [f for f in expected if f[1] == "k8s/bug.yaml"]
    crashing(monkeypatch)
    assert findings(run(options(root, workers=2))) == expected


def test_the_workers_start_before_the_charts_are_gathered_and_only_when_they_will_parse(mono, tmp_path, monkeypatch):
    from prr_lint.render import helm as helm_renderer

    monkeypatch.setattr(cache, "RACY_SECONDS", 0)
    events: list[str] = []
    real_worker, real_batch = parsepool._Worker.__init__, helm_renderer._Batch.__init__

    def worker(self, *args):
        events.append("worker")
        real_worker(self, *args)

    def batch(self, job):
        events.append("charts")
        real_batch(self, job)

    asked: list[str] = []
    answered_before_charts: list[int] = []
    original = parsepool.parse_files

    def parse_files(root, items, *args, **kwargs):
        asked.extend(rel for rel, _ in items)
        for parsed in original(root, items, *args, **kwargs):
            if "charts" not in events:
                answered_before_charts.append(1)
            yield parsed

    monkeypatch.setattr(parsepool._Worker, "__init__", worker)
    monkeypatch.setattr(helm_renderer._Batch, "__init__", batch)
    monkeypatch.setattr(parsepool, "parse_files", parse_files)
    expected = findings(run(options(mono, workers=0)))
    events.clear()
    home = str(tmp_path / "home")
    assert findings(run(options(mono, workers=2, cache_home=home))) == expected
    # both workers start first (they import meanwhile), and no other is started later
    assert events == ["worker", "worker", "charts"]
    # the pool parses every file, the charts' Chart.yaml and values files first; the charts are gathered once
    # those are answered, while the others are still being parsed
    assert len(asked) == 60 and all("/chart/" in rel for rel in asked[:18]) and not any("/chart/" in rel for rel in
                                                                                         asked[18:])
    assert 18 <= len(answered_before_charts) < 60
    events.clear()
    assert findings(run(options(mono, workers=2, cache_home=home))) == expected
    assert events == ["charts"]          # every file is in the cache: no worker is started for nothing
