"""Selectors never fail open: an unknown id, name, tag or area in --select/--ignore, config select/ignore and
severity keys is exit 2 with a suggestion; a run that selects no rule is exit 2; `policy test --run` that
matches nothing is exit 2."""

import json
import os

import pytest

from ci_sample import FILES, RULES, make_repo, write
from conftest import ROOT

POLICY_EXAMPLES = os.path.join(ROOT, "examples", "policy")
BROKEN = {"services/checkout/k8s/broken.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [\n"}


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def rules_of(proc) -> set:
    assert proc.returncode in (0, 1), proc.stderr
    return {f["rule"] for f in json.loads(proc.stdout)["findings"]}


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo")


def check(cli, repo, *args):
    return cli("check", "--no-cache", "--format", "json", *args, str(repo))


@pytest.mark.parametrize("command", ["check", "gate", "baseline"])
def test_typo_in_select_is_an_error_with_a_suggestion(cli, repo, tmp_path, command):
    extra = ["-o", str(tmp_path / "b.json")] if command == "baseline" else []
    proc = cli(command, "--no-cache", "--select", "K8S02", *extra, str(repo))
    line = one_line_error(proc, "--select", "'K8S02'", "did you mean K8S002")
    assert "PASS" not in proc.stdout and "No findings" not in proc.stdout, line


@pytest.mark.parametrize("command", ["check", "gate"])
def test_unknown_ignore_is_an_error(cli, repo, command):
    one_line_error(cli(command, "--no-cache", "--ignore", "K8S002,memory-limt", str(repo)),
                   "--ignore", "'memory-limt'", "did you mean memory-limit")


@pytest.mark.slow
def test_ids_any_case_and_pack_folder_names_select(cli, repo):
    assert rules_of(check(cli, repo, "--select", "k8s002")) == {"K8S002"}
    terraform = rules_of(check(cli, repo, "--select", "terraform"))
    assert terraform == rules_of(check(cli, repo, "--select", "tf")) and "TF002" in terraform
    assert all(r.startswith("TF") for r in terraform)
    # `service`, `prometheus`, `engine` are the folders of svc, prom and prr rules
    service = rules_of(check(cli, repo, "--select", "service", "--ignore", "engine"))
    assert service and all(r.startswith("SVC") for r in service)
    # a name or tag in another case still names the rule
    assert rules_of(check(cli, repo, "--select", "MEMORY-LIMIT")) == {"K8S002"}


@pytest.mark.slow
def test_config_select_ignore_unknown(cli, repo):
    write(str(repo), {".prr-lint.yaml": "select: [K8S002, tf02]\n"})
    one_line_error(check(cli, repo), ".prr-lint.yaml: select", "'tf02'")
    write(str(repo), {".prr-lint.yaml": "ignore: [rollbak]\n"})
    one_line_error(check(cli, repo), ".prr-lint.yaml: ignore", "'rollbak'", "did you mean rollback")
    write(str(repo), {"pyproject.toml": '[tool.prr-lint]\nselect = ["K8S2"]\n'})
    os.remove(repo / ".prr-lint.yaml")
    one_line_error(check(cli, repo), "pyproject.toml: select", "'K8S2'")


@pytest.mark.slow
def test_config_severity_keys_and_levels(cli, repo):
    write(str(repo), {".prr-lint.yaml": "severity: {K8S02: warning}\n"})
    one_line_error(check(cli, repo), ".prr-lint.yaml: severity", "'K8S02'", "did you mean K8S002")
    # a tag is not a severity key: severity names one rule
    write(str(repo), {".prr-lint.yaml": "severity: {resources: warning}\n"})
    one_line_error(check(cli, repo), ".prr-lint.yaml: severity", "'resources'")
    write(str(repo), {".prr-lint.yaml": "severity:\n  K8S002: high\n"})
    one_line_error(check(cli, repo), ".prr-lint.yaml:2:", "severity.K8S002", "'high'", "error, warning, info, off")
    write(str(repo), {".prr-lint.yaml": "severity:\n  K8S002: {'1': loud}\n"})
    one_line_error(check(cli, repo), ".prr-lint.yaml:2:", "severity.K8S002.1", "'loud'")


@pytest.mark.slow
def test_severity_off_unquoted_lowercase_ids_and_int_tiers(cli, repo):
    assert "K8S002" in rules_of(check(cli, repo, "--select", RULES))
    for config in ("severity: {K8S002: off}\n",            # YAML 1.1 reads off as false
                   "severity: {k8s002: 'off'}\n",          # ids in any case
                   "severity: {memory-limit: {1: off}}\n"):  # the checkout service is tier 1; an int key
        write(str(repo), {".prr-lint.yaml": config})
        got = rules_of(check(cli, repo, "--select", RULES))
        assert "K8S002" not in got and "TF002" in got, config
    write(str(repo), {".prr-lint.yaml": "severity: {k8s002: info}\n"})
    proc = check(cli, repo, "--select", "K8S002")
    assert {f["severity"] for f in json.loads(proc.stdout)["findings"]} == {"info"}


@pytest.mark.slow
def test_no_rule_selected_is_exit_2(cli, repo, tmp_path):
    for args in (["--select", "K8S002", "--ignore", "k8s"], ["--ignore", "prr,svc,k8s,helm,tf,prom"]):
        one_line_error(check(cli, repo, *args), "no rule selected")
        proc = cli("gate", "--no-cache", *args, str(repo))
        assert proc.returncode == 2 and "no rule selected" in proc.stdout + proc.stderr, proc.stdout
        assert "PASS" not in proc.stdout
    write(str(repo), {".prr-lint.yaml": "ignore: [K8S002]\n"})
    one_line_error(check(cli, repo, "--select", "K8S002"), "no rule selected")


@pytest.mark.slow
def test_gate_parse_errors_survive_any_ignore(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, **BROKEN})
    for ignore in ("PRR000", "prr000", "parse-error", "engine", "prr"):
        proc = cli("gate", "--no-cache", "--select", RULES, "--ignore", ignore, str(repo))
        assert proc.returncode == 2 and "broken.yaml" in proc.stdout, (ignore, proc.stdout, proc.stderr)


@pytest.mark.slow
def test_policy_and_user_rule_ids_are_known(cli, repo):
    got = rules_of(check(cli, repo, "--policy", POLICY_EXAMPLES, "--select", "ORG001,org002"))
    assert got <= {"ORG001", "ORG002"}
    one_line_error(check(cli, repo, "--policy", POLICY_EXAMPLES, "--select", "ORG01"), "did you mean ORG001")
    # without the policies loaded their ids are unknown
    one_line_error(check(cli, repo, "--select", "ORG001"), "'ORG001'")


def test_policy_test_run_that_matches_nothing_is_exit_2(cli):
    proc = cli("policy", "test", POLICY_EXAMPLES, "--run", "no_such_test", cwd=ROOT)
    one_line_error(proc, "--run no_such_test", "matches no test_ rule")
    assert "PASS" not in proc.stdout
