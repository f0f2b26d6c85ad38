"""Output injection: a value from the checked repository never becomes a CI command, HTML or broken XML.

A pull request controls file names, container and alert names, labels and manifest values. Printed raw, a
newline followed by `::add-mask::X` (GitHub), `##vso[...]` (Azure) or `##[...]` starts a command line in the CI
log; `<script>` or a `|` breaks the Markdown job summary; U+FFFE makes the JUnit report unreadable. Each channel
is run end to end through the real CLI on a repository full of such values.
"""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from prr_lint import cli
from prr_lint.engine import Result, ServiceSummary
from prr_lint.escape import line_start, multi_line, one_line, printable
from prr_lint.model import Finding, Span, Suppression
from prr_lint.reporters import render
from prr_lint.reporters.markdown import MAX_BYTES, cell, code
from prr_lint.rule import Rule

from conftest import run_cli, write

# every character sequence a runner, a log viewer or str.splitlines() may treat as the end of a line
LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# GitHub: `::cmd` at the start of a line after white space; `##[cmd]` (GitHub v1) and `##vso[` (Azure) anywhere
LEGACY_COMMAND = re.compile(r"##(vso)?\[", re.IGNORECASE)
OWN_ANNOTATION = re.compile(r"::(error|warning|notice)( [^:]*)?::")

HOSTILE = [
    "app\n::add-mask::X",
    "a\r::error::x",
    "%0A::error::x",
    "u\u2028::warning::line-separator",
    "n\x85::notice::nel",
    "v\x0b::error::vt",
    "f\x0c::error::ff",
    "g\x1c\x1d\x1e::error::gs",
    "##vso[task.setvariable variable=token]stolen",
    "##[error]legacy",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "pipe | cell | break",
    "back`tick` ``` fence",
    "slash\\|pipe",
    "nonchar \ufffe\uffff",
    "ansi \x1b[31mred\x1b[0m \x1b]0;title\x07",
    "nul\x00byte",
    "bidi \u202eevil",
]


def runner_lines(text: str) -> list:
    return LINE_BREAK.split(text)


def injected(text: str, own_annotations: bool = False) -> list:
    """Lines of `text` that a CI runner would read as a command (other than prr-lint's own annotations)."""
    bad = []
    for line in runner_lines(text):
        if LEGACY_COMMAND.search(line):
            bad.append(line)
        elif line.lstrip().startswith("::"):
            # an annotation of ours: properties hold no `:` (escaped), so the first `::` ends them
            if not (own_annotations and OWN_ANNOTATION.match(line)):
                bad.append(line)
    return bad


def yaml_quote(value: str) -> str:
    """A YAML double-quoted scalar holding exactly `value` (JSON escapes are valid YAML escapes)."""
    return json.dumps(value, ensure_ascii=True)


