"""The GitHub annotation and Markdown summary reporters: golden outputs over a small fixed Result.

PRR_UPDATE_SNAPSHOTS=1 rewrites the golden files; review the diff before committing it.
"""

import os
import re
import subprocess
import sys

import pytest

from prr_lint.baseline import BaselineSummary
from prr_lint.diff import DiffSummary
from prr_lint.engine import Result, ServiceSummary
from prr_lint.model import Finding, Span, Suppression
from prr_lint.reporters import github, markdown, render
from prr_lint.rule import Rule

from conftest import golden

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rule(rule_id, name):
    return Rule(id=rule_id, name=name, summary=f"{name} summary", why="why", fix="fix", targets=["k8s"],
                tags=["resources"], severity={0: "error", 1: "error", 2: "warning", 3: "info"}, since="0.1.0")


def sample_result() -> Result:
    rules = [_rule("K8S002", "memory-limit"), _rule("SVC001", "owner"), _rule("PROM001", "alert-runbook-url"),
             _rule("TF001", "database-backups")]
    f = [
        Finding("K8S002", "memory-limit", "error", 'Deployment api: container "api" has no memory limit',
                "services/checkout/k8s/deploy.yaml", Span(20, 11, 21, 30), "checkout", 1, "Deployment/api:x", "a1"),
        Finding("SVC001", "owner", "error", "checkout (tier 1): no owner; set metadata.owner",
                "services/checkout/service.yaml", Span(3, 1, 5, 20), "checkout", 1, "Service/checkout", "a2",
                service_level=True),
        # a message with every character GitHub and Markdown treat specially
        Finding("PROM001", "alert-runbook-url", "warning",
                "alert \"A|B\" 100% down,\r\nsee <b>*x*</b>: `y` [z]_w_",
                "legacy/alerts, old.yaml", Span(4, 9, 4, 27), None, 2, "rules#0", "a3"),
        Finding("TF001", "database-backups", "info", "bucket: no versioning", "legacy/main.tf", Span(6, 3),
                None, 3, "terraform#0", "a4"),
        Finding("K8S002", "memory-limit", "error", "waived finding", "services/checkout/k8s/deploy.yaml",
                Span(40, 11), "checkout", 1, "Deployment/worker:x", "a5",
                suppression=Suppression("waiver", "batch job, bounded input", "team-payments", "2027-01-31",
                                        ".prr-waivers.yaml:4")),
    ]
    services = [ServiceSummary("checkout", 1, "services/checkout/service.yaml", "team-payments"),
                ServiceSummary("search", 2, "services/search/service.yaml", None)]
    return Result(root="/repo", findings=f, rules=rules, notices=[], services=services, files_read=12, documents=14)



# -- GitHub workflow commands -----------------------------------------------------------------

def test_github_golden():
    golden("github.txt", render("github", sample_result()))


def test_github_escaping_follows_the_runner():
    assert github.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert github.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    out = render("github", sample_result())
    line = next(x for x in out.splitlines() if "PROM001" in x)
    assert line.startswith("::warning file=legacy/alerts%2C old.yaml,line=4,col=9,endColumn=27,"
                           "title=PROM001 alert-runbook-url::")
    # the message can neither end the command nor start a new one
    assert "\n" not in line and "\r" not in line
    assert line.split("::", 2)[2] == 'alert "A|B" 100%25 down,%0D%0Asee <b>*x*</b>: `y` [z]_w_'


def test_github_annotates_active_findings_only_errors_first():
    lines = render("github", sample_result()).splitlines()
    assert [x.split(" ", 1)[0] for x in lines] == ["::error", "::error", "::warning", "::notice"]
    assert not any("waived finding" in x for x in lines)
    # columns only for a one-line span (GitHub ignores them otherwise); endLine only for several lines
    assert "line=20,endLine=21,title=" in lines[0] + lines[1]
    assert lines[-1] == "::notice file=legacy/main.tf,line=6,col=3,title=TF001 database-backups::bucket: no versioning"


def test_github_says_when_annotations_overflow_a_step():
    result = sample_result()
    base = result.findings[0]
    result.findings = [Finding(base.rule_id, base.rule_name, "error", f"problem {i}", "a.yaml", Span(i + 1),
                               None, 2, f"x{i}", f"f{i}") for i in range(12)]
    lines = render("github", result).splitlines()
    assert len(lines) == 13
    assert lines[0].startswith("::notice title=prr-lint%3A more findings than annotations::prr-lint found 12 findings")


