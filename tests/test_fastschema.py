"""The fast "valid" of fastschema.py: a document jsonschema-rs finds valid is one jsonschema finds valid, so
PRR001 reports what jsonschema alone reports, and jsonschema runs only for documents with errors."""

import datetime
import glob
import json
import os

import pytest

from prr_lint import fastschema, verdicts
from prr_lint.loaders import load_file
from prr_lint.memo import RunMemo
from prr_lint.schemas import load_schema, schema_errors

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = sorted(fastschema.EXACT)


def _documents():
    """Every YAML document of the rule fixtures and examples, as prr-lint loads them: valid and invalid manifests
    and waiver files among them."""
    out = []
    for path in sorted(glob.glob(os.path.join(HERE, "rules", "*", "*", "*", "**", "*.y*ml"), recursive=True)
                       + glob.glob(os.path.join(HERE, "examples", "**", "*.y*ml"), recursive=True)):
        loaded = load_file(os.path.dirname(path), os.path.basename(path), "yaml", set(), 5 << 20)
        out.extend(d.data for d in loaded.docs if isinstance(d.data, dict))
    return out


def _manifest(**changes):
    doc = {"apiVersion": "prr-lint/v1", "kind": "Service",
           "metadata": {"name": "checkout", "owner": "team-payments", "tier": 1},
           "spec": {"runbooks": ["docs/runbook.md"], "slos": [{"name": "availability", "objective": 99.9,
                                                               "window": "30d"}]}}
    doc["metadata"].update(changes)
    return doc


def test_valid_for_jsonschema_rs_is_valid_for_jsonschema_on_every_fixture():
    documents = _documents()
    fast = 0
    for name in SCHEMAS:
        for doc in documents:
            errors = schema_errors(doc, name)
            known = fastschema.known_valid(doc, name)
            assert not (known and errors), (name, doc, errors)
            if not errors and fastschema.plain_json(doc):
                assert known, (name, doc)        # and it is used: valid plain documents skip jsonschema
            fast += known
    assert len(documents) > 100 and fast > 50


@pytest.mark.parametrize("value, valid", [
    ("checkout", True),
    ("checkout\n", False),      # `$` matches before a final newline in Python only: jsonschema decides
    ("Checkout", False),
    ("chéckout", False),
    (5, False),
])
def test_a_name_pattern_is_never_looser_than_jsonschema(value, valid):
    doc = _manifest(name=value)
    assert fastschema.known_valid(doc, "service.schema.json") is valid
    if valid:
        assert schema_errors(doc, "service.schema.json") == []


@pytest.mark.parametrize("value, valid", [(1, True), ("1", True), (1.0, True), (True, False), (4, False),
                                          ("1 ", False)])
def test_enum_values_compare_as_in_jsonschema(value, valid):
    doc = _manifest(tier=value)
    assert (schema_errors(doc, "service.schema.json") == []) is valid
    assert fastschema.known_valid(doc, "service.schema.json") is valid


@pytest.mark.parametrize("value", ["2026-01-31", "0000-01-01", "2026-02-30", "20260131", "٢٠٢٦-٠١-٣١",
                                   "2026-01-31\n", "2026-1-31"])
def test_dates_are_judged_by_the_jsonschema_format_checker(value):
    doc = {"apiVersion": "prr-lint/v1", "kind": "Waivers",
           "waivers": [{"rule": "K8S001", "justification": "x", "expires": value}]}
    valid = schema_errors(doc, "waivers.schema.json") == []
    assert fastschema.known_valid(doc, "waivers.schema.json") is valid


@pytest.mark.parametrize("value", [datetime.date(2026, 1, 31), ("a",), float("nan"), 2**70, {1: "a"}])
def test_what_json_does_not_hold_is_left_to_jsonschema(value):
    assert fastschema.known_valid(_manifest(extra=value), "service.schema.json") is False
    assert fastschema.known_valid({"apiVersion": "prr-lint/v1", "x": value}, "config.schema.json") is False


def _walk(node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("pattern", "format"):
                out.add((key, value))
            elif key != "description":
                out.add(("keyword", key))
            if key != "properties":
                _walk(value, out)
            else:
                for sub in value.values():
                    _walk(sub, out)
    elif isinstance(node, list):
        for item in node:
            _walk(item, out)


def test_the_schemas_are_those_reviewed_for_it():
    """A new pattern, format or keyword in these schemas must be reviewed (fastschema.py) and added here."""
    found: set = set()
    for name in SCHEMAS:
        _walk(load_schema(name), found)
    patterns = {v for k, v in found if k == "pattern"}
    assert patterns == {"^([0-9]+(ms|s|m|h|d|w|y))+$", "^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$"}
    assert {v for k, v in found if k == "format"} == {"date"}
    keywords = {v for k, v in found if k == "keyword"}
    assert not keywords & {"not", "if", "anyOf", "contains", "dependentSchemas", "patternProperties",
                           "uniqueItems"}, keywords
    assert json.dumps(load_schema("service.schema.json")).count('"oneOf"') == 2


def test_jsonschema_runs_only_for_documents_with_errors(monkeypatch):
    calls = []
    validate = verdicts.schema_errors

    def counting(instance, name):
        calls.append(instance)
        return validate(instance, name)

    monkeypatch.setattr(verdicts, "schema_errors", counting)
    checker = verdicts.SchemaVerdicts(RunMemo(None, verdicts.MEMO_KEY))
    assert checker.errors(_manifest(), "service.schema.json") == [] and calls == []
    bad = _manifest(name="Checkout")
    assert [e.message for e in checker.errors(bad, "service.schema.json")] == \
        [e.message for e in schema_errors(bad, "service.schema.json")] and calls == [bad]
