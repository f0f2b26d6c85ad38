"""What a run keeps in memory, counted: objects held, not bytes measured."""

from __future__ import annotations

import sys

from prr_lint.checks import promql


def _burn_rate(n: int) -> str:
    return (f'sum(rate(http_requests_total{{job="svc-{n}",code=~"5.."}}[1h])) '
            f'/ sum(rate(http_requests_total{{job="svc-{n}"}}[1h])) > 14.4 * 0.0005')


def test_promql_asts_held_are_bounded_and_facts_outlive_them(promql_parses):
    fresh_promql = promql_parses()
    count = promql.AST_CACHE * 3
    exprs = [_burn_rate(n) for n in range(count)]
    first = [promql.facts(e) for e in exprs]
    assert len(fresh_promql) == count
    # the parser's native memory of an AST is tens of KB: only the last AST_CACHE are kept
    assert promql.parse.cache_info().currsize == promql.AST_CACHE
    assert promql._facts.cache_info().currsize == promql.AST_CACHE
    assert promql._text_facts.cache_info().currsize == count
    # asked again, the facts come from their text: nothing is parsed again, and they are the same objects
    again = [promql.facts(e) for e in exprs]
    assert len(fresh_promql) == count
    assert all(a is b for a, b in zip(first, again, strict=True))
    assert first[0].names == frozenset({"http_requests_total"})
    assert first[0].windows == {promql.datetime.timedelta(hours=1)}


def test_an_ast_asked_for_after_its_eviction_is_parsed_again_the_same(promql_parses):
    fresh_promql = promql_parses()
    exprs = [_burn_rate(n) for n in range(promql.AST_CACHE + 1)]
    first = promql.parse(exprs[0])
    for e in exprs[1:]:
        promql.parse(e)
    again = promql.parse(exprs[0])
    assert fresh_promql.count(exprs[0]) == 2
    assert again is not first and again.ok and again.error is None
    assert promql.facts(again) == promql.facts(first)


def test_facts_of_expressions_share_their_repeated_parts_and_the_sharing_is_bounded(monkeypatch):
    a, b = promql.facts(_burn_rate(100_001)), promql.facts(_burn_rate(100_002))
    assert a.names is b.names and a.windows is b.windows and a.calls is b.calls
    assert a.selectors[0][0] is b.selectors[0][0]                   # the metric name: one string
    assert a.selectors[0] is a.selectors[1] and a.selectors[0] is not b.selectors[0]     # job="svc-N" differs
    assert a.selectors[0] == ("http_requests_total", (("job", "svc-100001"),))
    assert not hasattr(a, "__dict__")           # slots: no dict per Facts
    monkeypatch.setattr(promql, "SHARED_MAX", 8)
    for n in range(40):
        promql.facts(_burn_rate(200_000 + n))
    assert len(promql._shared_parts) <= 8


# -- the parse cache's text and the C heap ----------------------------------------------------------------
def test_parse_cache_text_is_written_and_let_go_before_charts_render(tmp_path, monkeypatch):
    import os
    import sys

    from prr_lint import cache, heap
    from prr_lint.config import load_config
    from prr_lint.engine import Options, run
    from prr_lint.render import helm

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
    from generate import generate

    monkeypatch.setattr(cache, "RACY_SECONDS", 0)
    root = str(tmp_path / "repo")
    generate(4, root)
    events: list[tuple[str, int]] = []
    held: list[int] = []
    real_save, real_give_back, real_render = cache.ParseCache.save, heap.give_back, helm.render

    def save(self, files):
        real_save(self, files)
        held.append(sum(map(len, self._new.values())))
        events.append(("save", len(held)))

    def give_back():
        events.append(("give back", 0))
        return real_give_back()

    def render(job):
        events.append(("render", 0))
        return real_render(job)

    monkeypatch.setattr(cache.ParseCache, "save", save)
    monkeypatch.setattr(heap, "give_back", give_back)
    monkeypatch.setattr(helm, "render", render)
    run(Options(paths=[root], config=load_config(os.path.join(root, ".prr-lint.yaml")), root=root,
                cache_home=str(tmp_path / "home"), use_cache=True))
    names = [name for name, _ in events]
    # written, its pages given back, then the charts rendered; written again for what rendering read; and the
    # pages freed while loading given back when loading ends
    assert names == ["save", "give back", "render", "save", "give back"]
    assert held == [0, 0]               # nothing parsed is held once written


def test_give_back_trims_the_c_heap_on_linux():
    from prr_lint import heap

    assert heap.give_back() is sys.platform.startswith("linux")


def test_signed_files_keep_their_format_and_refuse_a_broken_header(tmp_path):
    import hashlib
    import hmac
    import json

    from prr_lint import cache

    key, directory, name = b"k" * 32, str(tmp_path), "docs-x.json"
    payload = json.dumps({"a": ["b", 1]})
    cache.write_signed(key, directory, name, payload)
    with open(tmp_path / name, "rb") as fh:
        blob = fh.read()
    # the MAC is fed the payload on its own, and is the one over the joined bytes, as before
    mac = hmac.new(key, cache.MAGIC + b"\n" + name.encode() + b"\n" + payload.encode(), hashlib.sha256)
    assert blob == cache.MAGIC + b"\n" + mac.hexdigest().encode() + b"\n" + payload.encode()
    assert cache.read_signed(key, directory, name) == {"a": ["b", 1]}
    header = cache.MAGIC + b"\n" + mac.hexdigest().encode()
    for broken in (cache.MAGIC, header, header + b"\n", b"x" + blob, blob[:-1], blob + b" "):
        (tmp_path / name).write_bytes(broken)
        assert cache.read_signed(key, directory, name) is None, broken


