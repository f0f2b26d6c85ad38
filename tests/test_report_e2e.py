"""`prr-lint report`: the real console script on the sample monorepo (HTML, text and Markdown scorecards, golden)
and `--compare` between two states of a copy of it (golden); hostile names; bad input.

PRR_UPDATE_SNAPSHOTS=1 rewrites the golden files; review the diff before committing it.
"""

import json
import os
import re
import shutil

import pytest

from prr_lint import __version__

from conftest import ROOT, golden, run_cli, write

SAMPLE = os.path.join(ROOT, "examples", "monorepo")


def normalized(html: str) -> str:
    """The page without what changes from release to release (the version in its footer)."""
    return html.replace(f"prr-lint {__version__} ·", "prr-lint VERSION ·")


@pytest.fixture(scope="module")
def sample_html():
    proc = run_cli("report", "--no-cache", SAMPLE, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def test_html_golden(sample_html):
    golden("report.html", normalized(sample_html))


def test_html_is_self_contained(sample_html):
    assert "<script" not in sample_html
    # nothing is fetched: no URL in a src/href, no @import or url() in the CSS
    assert not re.search(r"""(src|href)\s*=|@import|url\((?!#)""", sample_html)
    assert "Content-Security-Policy\" content=\"default-src 'none';" in sample_html
    cards = re.findall(r'<section class="card [^"]*" data-service="([^"]*)" data-level="([^"]*)">', sample_html)
    assert cards == [("cart", "silver"), ("checkout", "gold"), ("inventory", "none"), ("search", "none"),
                     ("stock-sync", "bronze")]
    assert sample_html.count("<svg ") == 1 and 'data-service="payments-db"' in sample_html


@pytest.mark.slow
def test_text_and_markdown_scorecards():
    text = run_cli("report", "--no-cache", "--format", "text", SAMPLE, cwd=ROOT)
    assert text.returncode == 0
    assert text.stdout.splitlines()[:3] == [
        "SERVICE     TIER  LEVEL    TARGET  READY  SCORE  CHECKS  FAILING",
        "cart        2     silver   silver  yes       97   35/36  K8S004",
        "checkout    1     gold     gold    yes       97   52/53  SVC060",
    ]
    md = run_cli("report", "--no-cache", "--format", "markdown", SAMPLE, cwd=ROOT)
    assert md.returncode == 0
    assert md.stdout.splitlines()[:6] == [
        "## prr-lint: readiness scorecard", "",
        "| Service | Tier | Level | Target | Score | Checks passing | Failing checks |",
        "| --- | ---: | --- | --- | ---: | ---: | --- |",
        "| `cart` | 2 | :2nd_place_medal: silver | silver :white_check_mark: | 97 | 35/36 | `K8S004` |",
        "| `checkout` | 1 | :1st_place_medal: gold | gold :white_check_mark: | 97 | 52/53 | `SVC060` |",
    ]


@pytest.mark.slow
def test_a_run_over_part_of_a_service_gives_partial_cards():
    proc = run_cli("report", "--no-cache", "--format", "text", os.path.join(SAMPLE, "services", "inventory", "k8s"),
                   cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "SERVICE    TIER  LEVEL    TARGET  READY  SCORE  CHECKS  FAILING",
        "inventory  0     bronze*  gold    no        84   50/59  K8S001,K8S002,K8S003,K8S004,K8S005,K8S006,K8S007,"
        "K8S008,K8S009",
        "* partial: the run reported on part of the service's files (paths or --diff-base)",
    ]
    html = run_cli("report", "--no-cache", os.path.join(SAMPLE, "services", "inventory", "k8s"), cwd=ROOT).stdout
    assert '· <span class="partial"' in html


@pytest.mark.slow
def test_a_saved_json_report_gives_the_same_page(tmp_path, sample_html):
    saved = tmp_path / "report.json"
    assert run_cli("check", "--no-cache", "--format", "json", "-o", str(saved), SAMPLE, cwd=ROOT).returncode == 1
    out = tmp_path / "report.html"
    proc = run_cli("report", "--from", str(saved), "-o", str(out), cwd=ROOT)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert out.read_text() == sample_html


@pytest.fixture
def two_states(tmp_path):
    """A copy of the sample as it was (base.json) and after a change that fixes one thing and breaks another."""
    repo = tmp_path / "monorepo"
    shutil.copytree(SAMPLE, repo)
    base = run_cli("check", "--no-cache", "--format", "json", "-o", "base.json", "monorepo", cwd=tmp_path)
    assert base.returncode == 1, base.stderr
    service = repo / "services" / "inventory" / "service.yaml"
    service.write_text(service.read_text().replace("  name: inventory\n", "  name: inventory\n  owner: team-stock\n"))
    rollout = repo / "services" / "checkout" / "k8s" / "rollout.yaml"
    rollout.write_text(rollout.read_text().replace("limits: {memory: 512Mi}", "limits: {cpu: '1'}"))
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("fmt,name", [("text", "compare.txt"), ("markdown", "compare.md")])
def test_compare_golden(two_states, fmt, name):
    proc = run_cli("report", "--no-cache", "--compare", "base.json", "--format", fmt, "monorepo", cwd=two_states)
    assert proc.returncode == 0, proc.stderr
    golden(name, proc.stdout)


@pytest.mark.slow
def test_compare_two_saved_reports(two_states):
    assert run_cli("check", "--no-cache", "-f", "json", "-o", "head.json", "monorepo", cwd=two_states).returncode == 1
    proc = run_cli("report", "--compare", "base.json", "--from", "head.json", cwd=two_states)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1] == ("services: 1 better, 1 worse, 3 unchanged; findings: 1 new, 1 fixed; "
                        "errors 72, warnings 12")
    assert lines[4].split() == ["worse", "checkout", "tier", "1", "level", "gold", "->", "bronze", "score", "97",
                                "->", "95", "errors", "0", "->", "1", "warnings", "0"]
    # the ratchet: a worse service fails the job, the same comparison the other way round passes
    gated = run_cli("report", "--compare", "base.json", "--from", "head.json", "--fail-on-worse", cwd=two_states)
    assert (gated.returncode, gated.stdout) == (1, proc.stdout)
    same = run_cli("report", "--compare", "head.json", "--from", "head.json", "--fail-on-worse", cwd=two_states)
    assert same.returncode == 0, same.stdout
    assert same.stdout.splitlines()[1].startswith("services: 0 better, 0 worse, 5 unchanged; findings: 0 new")


