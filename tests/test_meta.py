"""The rule pack as a whole: unique ids and names, metadata, docs pages that are up to date."""

import os
import re

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


def _outside_fences(page: str) -> tuple[list[str], list[str], bool]:
    """(lines outside code fences, lines inside them, whether every fence is closed), the way CommonMark reads
    backtick fences: a fence closes only on a line of at least as many backticks and nothing else."""
    outside, inside, fence = [], [], ""
    for line in page.split("\n"):
        if not fence:
            opening = re.match(r"(`{3,})[^`]*$", line)
            if opening:
                fence = opening.group(1)
            else:
                outside.append(line)
        elif re.fullmatch(rf"`{{{len(fence)},}}\s*", line):
            fence = ""
        else:
            inside.append(line)
    return outside, inside, not fence


def _section(page: str, title: str) -> str:
    return page.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0] if f"\n## {title}\n" in page else ""


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_docs_page_example_shows_a_flagged_line_and_fences_balance(rule):
    page = docs.rule_page(rule)
    outside, _inside, closed = _outside_fences(page)
    assert closed, f"{rule.id}: a code fence is never closed"
    # an example that closed its fence early would leave its own headings outside the fences
    headings = [line for line in outside if line.startswith("#")]
    assert headings == [f"# {rule.id} {rule.name}", "## Why it matters", "## How to fix", "## Example",
                        "## Use instead"], headings
    _, example, _ = _outside_fences(_section(page, "Example"))
    assert any(docs.FLAG + rule.id in line for line in example), f"{rule.id}: the Example shows no flagged line"


def test_docs_fence_outlasts_backticks_in_the_example():
    page = docs._example("docs/runbook.md", "# Runbook\n\n````bash\nkubectl get pods\n````\n`x`")
    assert page.split("\n")[2] == "`````markdown" and page.rstrip("\n").split("\n")[-1] == "`````"
    assert docs._example("a`b.yaml", "k: v").startswith("``a`b.yaml``\n")


def test_docs_example_marks_lines_listed_in_an_expect_file(tmp_path):
    bad = tmp_path / "X001-x" / "bad"
    bad.mkdir(parents=True)
    (bad / "plan.json").write_text('{\n  "a": 1\n}\n')
    (bad / "EXPECT").write_text("plan.json:2 X001\n")
    (bad / "main.tf").write_text('resource "a" "b" {}\n')
    (bad / "main.tf.snap").write_text("")
    assert docs.fixture_files(str(bad)) == [("plan.json", '{\n  "a": 1' + docs.FLAG + "X001\n}"),
                                            ("main.tf", 'resource "a" "b" {}')]


def test_docs_example_survives_a_malformed_expect_file(tmp_path):
    bad = tmp_path / "X001-x" / "bad"
    bad.mkdir(parents=True)
    (bad / "a.yaml").write_text("k: v  # expect: X001\n")
    (bad / "EXPECT").write_bytes(b"not three fields here\n\xff\n")
    assert docs.fixture_files(str(bad)) == [("a.yaml", "k: v")]