# -- documents let go before the replay entry and the report ------------------------------------------------
def _documents() -> list:
    import gc

    from prr_lint.model import Document

    return [o for o in gc.get_objects() if type(o) is Document]


def test_a_reported_run_lets_its_documents_go_before_storing_and_reporting_the_same_bytes(tmp_path, monkeypatch):
    import gc
    import os

    from prr_lint import cache, cli, jsonout, replay
    from prr_lint.checks import promql
    from prr_lint.engine import run
    from prr_lint.reporters import FORMATS, render, write

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
    from generate import generate

    root = str(tmp_path / "repo")
    generate(3, root)
    # documents other tests left behind (a CLI run freezes its objects) are held here, and not counted
    gc.unfreeze()
    gc.collect()
    earlier = _documents()

    def _documents_alive() -> int:
        return len(_documents()) - len(earlier)

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("PRR_LINT_CACHE_DIR", "")
    monkeypatch.setenv("PRR_LINT_TODAY", "2026-11-23")
    monkeypatch.setattr(cache, "RACY_SECONDS", 0)
    alive_at_store: list[int] = []
    real_store = replay.Replay.store

    held_at_store: list[tuple[int, int]] = []      # (PromQL ASTs, documents with their spans decoded)

    def store(self, result):
        alive_at_store.append(_documents_alive())
        held_at_store.append((promql.parse.cache_info().currsize, len(cache._decoded)))
        return real_store(self, result)

    monkeypatch.setattr(replay.Replay, "store", store)

    def result(keep: bool, replayed: bool = True):
        options = cli.make_options(cli.build_parser().parse_args(["check", root]))
        options.replay = cli.replay_environment() if replayed else None
        options.keep_documents = keep
        return run(options)

    kept = result(keep=True)            # as the gate runs: documents are read after the run
    assert alive_at_store == [len(kept.docs)] and len(kept.docs) > 30
    assert kept.repo is not None and kept.graph is not None
    del kept
    gc.collect()                        # the first run's objects, whatever cycles they are in
    assert _documents_alive() == 0
    directory = cache.default_directory(str(tmp_path / "xdg-cache"), root)
    for name in os.listdir(directory):      # the next run is a full run again, not a replay
        if name.startswith(replay.PREFIX):
            os.unlink(os.path.join(directory, name))
    reported = result(keep=False)       # as check and report run: from the result alone
    assert alive_at_store[1:] == [0]
    assert min(held_at_store[0]) > 0 and held_at_store[1] == (0, 0)
    assert reported.docs == [] and reported.repo is None and reported.graph is None
    reference = result(keep=True, replayed=False)   # a full run that keeps everything
    assert len(reference.docs) > 30 and len(alive_at_store) == 2
    monkeypatch.setattr(jsonout, "PART", 512)      # the report passed on in parts, as the CLI writes it
    for fmt in FORMATS:
        parts: list[str] = []
        write(fmt, reported, parts.append)
        assert "".join(parts) == render(fmt, reported) == render(fmt, reference), fmt
        assert len(parts) > 10 if fmt in ("json", "sarif") else len(parts) == 1
    parts = []
    write("sarif", reported, parts.append, category="prr")
    assert "".join(parts) == render("sarif", reference, category="prr")


def test_a_signed_file_written_in_parts_is_the_file_of_its_joined_text_and_a_failing_part_writes_nothing(
        tmp_path, monkeypatch):
    import json

    from prr_lint import cache, replay

    monkeypatch.setattr(cache, "PIECE", 7)          # parts cut across pieces too
    key, directory = b"k" * 32, str(tmp_path)
    from prr_lint.model import Finding, Span

    findings = [Finding("R1", "x", "error", f"message {i}", "a.yaml", Span(i + 1)) for i in range(5)]
    monkeypatch.setattr(replay, "FINDINGS_PER_PART", 2)
    head = json.dumps({"key": "k", "result": {"notices": [], "baseline": None}}, separators=(",", ":"))
    parts = list(replay._with_findings(head, findings))
    assert len(parts) == 5                          # the head, three parts of at most two findings, the end
    assert cache.write_signed(key, directory, "entry.json", "".join(parts))
    whole = (tmp_path / "entry.json").read_bytes()
    assert cache.write_signed(key, directory, "entry.json", iter(parts))
    assert (tmp_path / "entry.json").read_bytes() == whole
    assert cache.read_signed(key, directory, "entry.json") == \
        {"key": "k", "result": {"notices": [], "baseline": None,
                                "findings": [replay._finding_data(f) for f in findings]}}
    assert [replay._finding(item) for item in cache.read_signed(key, directory, "entry.json")["result"]["findings"]] \
        == findings

    def failing():
        yield "{"
        raise TypeError("a value JSON cannot carry")

    assert not cache.write_signed(key, directory, "failed.json", failing())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.json"]

