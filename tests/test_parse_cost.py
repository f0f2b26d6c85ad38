"""What reading files costs: Python calls per YAML node, documents held decoded, cache text held, and the work
of the cyclic garbage collector. Work is counted, never timed."""

import gc
import json
import sys

import pytest

from prr_lint import cache, heap, parsepool
from prr_lint.cache import ParseCache, StoredSpans, decode_loaded, encode_loaded, read_signed
from prr_lint.loaders import Loaded, load_text, yamlread
from prr_lint.model import Document, Span


def calls_into(module_file: str, fn) -> dict:
    """{function name: calls} of the Python functions defined in `module_file` while fn() runs."""
    counts: dict = {}

    def profile(frame, event, _arg):
        if event == "call" and frame.f_code.co_filename == module_file:
            counts[frame.f_code.co_name] = counts.get(frame.f_code.co_name, 0) + 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return counts


def configmap(n: int) -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n" + \
        "".join(f"  key{i}: value {i}\n" for i in range(n))


def test_a_yaml_text_without_anchors_costs_one_call_per_collection_and_one_per_span():
    for n in (100, 200):
        counts = calls_into(yamlread.__file__, lambda n=n: yamlread.load_yaml(configmap(n)))
        # root, metadata and data: three collections; a string scalar is read inline, not by a call
        assert counts.get("plain") == 3
        assert "convert" not in counts and "scalar" not in counts
        assert counts.get("span") == n + 6      # one per node: the root, five more and the n values


def test_anchors_and_merge_keys_take_the_careful_path_with_the_same_result():
    text = "base: &b {cpu: 1}\nprod:\n  <<: *b\n  memory: 2\n  memory: 3\n"
    counts = calls_into(yamlread.__file__, lambda: yamlread.load_yaml(text))
    # one call per node: the root, base, cpu, prod, and prod's three values once the merge has brought cpu
    assert "plain" not in counts and counts.get("convert") == 7
    duplicates: list = []
    ((data, spans, line),) = yamlread.load_yaml(text, duplicates)
    assert data == {"base": {"cpu": 1}, "prod": {"cpu": 1, "memory": 3}}
    assert duplicates == [[{"path": ["prod"], "key": "memory", "first": 4, "line": 5, "col": 3}]]
    assert spans[("prod", "memory")] == Span(5, 3, 5, 12)


def test_the_plain_path_reports_duplicates_and_scalars_as_the_careful_one():
    plain = "a: 1\nb: 0755\nc: yes\nd: ~\ne: 12345678901234567890\nf: 2026-01-01\na: 2\n? [x]\n: 1\n\"['x']\": 2\n"
    careful = plain + "z: &anchor 1\n"
    dups_plain: list = []
    dups_careful: list = []
    ((data, spans, _),) = yamlread.load_yaml(plain, dups_plain)
    ((data2, spans2, _),) = yamlread.load_yaml(careful, dups_careful)
    assert data == {"a": 2, "b": 493, "c": True, "d": None, "e": 12345678901234567890, "f": "2026-01-01",
                    "['x']": 2}
    assert {k: v for k, v in data2.items() if k != "z"} == data
    assert dups_plain == dups_careful == [[{"path": [], "key": "a", "first": 1, "line": 7, "col": 1}]]
    assert {p: s for p, s in spans2.items() if p not in ((), ("z",))} == {p: s for p, s in spans.items() if p != ()}


def test_nesting_at_the_limit_is_refused_at_the_same_place_on_both_paths():
    for tail in ("x\n", "[]\n", "{a: 1}\n", "{[a]: 1}\n"):
        text = "- " * yamlread.MAX_DEPTH + tail
        results = []
        for extra in ("", "# &\n"):
            try:
                yamlread.load_yaml(extra + text)
                results.append(None)
            except yamlread.LoadError as e:
                results.append((e.message, e.line - extra.count("\n"), e.col))
        assert results[0] == results[1], tail
    assert yamlread.load_yaml("- " * yamlread.MAX_DEPTH + "x\n")[0][1][(0,) * yamlread.MAX_DEPTH].line == 1
    with pytest.raises(yamlread.LoadError, match="nested deeper") as err:
        yamlread.load_yaml("- " * (yamlread.MAX_DEPTH + 1) + "x\n")
    assert (err.value.line, err.value.col) == (1, 2 * yamlread.MAX_DEPTH + 3)


def stored_document(i: int) -> Document:
    doc = load_text(f"k8s/cm-{i}.yaml", configmap(3), "yaml", set())[0]
    stored = json.loads(encode_loaded(Loaded(doc.file, [doc])))
    return decode_loaded(stored, lazy=True).docs[0]


