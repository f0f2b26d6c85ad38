"""`prr-lint gate` on a pull request written by an attacker: every way to make it pass open, each a test.

The repository is untrusted input: its config, waiver files, inline comments and baseline can only weaken a
gate when the gate owner lets them, and a broken, empty or unselected run is never a pass.
"""

import json
import os
import subprocess

import pytest

from ci_sample import DEPLOY, FILES, RULES, TERRAFORM, commit, git, make_repo, write
from conftest import PRR

TODAY = "2026-11-01"
DEPLOY_FILE = "services/checkout/k8s/deploy.yaml"
TF_FILE = "services/checkout/infra/main.tf"
BROKEN_FILE = "services/checkout/k8s/broken.yaml"
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n"
CLEAN_DEPLOY = DEPLOY.replace("requests: {cpu: 50m, memory: 64Mi}",
                              "requests: {cpu: 50m, memory: 64Mi}\n            limits: {memory: 128Mi}")
CLEAN_TF = TERRAFORM.replace("= false", "= true")
CLEAN = {**FILES, DEPLOY_FILE: CLEAN_DEPLOY, TF_FILE: CLEAN_TF}
WAIVE_ALL = ("waivers:\n" + "".join(
    f"  - rule: {rule}\n    target: {{path: '**'}}\n    reason: trust me\n    owner: attacker\n"
    "    expires: 2099-01-01\n"
    for rule in ("PRR000", "parse-error", "PRR007", "rule-error", "K8S002", "TF002")))


def gate(cli, repo, *args, report=None, select=RULES):
    extra = ["--report", str(report)] if report else []
    sel = ["--select", select] if select else []
    proc = cli("gate", "--no-cache", *sel, "--today", TODAY, *extra, *args, str(repo))
    data = json.loads(report.read_text()) if report and report.exists() else None
    return proc, data


def undecided(proc, reason_part=None):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == "prr-lint gate: COULD NOT DECIDE (fail-closed, exit 2)", proc.stdout
    assert "Traceback" not in proc.stderr
    if reason_part is not None:
        assert any(reason_part in line for line in proc.stderr.splitlines()), proc.stderr


def broken_repo(tmp_path, extra=None):
    repo = make_repo(tmp_path / "repo", {**CLEAN, BROKEN_FILE: BROKEN, **(extra or {})})
    return repo


