"""jsonout.dumps writes what json.dumps(deep_valid_unicode(obj), indent=...) writes, byte for byte."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prr_lint import jsonout
from prr_lint.escape import deep_valid_unicode

# lone surrogates (file names that were not UTF-8), characters beyond the BMP, escapes written as text
TEXT = st.one_of(st.text(max_size=6), st.sampled_from(["\udc80", "\ud83d", "😀", "\\ud800", "##vso[", "\u2028"]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
KEYS = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
VALUES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)), max_leaves=30)


def expected(obj, indent=2):
    return json.dumps(deep_valid_unicode(obj), indent=indent)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_same_text_as_json_dumps(obj):
    assert jsonout.dumps(obj) == expected(obj)
    assert jsonout.dumps(obj, indent=4) == expected(obj, 4)


def test_flat_and_nested_containers():
    report = {"findings": [{"rule": "K8S002", "line": 3, "suppressed": None},
                           {"rule": "PRR000", "line": 1, "suppressed": {"kind": "baseline"}}],
              "empty": {}, "none": [], "nested": [[1, [2]], {"a": []}], "tuple": (1, "x")}
    assert jsonout.dumps(report) == expected(report)
    assert jsonout.dumps({"a": 1, "b": "x"}) == '{\n  "a": 1,\n  "b": "x"\n}'


def test_lone_surrogate_becomes_replacement_character_and_pairs_stay():
    obj = {"file\udc80.yaml": ["bad\udcff", "😀", "\\ud800 as text"]}
    text = jsonout.dumps(obj)
    assert text == expected(obj)
    assert json.loads(text) == {"file\ufffd.yaml": ["bad\ufffd", "😀", "\\ud800 as text"]}
    text.encode("utf-8")   # no surrogate left


def test_unserialisable_value_still_fails():
    with pytest.raises(TypeError):
        jsonout.dumps({"a": {1, 2}})


def _written(obj, indent=2):
    parts: list[str] = []
    jsonout.write(obj, parts.append, indent)
    return parts


@settings(max_examples=400, deadline=None)
@given(VALUES, st.integers(min_value=1, max_value=40))
def test_written_in_parts_the_same_text_as_dumps(obj, part):
    original = jsonout.PART
    jsonout.PART = part            # cut as often as the text allows (hypothesis runs no fixture per example)
    try:
        parts = _written(obj)
    finally:
        jsonout.PART = original
    assert "".join(parts) == jsonout.dumps(obj) == expected(obj)


def test_a_large_text_is_written_in_parts_of_about_part_characters_each_cut_between_tokens(monkeypatch):
    monkeypatch.setattr(jsonout, "PART", 100)
    report = {"findings": [{"rule": "K8S002", "message": f"##vso[task] {i} bad\udc80 😀", "line": i}
                           for i in range(50)], "services": [["svc", i] for i in range(50)]}
    parts = _written(report)
    assert "".join(parts) == expected(report)
    assert len(parts) > 20 and max(map(len, parts)) < 100 + 200      # one finding's text at most past PART
    for part in parts[:-1]:         # each ends after a whole value, key or bracket: never inside a string
        assert part.endswith((",", "[", "{", ": ", "}", "]", "\n")) or part.rstrip().endswith((",", "[", "{")), part