# file names a repository can hold (no NUL, no slash), each starting a line or carrying a line break
HOSTILE_FILES = [
    "::error file=ci.yml::top.yaml",
    " ::warning::indented.yaml",
    "k8s/bad\n::error file=ci.yml::X.yaml",
    "k8s/cr\r::add-mask::C.yaml",
    "k8s/##vso[task.complete result=Succeeded]done.yaml",
    "k8s/sep\u2028::notice::L.yaml",
    "k8s/<script>x<\\script>|`.yaml",
]
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 1
  template:
    spec:
      containers:
{containers}"""


@pytest.fixture(scope="module")
def hostile_repo(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("hostile"))
    containers = "".join(f"        - name: {yaml_quote(h)}\n          image: x:1\n" for h in HOSTILE)
    alerts = "".join(f"      - alert: {yaml_quote(h)}\n        expr: up == 0\n"
                     f"        labels: {{severity: {yaml_quote(h)}, {yaml_quote(h)}: x}}\n" for h in HOSTILE)
    files = {
        "svc/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata:\n"
                            f"  name: {yaml_quote(HOSTILE[0] + ' ' + HOSTILE[10])}\n  tier: 1\n"
                            f"  owner: {yaml_quote(' '.join(HOSTILE))}\n"
                            "spec:\n  deploy:\n    kubernetes: [../k8s/]\n  alerts: [../alerts/]\n",
        "k8s/deploy.yaml": DEPLOYMENT.format(name=yaml_quote(HOSTILE[1]), containers=containers),
        "alerts/rules.yaml": "groups:\n  - name: g\n    rules:\n" + alerts,
        # an empty file is a notice (-v): its name starts the notice line
        "::notice::empty.yaml": "",
        "e\n::add-mask::E.yaml": "",
        # a file that cannot be parsed: PRR000 with the file name in the message and the location
        "k8s/broken\n::error::b.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [\n",
    }
    for name in HOSTILE_FILES:
        files[name] = DEPLOYMENT.format(name="d", containers="        - name: c\n          image: x:1\n")
    write(base, files)
    return base


def check(repo, *args):
    return run_cli("check", "--no-cache", *args, repo, cwd=repo)


def test_the_hostile_repository_is_read(hostile_repo):
    """The attacks below only mean something if the values reach the output: check that they do."""
    r = check(hostile_repo, "-f", "json")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    messages = "\n".join(f["message"] for f in report["findings"])
    files = {f["file"] for f in report["findings"]}
    for h in HOSTILE:
        assert f'container "{h}"' in messages and f'alert "{h}"' in messages, h
    for name in HOSTILE_FILES + ["k8s/broken\n::error::b.yaml"]:
        assert name in files, name
    assert any(s["name"].startswith("app\n::add-mask::X") for s in report["services"])


@pytest.mark.slow
def test_text_output_injects_no_command(hostile_repo):
    r = check(hostile_repo, "-v", "--show-suppressed")
    assert r.returncode == 1, r.stderr
    assert injected(r.stdout) == [] and injected(r.stderr) == []
    assert "\x1b" not in r.stdout and "\ufffe" not in r.stdout and "\x00" not in r.stdout
    # the values are still there, shown as escapes: one finding is one line
    assert 'container "app\\n::add-mask::X"' in r.stdout
    assert "\\x3a:error file=ci.yml::top.yaml:" in r.stdout
    assert "\\x3a:notice::empty.yaml: note: empty file" in r.stdout
    assert "k8s/#\\x23vso[task.complete result=Succeeded]done.yaml" in r.stdout
    findings = json.loads(check(hostile_repo, "-f", "json").stdout)["findings"]
    finding_lines = [x for x in r.stdout.split("\n") if re.search(r":\d+:\d+  (error|warning|info) ", x)]
    assert len(finding_lines) == len(findings)


def test_text_output_with_colour_injects_no_command(hostile_repo):
    r = check(hostile_repo, "--color", "always")
    assert injected(r.stdout) == []
    # colour codes are ours; the repository's ANSI escapes are shown, not sent to the terminal
    assert "\\x1b[31mred" in r.stdout and "\x1b]0;title" not in r.stdout


@pytest.mark.slow
def test_github_annotations_inject_no_command(hostile_repo):
    r = check(hostile_repo, "-f", "github")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.split("\n")[:-1]
    assert lines and all(OWN_ANNOTATION.match(x) for x in lines), lines
    assert injected(r.stdout, own_annotations=True) == []
    active = [f for f in json.loads(check(hostile_repo, "-f", "json").stdout)["findings"] if not f["suppressed"]]
    assert len([x for x in lines if "file=" in x]) == len(active)
    # properties: a value cannot end the property list (`:` and `,` are escaped) nor the command
    for line in lines:
        props = line.split("::", 2)[1]
        assert "\n" not in props and "\r" not in props
    assert "file=k8s/bad%0A%3A%3Aerror file=ci.yml%3A%3AX.yaml," in r.stdout
    # `%0A` typed in a value stays text: the runner decodes `%250A` to `%0A`, not to a newline
    assert "%250A::error::x" in r.stdout and "%0A::error::x" not in r.stdout.replace("%250A", "")


@pytest.mark.parametrize("link_base", [None, "https://github.com/acme/shop/blob/abc123"])
def test_markdown_summary_has_no_html_and_a_well_formed_table(hostile_repo, link_base):
    args = ["-f", "markdown"] + (["--link-base", link_base] if link_base else [])
    r = check(hostile_repo, *args)
    assert r.returncode == 1, r.stderr
    md = r.stdout
    assert injected(md) == []
    assert "<script" not in md.lower() and "<img" not in md.lower()
    tags = set(re.findall(r"</?[A-Za-z][^>]*>", md))
    assert tags <= {"<br>", "<details>", "</details>", "<summary>", "</summary>"}, tags
    assert "\ufffe" not in md and "\x1b" not in md and "\x00" not in md
    assert_tables_well_formed(md)
    if link_base:
        links = re.findall(r"\]\((https://[^)\s]*)\)", md)
        assert links and all(u.startswith(link_base + "/") for u in links)
        assert f"{link_base}/k8s/bad%0A%3A%3Aerror%20file%3Dci.yml%3A%3AX.yaml#L" in md


def split_row(line: str) -> list:
    """Cells of a GitHub table row as GitHub splits it: a backslash escapes the next character, a pipe
    inside a code span still splits the row unless escaped."""
    cells, current, i = [], "", 0
    body = line.strip()
    assert body.startswith("|") and body.endswith("|") and not body.endswith("\\|"), line
    body = body[1:-1]
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            current += body[i:i + 2]
            i += 2
            continue
        if ch == "|":
            cells.append(current)
            current = ""
        else:
            current += ch
        i += 1
    cells.append(current)
    return cells


def assert_tables_well_formed(md: str) -> None:
    lines = md.split("\n")
    columns = None
    for line in lines:
        if not line.startswith("|"):
            columns = None
            continue
        n = len(split_row(line))
        if columns is None:
            columns = n
        assert n == columns, line
        for c in split_row(line):
            # a code span in a cell is closed in that cell (no backtick breakout)
            assert len(re.findall(r"(?<!\\)`", c)) % 2 == 0, c


@pytest.mark.slow
def test_junit_is_valid_xml(hostile_repo):
    r = check(hostile_repo, "-f", "junit")
    assert r.returncode == 1, r.stderr
    root = ET.fromstring(r.stdout.encode("utf-8"))
    cases = root.findall(".//testcase[@file]")
    assert len(cases) >= len(HOSTILE_FILES)
    # a name or a location is one line; no character XML 1.0 forbids anywhere
    assert all("\n" not in c.get("name") and "\n" not in c.get("file") for c in cases)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", r.stdout)
    assert injected(r.stdout) == []


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab"])
def test_json_formats_keep_values_exactly_and_on_one_line(hostile_repo, fmt):
    r = check(hostile_repo, "-f", fmt)
    assert r.returncode == 1, r.stderr
    assert injected(r.stdout) == []
    data = json.loads(r.stdout)
    text = json.dumps(data, ensure_ascii=False)
    assert "app\\n::add-mask::X" in text      # JSON carries the real value, escaped by JSON itself


# -- stderr ---------------------------------------------------------------------------------------------


def test_config_error_with_a_hostile_key_is_one_stderr_line(tmp_path):
    write(str(tmp_path), {".prr-lint.yaml": 'severity: {"K8S002\\n::add-mask::X": off}\n',
                          "k8s/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    r = check(str(tmp_path))
    assert r.returncode == 2
    assert len(r.stderr.strip().split("\n")) == 1 and injected(r.stderr) == [], r.stderr
    assert "K8S002\\n::add-mask::X" in r.stderr


def test_hostile_file_names_on_the_command_line_are_one_stderr_line(tmp_path):
    """pre-commit passes the repository's file names as arguments."""
    for args in (["nope\n::error file=ci.yml::X.tf"], ["-c", "bad\r::add-mask::c.yaml", "."],
                 ["x\u2028##vso[task.setvariable variable=a]1.yaml"]):
        r = run_cli("check", "--no-cache", *args, cwd=str(tmp_path))
        assert r.returncode == 2
        assert len(LINE_BREAK.split(r.stderr.rstrip("\n"))) == 1 and injected(r.stderr) == [], r.stderr