# -- 1. a file that cannot be parsed is never turned off, waived or baselined in a gate ---------------
def test_clean_repository_passes(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", CLEAN)
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert rep["decision"] == "pass"


@pytest.mark.slow
def test_parse_error_cannot_be_turned_off_by_severity(cli, tmp_path):
    for key in ("PRR000", "parse-error", "prr000", "Prr000"):
        repo = broken_repo(tmp_path / key, {".prr-lint.yaml": f"severity: {{{key}: 'off'}}\n"})
        undecided(gate(cli, repo)[0], f"{BROKEN_FILE}:")
        undecided(gate(cli, repo, select=None)[0], f"{BROKEN_FILE}:")
    repo = broken_repo(tmp_path / "tiers", {".prr-lint.yaml": "severity: {PRR000: {'1': 'off', '2': 'off'}}\n"})
    undecided(gate(cli, repo)[0], f"{BROKEN_FILE}:")


@pytest.mark.slow
def test_parse_error_cannot_be_ignored_by_tag_or_area(cli, tmp_path):
    repo = broken_repo(tmp_path)
    for ignored in ("config", "engine", "PRR000", "parse-error"):
        undecided(gate(cli, repo, "--ignore", ignored)[0])
    write(str(repo), {".prr-lint.yaml": "ignore: [config]\n"})
    undecided(gate(cli, repo)[0])


@pytest.mark.slow
def test_parse_error_cannot_be_waived_in_a_waiver_file(cli, tmp_path):
    repo = broken_repo(tmp_path, {".prr-waivers.yaml": WAIVE_ALL})
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    undecided(proc, f"{BROKEN_FILE}:")
    assert rep["decision"] == "error"
    assert all(w["rule"] not in ("PRR000", "parse-error") for w in rep["waivers"]["applied"])
    # a waiver file named on the command line cannot either
    write(str(tmp_path), {"waivers.yaml": WAIVE_ALL})
    repo2 = broken_repo(tmp_path / "two")
    undecided(gate(cli, repo2, "--waivers", str(tmp_path / "waivers.yaml"))[0], f"{BROKEN_FILE}:")


@pytest.mark.slow
def test_parse_error_cannot_be_waived_inline(cli, tmp_path):
    same_line = "apiVersion: v1\nkind: ConfigMap\nmetadata: a: b  # prr-lint: disable=PRR000,parse-error reason=x\n"
    line_above = "apiVersion: v1\n# prr-lint: disable=PRR000 reason=x\nkind: a: b\n"
    for name, text in (("same", same_line), ("above", line_above)):
        repo = broken_repo(tmp_path / name, {BROKEN_FILE: text})
        undecided(gate(cli, repo)[0], f"{BROKEN_FILE}:")
    # `check` honours a comment the parser read before the error: the gate is stricter on purpose
    proc = cli("check", "--no-cache", "--select", RULES, "--format", "json", str(tmp_path / "above" / "repo"))
    assert [f["rule"] for f in json.loads(proc.stdout)["findings"] if f["suppressed"]] == ["PRR000"]
    # past the point where the parser stopped, nothing is known to be a comment: it waives nothing
    proc = cli("check", "--no-cache", "--select", RULES, "--format", "json", str(tmp_path / "same" / "repo"))
    assert [(f["rule"], f["suppressed"]) for f in json.loads(proc.stdout)["findings"]] == [("PRR000", None)]


@pytest.mark.slow
def test_parse_error_cannot_be_baselined(cli, tmp_path):
    repo = broken_repo(tmp_path)
    baseline = tmp_path / "baseline.json"
    proc = cli("baseline", "--no-cache", "--select", RULES, "-o", str(baseline), str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "PRR000" in baseline.read_text()
    undecided(gate(cli, repo, "--baseline", str(baseline))[0], f"{BROKEN_FILE}:")


def test_a_rule_that_crashes_is_never_a_pass(cli, tmp_path):
    """A rule that raises on a document (PRR007 rule-error, or a run error) cannot be waived or turned off."""
    write(str(tmp_path / "pack" / "ACME901-crash"), {"rule.py": (
        "from prr_lint.rule import rule\n\n"
        "@rule(id='ACME901', name='crash', summary='Raises on every Kubernetes document.',\n"
        "      why='A stand-in for a rule with a bug.', fix='Nothing to fix.', targets=['k8s'], tags=[],\n"
        "      severity='error', since='0.1.0')\n"
        "def check(doc, ctx):\n    raise RuntimeError('boom')\n")})
    config = (f"rule_paths: ['{tmp_path / 'pack'}']\n"
              "severity: {PRR007: 'off', rule-error: 'off'}\n")
    for name, cfg_key in (("repo", ".prr-lint.yaml"),):
        repo = make_repo(tmp_path / name, {**CLEAN, cfg_key: config, ".prr-waivers.yaml": WAIVE_ALL})
        proc, _ = gate(cli, repo, select=RULES + ",ACME901")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "boom" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_diff_never_hides_a_parse_error_from_the_gate(cli, tmp_path):
    """`--diff-base` narrows what is reported to the change, but a file that cannot be read is a reason not to
    decide wherever it is; `check` keeps reporting only what the change touched."""
    repo = broken_repo(tmp_path)
    base = git(repo, "rev-parse", "HEAD").strip()  # the broken file is already there
    write(str(repo), {"services/checkout/README.md": "# Checkout\n"})
    commit(repo, "docs")
    undecided(gate(cli, repo, "--diff-base", base)[0], f"{BROKEN_FILE}:")
    proc = cli("check", "--no-cache", "--select", RULES, "--today", TODAY, "--diff-base", base, str(repo))
    assert proc.returncode == 0 and "PRR000" not in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.slow
def test_unwritable_report_is_could_not_decide(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", CLEAN)
    proc, _ = gate(cli, repo, "--report", str(tmp_path / "missing-dir" / "gate.json"))
    undecided(proc, "cannot write report")
    # also when the decision was already "could not decide" for another reason
    proc, _ = gate(cli, broken_repo(tmp_path / "b"), "--report", str(tmp_path / "missing-dir" / "gate.json"))
    undecided(proc, "cannot write report")


def _closed_pipe_run(*args):
    """Run prr-lint with stdout a pipe nobody reads (`prr-lint ... | true`): every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([PRR, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=300,
                              env={**os.environ, "NO_COLOR": "1"})
    finally:
        os.close(write_end)
    return proc


@pytest.mark.slow
def test_broken_pipe_is_never_a_pass(tmp_path):
    repo = make_repo(tmp_path / "repo", CLEAN)
    proc = _closed_pipe_run("gate", "--no-cache", "--select", RULES, str(repo))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    proc = _closed_pipe_run("check", "--no-cache", "--select", RULES, str(repo))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


# -- 2. a gate that read nothing or selected nothing cannot decide ------------------------------------
@pytest.mark.slow
def test_nothing_read_in_the_given_paths(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**CLEAN, "docs/README.md": "# docs\n", "empty/notes.txt": "x\n"})
    for sub in ("docs", "empty"):
        proc, rep = gate(cli, repo / sub, report=tmp_path / "gate.json")
        undecided(proc, "nothing to decide on")
        assert rep["decision"] == "error"


@pytest.mark.slow
def test_nothing_selected(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", CLEAN)
    for select in ("PRR000", "K8S02", "parse-error", "PRR000,PRR007"):
        undecided(gate(cli, repo, select=select)[0])
    write(str(repo), {".prr-lint.yaml": "select: [PRR000]\n"})
    undecided(gate(cli, repo, select=None)[0], "no rule selected")


def test_unknown_service_is_could_not_decide(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", CLEAN)
    undecided(gate(cli, repo, "--service", "checkuot")[0], "no service named 'checkuot'")


# -- 3. a pull request cannot weaken a gate whose config comes from a trusted path --------------------
def trusted(tmp_path, text="fail_on: error\n", files=None, name="gate.yaml"):
    write(str(tmp_path / "platform"), {name: text, **(files or {})})
    return str(tmp_path / "platform" / name)


def blocking(rep):
    return sorted((b["rule"], b["file"]) for b in rep["blocking"])


BOTH = [("K8S002", DEPLOY_FILE), ("TF002", TF_FILE)]


@pytest.mark.slow
def test_trusted_config_ignores_the_repository_config(cli, tmp_path):
    weakening = ("severity: {K8S002: 'off', TF002: 'off'}\nignore: [K8S002, TF002]\n"
                 "inline_waivers: true\nwaivers: risks.yaml\nexclude: ['services/**']\n")
    repo = make_repo(tmp_path / "repo", {**FILES, ".prr-lint.yaml": weakening, "risks.yaml": WAIVE_ALL,
                                         "pyproject.toml": "[tool.prr-lint]\nignore = ['K8S002', 'TF002']\n"})
    assert gate(cli, repo)[0].returncode != 1  # the attack works without a trusted config
    proc, rep = gate(cli, repo, "--config", trusted(tmp_path), report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert blocking(rep) == BOTH
    # pyproject.toml alone, in a sub-directory too
    repo2 = make_repo(tmp_path / "repo2", {**FILES, "pyproject.toml": "[tool.prr-lint]\nignore = ['K8S002', 'TF002']\n",
                                           "services/.prr-lint.yaml": "ignore: [K8S002, TF002]\n"})
    assert gate(cli, repo2 / "services")[0].returncode == 0
    proc, rep = gate(cli, repo2 / "services", "--config", trusted(tmp_path), report=tmp_path / "gate.json")
    assert proc.returncode == 1 and blocking(rep) == BOTH


@pytest.mark.slow
def test_trusted_config_ignores_the_repository_waiver_files(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, ".prr-waivers.yaml": WAIVE_ALL,
                                         "services/checkout/.prr-waivers.yaml": WAIVE_ALL})
    assert gate(cli, repo)[0].returncode == 0  # the attack works without a trusted config
    proc, rep = gate(cli, repo, "--config", trusted(tmp_path), report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert blocking(rep) == BOTH and rep["waivers"]["applied"] == []


@pytest.mark.slow
def test_trusted_config_takes_its_waiver_file_from_beside_itself(cli, tmp_path):
    k8s_only = WAIVE_ALL.split("  - rule: K8S002")[0].split("  - rule:")[0] + \
        "  - rule: K8S002\n    target: {service: checkout}\n    reason: LimitRange\n    owner: platform\n" \
        "    expires: 2099-01-01\n"
    # the repository has a file of the same name that waives everything: it is not the one the gate uses
    repo = make_repo(tmp_path / "repo", {**FILES, "accepted.yaml": WAIVE_ALL})
    config = trusted(tmp_path, "waivers: accepted.yaml\n", {"accepted.yaml": k8s_only})
    proc, rep = gate(cli, repo, "--config", config, report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert blocking(rep) == [("TF002", TF_FILE)]
    assert [w["source"] for w in rep["waivers"]["applied"]] == [str(tmp_path / "platform" / "accepted.yaml") + ":2"]
    # and a waiver file given on the command line applies as well
    proc, rep = gate(cli, repo, "--config", trusted(tmp_path),
                     "--waivers", str(tmp_path / "platform" / "accepted.yaml"), report=tmp_path / "gate.json")
    assert proc.returncode == 1 and blocking(rep) == [("TF002", TF_FILE)]


@pytest.mark.slow
def test_trusted_config_inline_waivers_off(cli, tmp_path):
    deploy = DEPLOY.replace("          resources:\n            requests: {cpu: 50m",
                            "          # prr-lint: disable=K8S002 reason=\"trust me\"\n"
                            "          resources:\n            requests: {cpu: 50m")
    repo = make_repo(tmp_path / "repo", {**FILES, TF_FILE: CLEAN_TF, DEPLOY_FILE: deploy})
    assert gate(cli, repo, "--config", trusted(tmp_path))[0].returncode == 0
    for args in (("--config", trusted(tmp_path, "inline_waivers: false\n", name="strict.yaml")),
                 ("--config", trusted(tmp_path), "--no-inline-waivers")):
        proc, rep = gate(cli, repo, *args, report=tmp_path / "gate.json")
        assert proc.returncode == 1 and blocking(rep) == [("K8S002", DEPLOY_FILE)]


# -- 4. only real comments waive ------------------------------------------------------------------------
def _check_suppressed(cli, repo):
    proc = cli("check", "--no-cache", "--select", RULES, "--format", "json", "--today", TODAY, str(repo))
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    return sorted((f["rule"], f["line"], bool(f["suppressed"])) for f in findings)


@pytest.mark.slow
def test_waiver_syntax_inside_a_yaml_string_waives_nothing(cli, tmp_path):
    in_string = DEPLOY.replace(
        "          resources:\n            requests: {cpu: 50m, memory: 64Mi}\n",
        "          resources: {requests: {cpu: 50m, memory: 64Mi}, x: \"# prr-lint: disable=K8S002 reason=x\"}\n")
    in_block = DEPLOY.replace(
        "          resources:\n            requests: {cpu: 50m",
        "          args:\n            - |\n              # prr-lint: disable=K8S002 reason=x\n"
        "          resources:\n            requests: {cpu: 50m")
    in_single = DEPLOY.replace(
        "          resources:\n            requests: {cpu: 50m, memory: 64Mi}\n",
        "          resources: {requests: {cpu: 50m, memory: 64Mi}, x: '# prr-lint: disable=K8S002'}\n")
    for name, text in (("string", in_string), ("block", in_block), ("single", in_single)):
        repo = make_repo(tmp_path / name, {**FILES, TF_FILE: CLEAN_TF, DEPLOY_FILE: text})
        found = _check_suppressed(cli, repo)
        assert [f for f in found if f[0] == "K8S002"] and not any(s for _, _, s in found), (name, found)
        assert gate(cli, repo)[0].returncode == 1, name
    # a real comment after the same string still waives
    real = in_string.replace("reason=x\"}\n", "reason=x\"}  # prr-lint: disable=K8S002 reason=real\n")
    repo = make_repo(tmp_path / "real", {**FILES, TF_FILE: CLEAN_TF, DEPLOY_FILE: real})
    assert [s for r, _, s in _check_suppressed(cli, repo) if r == "K8S002"] == [True]
    assert gate(cli, repo)[0].returncode == 0


@pytest.mark.slow
def test_waiver_syntax_inside_an_hcl_string_waives_nothing(cli, tmp_path):
    scratch = ('resource "aws_db_instance" "scratch" {\n  engine = "postgres"\n'
               '  backup_retention_period = 7\n  deletion_protection = false\n}\n')
    in_string = scratch.replace("deletion_protection = false", 'deletion_protection = false\n'
                                '  tags = { note = "x" }')
    in_label = scratch.replace('"scratch" {', '"# prr-lint: disable=TF002 reason=x" {') \
        .replace("  deletion_protection = false\n", "")
    in_heredoc = scratch.replace('  deletion_protection = false\n',
                                 '  deletion_protection = false\n  description = <<EOT\n'
                                 '// prr-lint: disable=TF002\nEOT\n')
    for name, text in (("label", in_label), ("heredoc", in_heredoc), ("string", in_string)):
        repo = make_repo(tmp_path / name, {**FILES, DEPLOY_FILE: CLEAN_DEPLOY, TF_FILE: text})
        found = _check_suppressed(cli, repo)
        assert [f for f in found if f[0] == "TF002"] and not any(s for _, _, s in found), (name, found)
        assert gate(cli, repo)[0].returncode == 1, name
    # `#` and `//` comments waive; so does a `#` after a string holding `//`
    for comment in ('# prr-lint: disable=TF002 reason=a', '// prr-lint: disable=TF002 reason=b'):
        text = scratch.replace("deletion_protection = false", f"deletion_protection = false  {comment}")
        repo = make_repo(tmp_path / comment[:2].replace("/", "s"), {**FILES, DEPLOY_FILE: CLEAN_DEPLOY, TF_FILE: text})
        assert [s for r, _, s in _check_suppressed(cli, repo) if r == "TF002"] == [True], comment


# -- 5. what the gate prints cannot start a workflow command ---------------------------------------------
def _no_command_lines(proc):
    for stream in (proc.stdout, proc.stderr):
        for line in stream.splitlines():
            assert not line.lstrip().startswith("::"), line
            assert "\r" not in line


@pytest.mark.slow
def test_gate_output_is_escaped(cli, tmp_path):
    hostile = DEPLOY.replace("name: sidecar", 'name: "sidecar\\n::add-mask::X\\r::error::Y"')
    waivers = ("waivers:\n  - rule: TF002\n    target: {service: checkout}\n    reason: \"r\\n::add-mask::R\"\n"
               "    owner: \"team\\n::add-mask::O\"\n    expires: 2026-11-05\n")
    repo = make_repo(tmp_path / "repo", {**FILES, DEPLOY_FILE: hostile, ".prr-waivers.yaml": waivers})
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "::add-mask::X" in proc.stdout and "(owner: team\\n::add-mask::O)" in proc.stdout
    _no_command_lines(proc)
    # a file name that breaks the line, on the could-not-decide path (stdout and stderr)
    name = "services/checkout/k8s/bad\n::error file=ci.yml::X.yaml"
    write(str(repo), {name: BROKEN})
    proc, rep = gate(cli, repo, report=tmp_path / "gate.json")
    undecided(proc)
    assert "bad\\n::error file=ci.yml::X.yaml" in proc.stdout
    _no_command_lines(proc)
    assert any(name in r for r in rep["reasons"])  # the JSON report keeps the real name


# -- Python rule packs are code: never loaded from the checked repository unless trusted --------------
MARKER_RULE = (
    "import pathlib\npathlib.Path({marker!r}).write_text('ran')\n"
    "from prr_lint.rule import rule\n\n"
    "@rule(id='ACME902', name='marker', summary='Writes a file when imported.',\n"
    "      why='A stand-in for a hostile rule pack.', fix='Nothing to fix.', targets=['k8s'], tags=[],\n"
    "      severity='error', since='0.1.0')\n"
    "def check(doc, ctx):\n    return []\n")


@pytest.mark.slow
def test_python_rules_inside_the_repository_never_run(cli, tmp_path):
    marker = tmp_path / "ran"
    repo = make_repo(tmp_path / "repo", {
        **CLEAN, ".prr-lint.yaml": "rule_paths: [team-rules]\n",
        "team-rules/ACME902-marker/rule.py": MARKER_RULE.format(marker=str(marker)),
    })
    for command in (["gate"], ["check"], ["baseline", "-o", str(tmp_path / "b.json")]):
        proc = cli(*command, "--no-cache", str(repo))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "a Python rule inside the checked repository" in proc.stderr
        assert "--trust-repo-rules" in proc.stderr
        assert not marker.exists()
    proc = subprocess.run([PRR, "rules"], cwd=str(repo), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and not marker.exists(), proc.stdout + proc.stderr
    # where the repository is trusted (a laptop), the owner says so
    proc = cli("check", "--no-cache", "--trust-repo-rules", "--select", "ACME902", str(repo))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert marker.exists()
    marker.unlink()
    env = {**os.environ, "PRR_LINT_TRUST_REPO_RULES": "1"}
    proc = subprocess.run([PRR, "rules", "ACME902"], cwd=str(repo), capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0 and marker.exists(), proc.stdout + proc.stderr