def test_only_the_documents_located_last_hold_their_spans_decoded(monkeypatch):
    decodes = []
    real = cache._spans
    monkeypatch.setattr(cache, "_spans", lambda text: decodes.append(text) or real(text))
    docs = [stored_document(i) for i in range(cache.DECODED_SPANS + 50)]
    assert isinstance(docs[0].spans, StoredSpans) and decodes == []
    for doc in docs:
        assert doc.locate(("data", "key1")) == Span(6, 3, 6, 16)
        assert doc.locate(("data", "key2", "missing")) == Span(7, 3, 7, 16)
    assert len(decodes) == len(docs)             # once per document, though each was asked twice
    held = [d for d in docs if d.spans._spans is not None]
    assert held == docs[-cache.DECODED_SPANS:]
    assert docs[0].locate(("metadata", "name")) == Span(3, 12, 3, 19)   # decoded again, the same
    assert len(decodes) == len(docs) + 1


def test_the_cache_lets_go_of_what_it_wrote_and_a_second_save_keeps_both(tmp_path):
    key = b"k" * 32
    store = ParseCache(str(tmp_path), key)
    first = Loaded("a/x.yaml", load_text("a/x.yaml", configmap(2), "yaml", set()))
    second = Loaded("a/y.yaml", load_text("a/y.yaml", configmap(3), "yaml", set()))
    store.put("a/x.yaml", "key-x", first)
    store.save(["a/x.yaml", "a/y.yaml"])
    assert store._new == {}
    store.put("a/y.yaml", "key-y", second)
    store.save(["a/x.yaml", "a/y.yaml"])
    shard = read_signed(key, str(tmp_path), store._shard_name(cache.shard_of("a/x.yaml")))
    assert sorted(shard) == ["key-x", "key-y"]
    again = ParseCache(str(tmp_path), key)
    x, y = again.get("a/x.yaml", "key-x"), again.get("a/y.yaml", "key-y")
    assert encode_loaded(x) == encode_loaded(first)
    assert encode_loaded(y) == encode_loaded(second)
    # each entry is its own JSON text, decoded alone: its keys and short values are still the run's one string
    assert next(k for k in y.docs[0].data if k == "apiVersion") is next(k for k in x.docs[0].data if k == "apiVersion")
    assert y.docs[0].data["kind"] is x.docs[0].data["kind"]


def test_the_next_load_unfreezes_what_the_last_one_froze():
    with heap.loading():
        kept = [{"n": [i]} for i in range(1000)]
    assert gc.get_freeze_count() >= len(kept)
    with heap.loading():
        assert gc.get_freeze_count() == 0
    gc.unfreeze()


def test_a_merge_key_written_as_a_tag_is_merged_though_the_text_has_no_anchor_or_double_angle():
    for text in ("a: {!!merge x: {p: 1, q: 2}, q: 3}\n", "a: {!<tag:yaml.org,2002:%6Derge> x: {p: 1, q: 2}, q: 3}\n"):
        ((data, spans, _),) = yamlread.load_yaml(text)
        assert data == {"a": {"p": 1, "q": 3}}, text
        assert ("a", "x") not in spans and ("a", "q") in spans


def test_a_batch_of_worker_answers_is_read_at_once_and_its_documents_share_their_keys():
    messages = []
    for i in range(3):
        rel = f"k8s/cm-{i}.yaml"
        text = encode_loaded(Loaded(rel, load_text(rel, configmap(2), "yaml", set())))
        messages.append(json.dumps([rel, f"key-{i}", True]).encode() + b"\n" + text.encode())
    parsed = parsepool._decode(messages + [json.dumps(["gone.yaml", None, False]).encode()])
    assert [(p.rel, p.key) for p in parsed] == [("k8s/cm-0.yaml", "key-0"), ("k8s/cm-1.yaml", "key-1"),
                                                ("k8s/cm-2.yaml", "key-2"), ("gone.yaml", None)]
    keys = [next(k for k in p.loaded.docs[0].data if k == "apiVersion") for p in parsed[:3]]
    assert keys[1] is keys[0] and keys[2] is keys[0]
    assert parsed[0].text == messages[0].partition(b"\n")[2].decode()
    with pytest.raises(ValueError, match="malformed"):
        parsepool._decode([messages[0] + b",1"])      # two values where one answer was due