def test_rule_errors_and_internal_errors_are_one_stderr_line(monkeypatch, capsys, tmp_path):
    from prr_lint import engine

    def run_with_error(options):
        return Result(root=str(tmp_path), findings=[], rules=[], notices=[], services=[], files_read=1,
                      documents=1,
                      errors=["rule K8S002 failed on k8s/a\n::add-mask::X.yaml: KeyError: 'b\r::error::y'"])

    monkeypatch.setattr(engine, "run", run_with_error)
    assert cli.main(["check", "--no-cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and injected(err) == [] and "a\\n::add-mask::X.yaml" in err

    def crash(options):
        raise RuntimeError("boom\n::add-mask::SECRET\u2028::error::z")

    monkeypatch.setattr(engine, "run", crash)
    monkeypatch.delenv("PRR_LINT_DEBUG", raising=False)
    assert cli.main(["check", "--no-cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and injected(err) == [] and "internal error" in err


# -- `prr-lint rules`: a repository's Rego rule pack describes itself -----------------------------------

HOSTILE_REGO = """# METADATA
# title: "T\\n::add-mask::T | <script>x</script> \\u2028::error::t ##vso[task.setvariable variable=a]1"
# description: "D\\n::error file=ci.yml::d"
# custom:
#   id: ORG009
#   name: hostile-name
#   severity: error
#   targets: [service]
#   tags: [oncall]
#   fix: "F\\r::add-mask::F\\n  ::warning::indented"
package prr.hostile

import rego.v1

deny contains result if {
	input.kind == "Service"
	result := {"msg": "m"}
}
"""


@pytest.mark.slow
def test_rules_listing_of_a_repository_rule_injects_no_command(tmp_path):
    write(str(tmp_path), {".prr-lint.yaml": "policy:\n  paths: [pol]\n",
                          "pol/ORG009-hostile-name/policy.rego": HOSTILE_REGO})
    for args in ([], ["--format", "markdown"], ["--format", "json"], ["ORG009"]):
        r = run_cli("rules", *args, cwd=str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert "ORG009" in r.stdout
        assert injected(r.stdout) == [] and injected(r.stderr) == [], (args, r.stdout)
    listed = json.loads(run_cli("rules", "--format", "json", cwd=str(tmp_path)).stdout)
    assert any(r["summary"].startswith("T\n::add-mask::T") for r in listed)     # JSON keeps the exact value
    md = run_cli("rules", "--format", "markdown", cwd=str(tmp_path)).stdout
    assert "<script>" not in md
    assert all(len(split_row(x)) == 8 for x in md.split("\n") if x.startswith("|"))


@pytest.mark.slow
def test_rule_pack_errors_are_one_stderr_line(tmp_path):
    """Invalid metadata, and a policy path from the repository's config that does not exist."""
    write(str(tmp_path / "meta"), {".prr-lint.yaml": "policy:\n  paths: [pol]\n",
                                   "pol/ORG009-hostile-name/policy.rego":
                                       HOSTILE_REGO.replace("tags: [oncall]", 'tags: ["t\\n::warning::tag"]')})
    write(str(tmp_path / "path"), {".prr-lint.yaml": 'policy:\n  paths: ["pol\\n::error file=ci.yml::missing"]\n'})
    for case, command in (("meta", "rules"), ("path", "rules"), ("path", "check")):
        r = run_cli(command, cwd=str(tmp_path / case))
        assert r.returncode == 2
        assert r.stderr.count("\n") == 1 and injected(r.stderr) == [], r.stderr


# -- file names that are not UTF-8 (surrogate escapes) in every reporter ----------------------------------

def _rule(rule_id="K8S002", name="memory-limit"):
    return Rule(id=rule_id, name=name, summary="summary \ufffe", why="why", fix="fix", targets=["k8s"],
                tags=["resources"], severity={0: "error", 1: "error", 2: "warning", 3: "info"}, since="0.1.0")


def _surrogate_result() -> Result:
    bad = "k8s/bad\udcff\udcfe.yaml"          # b"bad\xff\xfe.yaml" read with surrogateescape
    findings = [
        Finding("K8S002", "memory-limit", "error", f'container "c\udcff" in {bad} has no memory limit', bad,
                Span(3, 1, 4, 2), "svc\udcff", 1, "Deployment/a:c", "f1"),
        Finding("K8S002", "memory-limit", "warning", "waived", bad, Span(9, 1), None, 2, "Deployment/b:c", "f2",
                suppression=Suppression("waiver", "reason \udcff", "team\udcff", "2027-01-01", ".prr-waivers.yaml:1")),
    ]
    services = [ServiceSummary("svc\udcff", 1, bad, "owner\udcff")]
    return Result(root="/repo", findings=findings, rules=[_rule()], notices=[(bad, "empty file")],
                  services=services, files_read=1, documents=1)


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "junit", "json", "sarif", "gitlab"])
def test_non_utf8_file_names_print_in_every_format(fmt):
    out = render(fmt, _surrogate_result(), verbose=True, show_suppressed=True,
                 link_base="https://github.com/acme/shop/blob/abc")
    out.encode("utf-8")                      # strict: writing it to stdout or a file cannot fail
    assert injected(out, own_annotations=fmt == "github") == []
    if fmt in ("json", "sarif", "gitlab"):
        assert "k8s/bad\ufffd\ufffd.yaml" in json.dumps(json.loads(out), ensure_ascii=False)
    elif fmt == "junit":
        ET.fromstring(out.encode("utf-8"))
    else:
        assert ("k8s/bad\\\\xff\\\\xfe.yaml" if fmt == "markdown" else "k8s/bad\\xff\\xfe.yaml") in out
    if fmt == "markdown":
        assert "/k8s/bad%FF%FE.yaml#L3-L4" in out


# -- the Markdown summary stays under GitHub's 1 MiB limit -------------------------------------------------

@pytest.mark.slow
def test_markdown_summary_of_30000_hostile_findings_stays_under_1_mib():
    long = " ".join(HOSTILE) * 20                  # several KB of hostile text per message
    findings = [
        Finding("K8S002", "memory-limit", ("error", "warning", "info")[i % 3], f"{i}: {long}",
                f"k8s/{HOSTILE[i % len(HOSTILE)]}/{i}.yaml", Span(i % 500 + 1, 1), f"svc{i % 40}" if i % 2 else None,
                i % 4, f"Deployment/{i}", f"fp{i}")
        for i in range(30000)
    ]
    services = [ServiceSummary(f"svc{i}", i % 4, f"svc{i}/service.yaml", HOSTILE[i % len(HOSTILE)]) for i in range(40)]
    result = Result(root="/repo", findings=findings, rules=[_rule()], notices=[], services=services,
                    files_read=30000, documents=30000,
                    errors=[f"rule K8S002 failed on {HOSTILE[i % len(HOSTILE)]}: {long}" for i in range(500)])
    for link_base in (None, "https://github.com/acme/shop/blob/abc"):
        md = render("markdown", result, link_base=link_base)
        assert len(md.encode("utf-8")) <= MAX_BYTES
        assert "more rows not shown: GitHub limits a job summary to 1 MiB" in md
        assert "more errors" in md
        assert "<script" not in md and injected(md) == []
        assert_tables_well_formed(md)
        assert md.count("<details>") == md.count("</details>")
        # the tables are not empty: rows were shown until the budget was spent
        assert md.count("\n| :x: error |") > 50


# -- the escaping helpers themselves ----------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE + HOSTILE_FILES)
def test_one_line_never_breaks_a_line_nor_leaves_a_command(value):
    out = one_line(value)
    assert len(runner_lines(out)) == 1 and not LEGACY_COMMAND.search(out)
    assert not line_start(value).lstrip().startswith("::")
    assert one_line(out) == out                   # escaping twice changes nothing (cells escape code text)


def test_line_start_only_changes_a_leading_command():
    assert line_start("k8s/a::b.yaml") == "k8s/a::b.yaml"
    assert line_start("::error::x") == "\\x3a:error::x"
    assert line_start("\u00a0 ::add-mask::x") == "\u00a0 \\x3a:add-mask::x"
    assert one_line("k8s/ok-file_1.yaml") == "k8s/ok-file_1.yaml"
    assert printable("a\r\nb\x85", keep="\r\n") == "a\r\nb\\x85"


def test_multi_line_keeps_lines_and_tabs_but_no_command():
    out = multi_line("title\n::add-mask::x\r\n\tindented\x0b::error::y\n##[error]z")
    assert out.split("\n") == ["title", "\\x3a:add-mask::x", "\tindented\\x0b::error::y", "#\\x23[error]z"]


def test_markdown_cells_and_code():
    assert cell("a | b <b>x</b> `c`\n::add-mask::X") == "a \\| b &lt;b&gt;x&lt;/b&gt; \\`c\\` ::add-mask::X"
    assert code("K8S002") == "`K8S002`"
    assert code("a|b") == "`a\\|b`"
    # a backtick, HTML or a backslash cannot be carried by a code span: escaped plain text instead
    assert code("a`b") == "a\\`b"
    assert code("a\\|b") == "a\\\\\\|b"
    assert code("<script>") == "&lt;script&gt;"
    assert code("k8s/x\n::error::y.yaml:3") == "k8s/x\\\\n::error::y.yaml:3"
    assert len(cell("x" * 100000)) < 1100