def test_github_clean_run_prints_nothing():
    result = sample_result()
    result.findings = [f for f in result.findings if f.suppressed]
    assert render("github", result) == ""


# -- Markdown job summary ---------------------------------------------------------------------

def test_markdown_golden():
    golden("summary.md", render("markdown", sample_result()))


def test_markdown_golden_with_links():
    golden("summary-links.md", render("markdown", sample_result(),
                                            link_base="https://github.com/acme/shop/blob/0123abc"))


def test_markdown_table_rows_have_the_right_number_of_cells():
    out = render("markdown", sample_result())
    tables, current = [], None
    for line in out.splitlines():
        if line.startswith("|"):
            # unescaped pipes delimit cells
            n = len(re.split(r"(?<!\\)\|", line))
            if current is None:
                current = []
                tables.append(current)
            current.append(n)
        else:
            current = None
    assert len(tables) == 5     # services, readiness scorecard, unowned, all findings, suppressed
    for widths in tables:
        assert len(set(widths)) == 1, widths
    assert "<b>" not in out and "&lt;b&gt;" in out


def test_markdown_service_table():
    out = render("markdown", sample_result())
    rows = {line.split("|")[2].strip(): line for line in out.splitlines() if line.startswith("| :")}
    assert "| 1 | team-payments | 2 | 0 |" in rows["`checkout`"]
    assert rows["`checkout`"].startswith("| :x: |")
    assert rows["`search`"] == "| :white_check_mark: | `search` | 2 | — | 0 | 0 | ready |"


def test_markdown_stays_under_the_summary_limit():
    result = sample_result()
    base = result.findings[2]
    result.findings = [Finding(base.rule_id, base.rule_name, "warning", "x" * 300 + f" {i}", f"f{i}.yaml",
                               Span(i + 1), "checkout" if i % 2 else None, 1, f"a{i}", f"p{i}")
                       for i in range(6000)]
    out = render("markdown", result)
    size = len(out.encode("utf-8"))
    assert 900_000 < size <= markdown.MAX_BYTES
    assert re.search(r"> \d+ more rows not shown: GitHub limits a job summary to 1 MiB", out)
    assert out.count("<details>") == out.count("</details>")


def test_markdown_truncation_counts_what_it_left_out():
    result = sample_result()
    out = render("markdown", result, max_bytes=markdown.RESERVE + 1200)
    assert len(out.encode("utf-8")) <= markdown.RESERVE + 1200
    shown = sum(1 for line in out.splitlines() if line.startswith("| :") or line.startswith("| `K8S002` |"))
    m = re.search(r"> (\d+) more rows? not shown", out)
    assert m, out
    # 2 service rows + 2 unowned + 2 owned + 1 suppressed rows in all
    assert shown + int(m.group(1)) == 7


def test_markdown_clean_run():
    result = sample_result()
    result.findings = []
    out = render("markdown", result)
    assert ":white_check_mark: No findings in 12 files." in out
    assert "Not owned" not in out and "<details>" not in out


# -- through the CLI ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["github", "markdown"])
def test_cli_formats_on_the_sample_monorepo(fmt, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "prr_lint", "check", "--no-cache", "--format", fmt,
                           "--fail-on", "never", "examples/monorepo"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    if fmt == "github":
        assert all(x.startswith(("::error ", "::warning ", "::notice ")) for x in proc.stdout.splitlines())
        assert re.search(r"^::error file=examples/monorepo/services/inventory/service.yaml,"
                         r"line=\d+.*title=SVC001 owner::",
                         proc.stdout, re.M)
    else:
        # the sample's checkout service is the well-prepared one; new rules may still find something there
        assert re.search(r"^\| :(white_check_mark|warning|x): \| `checkout` \| 1 \| team-payments \| \d+ \| \d+ \|",
                         proc.stdout, re.M)
        assert "| :x: | `inventory` | 0 | — |" in proc.stdout


def test_markdown_says_what_a_diff_or_baseline_run_left_out():
    result = sample_result()
    result.diff = DiffSummary("origin/main", "0123456789abcdef0123", ["a.yaml"], [], 3)
    result.baseline = BaselineSummary(".prr-baseline.json", 4, 2)
    out = render("markdown", result)
    assert ("Scope: only findings on lines changed since `origin/main` (merge base `0123456789ab`); "
            "findings recorded in the baseline `.prr-baseline.json` left out.") in out