def test_answers_of_separate_batches_share_keys_and_short_values_and_hold_their_spans_compressed():
    from prr_lint import shared
    from prr_lint.cache import StoredSpans

    long_value = "x" * (shared.SHORT + 1)
    batches = []
    for i in range(2):                  # two batches: two json.loads calls
        rel = f"k8s/deploy-{i}.yaml"
        text = (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{i}\n"
                f"  labels: {{team: payments}}\n  annotations: {{note: {long_value}}}\n")
        encoded = encode_loaded(Loaded(rel, load_text(rel, text, "yaml", set())))
        (parsed,) = parsepool._decode([json.dumps([rel, f"key-{i}", True]).encode() + b"\n" + encoded.encode()])
        batches.append(parsed.loaded.docs[0])
        assert parsed.loaded.docs[0].file is parsed.loaded.file     # one string for the file's name
    first, second = batches
    assert first.data == {"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "svc-0", "labels": {"team": "payments"},
                                       "annotations": {"note": long_value}}}
    key = next(k for k in second.data["metadata"] if k == "labels")
    assert key is next(k for k in first.data["metadata"] if k == "labels")
    assert second.data["apiVersion"] is first.data["apiVersion"]
    assert second.data["metadata"]["labels"]["team"] is first.data["metadata"]["labels"]["team"]
    # a long value is prose, not shared
    assert second.data["metadata"]["annotations"]["note"] is not first.data["metadata"]["annotations"]["note"]
    # the spans: held as compressed bytes, smaller than their JSON text, decoded to the same positions
    assert isinstance(first.spans, StoredSpans) and isinstance(first.spans._text, bytes)
    spans_json = json.dumps([list(first.spans), list(first.spans.values())], separators=(",", ":"))
    assert len(first.spans._text) < len(spans_json)
    assert first.spans[("metadata", "labels", "team")] == (5, 12, 5, 26)


def test_yaml_read_in_process_shares_keys_and_short_values_across_files():
    from prr_lint import shared

    long_value = "y" * (shared.SHORT + 1)
    texts = [f"metadata:\n  labels: {{team: payments}}\n  name: svc-{i}\nnote: {long_value}\n" for i in range(2)]
    (first, _, _), = yamlread.load_yaml(texts[0])
    (second, _, _), = yamlread.load_yaml(texts[1])
    assert next(k for k in second if k == "metadata") is next(k for k in first if k == "metadata")
    assert second["metadata"]["labels"]["team"] is first["metadata"]["labels"]["team"]
    assert second["note"] == first["note"] and second["note"] is not first["note"]
    # with an anchor the careful converter reads it: its keys are shared too
    (third, _, _), = yamlread.load_yaml("base: &b {team: payments}\nmetadata: {labels: *b}\n")
    assert next(k for k in third if k == "metadata") is next(k for k in first if k == "metadata")


def test_a_tag_forced_on_text_it_does_not_fit_keeps_the_text():
    for value in ("!!bool x", "!!timestamp x", "!!timestamp 2026-01-01x", "!!int +", "!!float x", "!!int 0x"):
        ((data, _spans, _),) = yamlread.load_yaml(f"a: {value}\n")
        assert data == {"a": value.split(" ", 1)[1]}, value
    assert yamlread.load_yaml("a: !!bool yes\nb: !!int '12'\n")[0][0] == {"a": True, "b": 12}


@pytest.mark.parametrize("large", [False, True])
def test_a_file_parsed_in_process_holds_its_spans_as_the_cache_does(tmp_path, monkeypatch, large):
    # as a parse worker's documents come: as text, decoded only when a finding needs them, the same positions;
    # compressed in a run as large as a parse pool takes (no run that small needs it)
    from prr_lint import repo as repo_module
    from prr_lint.repo import Repository

    monkeypatch.setattr(repo_module, "PACKED_SPANS_FROM", 1 if large else 2)
    root = tmp_path / "repo"
    (root / "k8s").mkdir(parents=True)
    (root / "k8s" / "cm.yaml").write_text(configmap(3) + "---\n" + configmap(1))
    repo = Repository(str(root), cache=ParseCache(str(tmp_path / "cache"), b"k" * 32), parse_workers=0)
    docs = repo.load("k8s/cm.yaml").docs
    plain = load_text("k8s/cm.yaml", configmap(3) + "---\n" + configmap(1), "yaml", set())
    assert [type(d.spans) for d in docs] == [StoredSpans, StoredSpans]
    assert [d.spans._spans for d in docs] == [None, None]          # nothing decoded yet
    assert [type(d.spans._text) for d in docs] == [bytes if large else str] * 2
    assert [dict(d.spans) for d in docs] == [dict(d.spans) for d in plain]
    # without a cache nothing is encoded: the spans stay as read
    bare = Repository(str(root), parse_workers=0).load("k8s/cm.yaml").docs
    assert [type(d.spans) for d in bare] == [dict, dict]