@pytest.mark.slow
def test_hostile_names_are_shown_not_run(tmp_path):
    write(tmp_path, {
        "a/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\n"
                          'metadata: {name: "<script>alert(1)</script>", owner: "<img src=x onerror=alert(1)>", '
                          "tier: 2}\n"
                          'spec: {dependencies: [{name: "</svg><script>alert(2)</script>", critical: true}]}\n',
        "b/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\n"
                          'metadata: {name: b, owner: "team\\n::error::x ##vso[task.x]", tier: 1}\n',
    })
    proc = run_cli("report", "--no-cache", str(tmp_path), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    html = proc.stdout
    assert "<script" not in html and "<img" not in html and "</svg><script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\n::error" not in html and "##vso[" not in html and "team\\n::error::x #\\x23vso[task.x]" in html


@pytest.mark.parametrize("args,message", [
    (["--compare", "base.json", "--format", "html"], "--compare reports as text or markdown"),
    (["--fail-on-worse"], "--fail-on-worse needs --compare BASE.json"),
    (["--compare", "missing.json"], "missing.json: cannot read report: No such file or directory"),
    (["--compare", "base.json"], "base.json: not a prr-lint JSON report: 'findings' is a required property"),
    (["--from", "base.json", "x"], "--from reads a saved report: give no paths"),
    (["--from", "old.json"], "old.json: the report has no scorecard (written by an older prr-lint): "
                             "write it again with `prr-lint check --format json`"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "base.json").write_text('{"version": 1}')
    counts = dict.fromkeys(("errors", "warnings", "info", "suppressed", "files", "documents"), 0)
    old = {"version": 1, "tool": {"name": "prr-lint", "version": "0"}, "findings": [], "services": [],
           "notices": [], "summary": counts}
    (tmp_path / "old.json").write_text(json.dumps(old))
    proc = run_cli("report", *args, cwd=str(tmp_path))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"prr-lint: error: {message}\n"
