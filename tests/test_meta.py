"""The rule pack as a whole: unique ids and names, metadata, docs pages that are up to date."""

import os

import pytest

from prr_lint import docs
from prr_lint.registry import RuleError, check_unique, load_rules, rule_dirs
from prr_lint.resources import rules_dir
from prr_lint.rule import Rule

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = load_rules()


def test_ids_and_names_are_unique_and_match_directories():
    ids = [r.id for r in RULES]
    names = [r.name for r in RULES]
    assert len(ids) == len(set(ids))
    assert len(names) == len(set(names))
    for r in RULES:
        assert os.path.basename(r.directory) == f"{r.id}-{r.name}"


def test_every_rule_directory_is_loaded():
    assert len(rule_dirs(rules_dir())) == len(RULES)


def test_duplicate_ids_are_rejected_with_a_clear_error():
    a = Rule.from_meta({"id": "X001", "name": "a", "summary": "s" * 10, "why": "w" * 20, "fix": "f" * 10,
                        "targets": ["k8s"], "severity": "error", "since": "0.1.0"}, directory="one")
    b = Rule.from_meta({"id": "X001", "name": "b", "summary": "s" * 10, "why": "w" * 20, "fix": "f" * 10,
                        "targets": ["k8s"], "severity": "error", "since": "0.1.0"}, directory="two")
    with pytest.raises(RuleError, match="duplicate rule id X001: one and two"):
        check_unique([a, b])


def test_invalid_metadata_is_rejected(tmp_path):
    bad = tmp_path / "pack" / "k8s" / "K8S900-bad"
    bad.mkdir(parents=True)
    (bad / "rule.py").write_text(
        "from prr_lint.rule import rule\n"
        "@rule(id='K8S900', name='Bad Name', summary='too short', why='w', fix='f', targets=['k8s'],"
        " severity='error', since='0.1.0')\n"
        "def check(doc, ctx):\n    return ()\n")
    with pytest.raises(RuleError, match="invalid rule metadata"):
        load_rules([str(tmp_path / "pack")])


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_docs_page_is_current(rule):
    path = os.path.join(ROOT, "docs", "rules", f"{rule.id}.md")
    assert os.path.exists(path), f"missing {path}: run python -m prr_lint.docs"
    with open(path, encoding="utf-8") as fh:
        assert fh.read() == docs.rule_page(rule), f"{path} is stale: run python -m prr_lint.docs"


def test_docs_index_is_current():
    with open(os.path.join(ROOT, "docs", "rules", "README.md"), encoding="utf-8") as fh:
        assert fh.read() == docs.index_page(RULES), "docs/rules/README.md is stale: run python -m prr_lint.docs"


def test_no_stale_pages():
    pages = {n for n in os.listdir(os.path.join(ROOT, "docs", "rules")) if n.endswith(".md")}
    assert pages == {f"{r.id}.md" for r in RULES} | {"README.md"}
