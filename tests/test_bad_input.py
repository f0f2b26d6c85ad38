"""Bad input is a finding at its place or a notice, never a traceback, and never hides other findings."""

import json
import os

import pytest

from conftest import BARE_DEPLOYMENT, write

GOOD_WITH_FINDING = BARE_DEPLOYMENT


def check_json(cli, repo, *extra):
    proc = cli("check", "--format", "json", "--no-cache", *extra, str(repo))
    assert "Traceback" not in proc.stderr
    return proc, json.loads(proc.stdout)


def pairs(report):
    return {(f["rule"], f["file"], f["line"]) for f in report["findings"]}


@pytest.mark.slow
def test_every_kind_of_bad_file_is_reported_and_the_rest_still_checked(cli, tmp_path):
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        bomb.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    write(tmp_path, {
        "ok/deploy.yaml": GOOD_WITH_FINDING,
        "bad/malformed.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: {a: 1\n",
        "bad/latin1.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n".encode("latin-1"),
        "bad/binary.yaml": b"\x00\x01\x02apiVersion",
        "bad/bomb.yaml": "apiVersion: v1\nkind: ConfigMap\n" + "\n".join(bomb) + "\n",
        "bad/deep.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 5_000 + "]" * 5_000 + "\n",
        "bad/main.tf": 'resource "aws_db_instance" "x" {\n  engine = \n}\n',
        "bad/plan.json": '{"format_version": "1.2", "resource_changes": [}\n',
        "bad/empty.yaml": "",
        "bad/big.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n" + "  k: v\n" * 20_000,
        ".prr-lint.yaml": "max_file_size: 100000\n",
    })
    proc, report = check_json(cli, tmp_path, "--verbose")
    assert proc.returncode == 1
    got = pairs(report)
    assert ("K8S002", "ok/deploy.yaml", 9) in got
    errors = {f["file"]: f for f in report["findings"] if f["rule"] == "PRR000"}
    assert errors["bad/malformed.yaml"]["line"] == 3  # where the unclosed mapping starts
    assert "invalid YAML" in errors["bad/malformed.yaml"]["message"]
    assert errors["bad/latin1.yaml"]["line"] == 3 and "not UTF-8" in errors["bad/latin1.yaml"]["message"]
    assert "binary" in errors["bad/binary.yaml"]["message"]
    assert "alias bomb" in errors["bad/bomb.yaml"]["message"]
    assert "nested deeper" in errors["bad/deep.yaml"]["message"]
    assert errors["bad/main.tf"]["line"] == 2 and "invalid HCL" in errors["bad/main.tf"]["message"]
    assert errors["bad/plan.json"]["line"] == 1 and "invalid JSON" in errors["bad/plan.json"]["message"]
    assert "max_file_size" in errors["bad/big.yaml"]["message"]
    assert "bad/empty.yaml" not in errors
    assert {"file": "bad/empty.yaml", "message": "empty file"} in report["notices"]


def test_chart_templates_are_never_parse_errors(cli, tmp_path):
    write(tmp_path, {
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/values.yaml": "image: {repository: web, tag: '1.0'}\n",
        "chart/templates/deployment.yaml":
            "apiVersion: apps/v1\nkind: Deployment\n{{- if .Values.x }}\nspec: {{ .Values.y }}\n",
        "chart/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        "chart/charts/sub/templates/x.yaml": "{{ include \"x\" . }}\nkind: {{\n",
    })
    proc, report = check_json(cli, tmp_path)
    # never read as YAML (no PRR000); rendered, the broken one fails to render (PRR005) when the SDK is installed
    assert [f["rule"] for f in report["findings"] if f["rule"] != "PRR005"] == []
    import importlib.util

    rendered = importlib.util.find_spec("helm_python") is not None
    assert [(f["file"], f["line"]) for f in report["findings"]] == \
        ([("chart/charts/sub/templates/x.yaml", 2)] if rendered else [])


def test_unknown_yaml_and_json_are_ignored_silently(cli, tmp_path):
    write(tmp_path, {
        ".github/workflows/ci.yml": "name: ci\non: push\njobs: {build: {runs-on: ubuntu-latest, steps: []}}\n",
        "docker-compose.yaml": "services:\n  web: {image: nginx}\n",
        "tsconfig.json": '{ // comments are fine here\n "compilerOptions": {} }\n',
        "notes.txt": "hello",
    })
    proc, report = check_json(cli, tmp_path)
    assert report["findings"] == [] and report["summary"]["files"] == 0
    # ignored without a finding; but a directory in which nothing at all is read does not pass a CI job
    assert proc.returncode == 2
    assert proc.stderr == (f"prr-lint: error: nothing checked: no file prr-lint reads in {tmp_path} "
                           '(see README, "How prr-lint reads a repository")\n')


def test_a_file_prr_lint_does_not_read_is_nothing_checked_not_an_error(cli, tmp_path):
    # pre-commit passes every staged YAML file: one prr-lint does not read passes, and says so
    write(tmp_path, {"docker-compose.yaml": "services:\n  web: {image: nginx}\n"})
    proc = cli("check", "--no-cache", str(tmp_path / "docker-compose.yaml"), cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == \
        (0, "Nothing checked: no file given is one prr-lint reads.\n", "")


def test_gitignored_files_and_symlinks_out_of_the_root_are_skipped(cli, tmp_path):
    import subprocess

    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    write(outside, {"deploy.yaml": GOOD_WITH_FINDING})
    write(repo, {
        ".gitignore": "generated/\n",
        "generated/deploy.yaml": GOOD_WITH_FINDING,
        "src/deploy.yaml": GOOD_WITH_FINDING,
    })
    os.symlink(outside / "deploy.yaml", repo / "src" / "linked.yaml")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    proc, report = check_json(cli, repo)
    assert {f["file"] for f in report["findings"]} == {"src/deploy.yaml"}


def test_exclude_globs_from_config(cli, tmp_path):
    write(tmp_path, {
        ".prr-lint.yaml": "exclude: ['vendor/', '*.generated.yaml']\n",
        "vendor/deploy.yaml": GOOD_WITH_FINDING,
        "a.generated.yaml": GOOD_WITH_FINDING,
        "app/deploy.yaml": GOOD_WITH_FINDING,
    })
    proc, report = check_json(cli, tmp_path)
    assert {f["file"] for f in report["findings"]} == {"app/deploy.yaml"}


@pytest.mark.slow
def test_usage_and_config_errors_exit_2_with_one_line(cli, tmp_path):
    write(tmp_path, {".prr-lint.yaml": "default_tier: 7\nfail_on: error\n"})
    proc = cli("check", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert ".prr-lint.yaml:1: default_tier: 7 is greater than the maximum of 3" in proc.stderr

    write(tmp_path, {".prr-lint.yaml": "exclude: [unclosed\n"})
    proc = cli("check", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.startswith("prr-lint: error: ")
    assert ".prr-lint.yaml:1: invalid YAML" in proc.stderr

    proc = cli("check", "--format", "xml", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1

    clean = tmp_path / "clean"
    clean.mkdir()
    proc = cli("check", str(clean / "missing"))
    assert proc.returncode == 2 and "no such file or directory" in proc.stderr

    proc = cli("rules", "NOPE999")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_unwritable_output_is_a_one_line_error(cli, tmp_path):
    write(tmp_path, {"k8s/deploy.yaml": GOOD_WITH_FINDING})
    proc = cli("check", "--no-cache", "-o", str(tmp_path / "missing" / "out.json"), str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot write report" in proc.stderr
