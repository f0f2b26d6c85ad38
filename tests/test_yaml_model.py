"""The document model: every node knows its span; locate() falls back to the deepest existing node."""

import pytest

from prr_lint.loaders import load_text
from prr_lint.loaders.errors import LoadError
from prr_lint.loaders.yamlread import load_yaml
from prr_lint.model import Span

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: web:1.0
          resources:
            requests: {cpu: 100m}
"""


def doc_of(text, rel="x.yaml", how="yaml"):
    docs = load_text(rel, text, how, set())
    assert len(docs) == 1
    return docs[0]


def test_spans_of_keys_and_list_items():
    doc = doc_of(DEPLOYMENT)
    assert doc.kind == "k8s"
    assert doc.locate(("metadata", "name")) == Span(4, 3, 4, 12)
    item = doc.locate(("spec", "template", "spec", "containers", 0))
    assert (item.line, item.col) == (9, 11)
    assert doc.locate(("spec", "template", "spec", "containers", 0, "resources", "requests", "cpu")).line == 12


def test_missing_key_points_at_the_parent_mapping():
    doc = doc_of(DEPLOYMENT)
    span = doc.locate(("spec", "template", "spec", "containers", 0, "resources", "limits", "memory"))
    assert (span.line, span.col) == (11, 11)  # `resources:` is the deepest node that exists
    assert doc.locate(("nope", "deeper")).line == 1


def test_block_mapping_end_is_pulled_back_to_its_last_character():
    doc = doc_of(DEPLOYMENT)
    span = doc.locate(("metadata",))
    assert (span.line, span.end_line, span.end_col) == (3, 4, 12)


def test_logical_path_uses_names_not_indices():
    doc = doc_of(DEPLOYMENT)
    assert doc.logical_path(("spec", "template", "spec", "containers", 0, "resources")) == \
        "spec.template.spec.containers[app].resources"
    assert doc.address == "Deployment/web"


def test_multi_document_stream_and_list_kind():
    text = DEPLOYMENT + "---\n" + """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: a}
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: b}
    spec: {maxUnavailable: 1}
"""
    docs = load_text("x.yaml", text, "yaml", set())
    assert [d.get(("kind",)) for d in docs] == ["Deployment", "ConfigMap", "PodDisruptionBudget"]
    assert docs[2].locate(("spec", "maxUnavailable")).line == 23
    assert [d.index for d in docs] == [0, 1, 2]


def test_yaml_11_keys_stay_strings_and_dates_become_iso_strings():
    (data, _spans, _), = load_yaml("on: push\nwhen: 2026-10-01\nyes: 1\n")
    assert data == {"on": "push", "when": "2026-10-01", "yes": 1}


def test_merge_keys_are_applied():
    (data, _spans, _), = load_yaml("base: &b {cpu: 1}\nprod:\n  <<: *b\n  memory: 2\n")
    assert data["prod"] == {"cpu": 1, "memory": 2}


def test_classification_by_content_not_extension():
    kinds = {
        "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: a}\n": "service",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\n": "backstage",
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\n": "openslo",
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: a}\n": "sloth",
        "version: prometheus/v1\nservice: a\nslos: []\n": "sloth",
        "groups:\n  - name: g\n    rules: []\n": "prometheus-rules",
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: a}\n": "prometheus-rules",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\n": "k8s",
    }
    for text, kind in kinds.items():
        assert doc_of(text).kind == kind, text
    assert load_text("x.yaml", "name: ci\non: push\njobs: {}\n", "yaml", set()) == []


def test_parse_error_has_line_and_column():
    with pytest.raises(LoadError) as e:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n")
    assert e.value.line == 3 and e.value.col >= 1
    assert "invalid YAML" in e.value.message


def test_alias_bomb_is_refused():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(LoadError, match="alias bomb"):
        load_yaml("\n".join(lines) + "\n")


def test_deep_nesting_is_refused_without_crashing():
    with pytest.raises(LoadError, match="nested deeper"):
        load_yaml("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(LoadError, match="nested deeper"):
        load_yaml("".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n")


def test_plan_json_gets_positions():
    text = '{\n  "format_version": "1.2",\n  "resource_changes": [\n    {"type": "aws_db_instance"}\n  ]\n}\n'
    doc = doc_of(text, "plan.json", "json")
    assert doc.kind == "terraform-plan"
    assert doc.locate(("resource_changes", 0, "type")).line == 4
    assert load_text("package.json", '{"name": "x"}', "json", set()) == []


def test_invalid_plan_json_is_an_error_at_its_line():
    with pytest.raises(LoadError) as e:
        load_text("plan.json", '{\n  "format_version": "1.2",\n  "resource_changes": [,]\n}\n', "json", set())
    assert e.value.line == 3
