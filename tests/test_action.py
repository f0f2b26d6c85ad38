"""The GitHub Action: action.yml and the example workflow validate; its steps run under a fake runner.

The fake runner reads action.yml and runs each composite `run` step with bash the way the Actions runner does
(`bash --noprofile --norc -eo pipefail`), with the step's `env:` expressions evaluated from the inputs and the
outputs of earlier steps, and GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, GITHUB_WORKSPACE and
RUNNER_TEMP in tmp_path. `uses:` steps are not run: setup-python's output is this interpreter, and whether
upload-sarif would run, with what file, is recorded. The install step runs for real once (a new virtualenv with
prr-lint pip-installed from this checkout) and every run uses that installation.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import jsonschema
import pytest
import yaml

from conftest import ROOT, git, shared_schema

pytestmark = pytest.mark.slow  # every test runs the action's scripts end to end

MONOREPO = os.path.join(ROOT, "examples", "monorepo")


def _load(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _schema(name):
    with open(shared_schema(name), encoding="utf-8") as fh:
        return json.load(fh)


ACTION = _load(os.path.join(ROOT, "action.yml"))


# -- static checks ---------------------------------------------------------------------------------

def test_action_validates_against_the_schema():
    jsonschema.validate(ACTION, _schema("github-action.schema.json"))
    assert ACTION["runs"]["using"] == "composite"


def test_action_has_the_documented_inputs_and_outputs():
    for name in ("paths", "config", "fail-on", "sarif-file", "upload-sarif", "category", "diff-base", "baseline",
                 "version", "cache"):
        assert name in ACTION["inputs"], name
    assert {"sarif-file", "errors", "warnings", "exit-code"} <= set(ACTION["outputs"])


def test_no_expression_inside_script_text():
    """Values reach scripts through env: only; `${{ }}` in run: text would be script injection."""
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"


def test_every_input_reaches_a_step():
    text = open(os.path.join(ROOT, "action.yml"), encoding="utf-8").read()
    for name in ACTION["inputs"]:
        assert re.search(rf"inputs\.{re.escape(name)}\b(?!-)", text), name


def test_actions_are_pinned_to_a_commit():
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    setup = next(s for s in ACTION["runs"]["steps"] if s["uses"].startswith("actions/setup-python@")
                 if "uses" in s)
    assert re.fullmatch(r"\d+\.\d+", ACTION["inputs"]["python-version"]["default"])
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"


def _workflow(text):
    """A workflow as GitHub reads it: YAML 1.2, where `on` is a string, not YAML 1.1's true."""
    data = yaml.safe_load(text)
    if True in data:
        data["on"] = data.pop(True)
    return data


def _readme_workflow():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    workflows = [b for b in blocks if "uses: prr-lint/prr-lint@" in b]
    assert len(workflows) == 1, "README must show one workflow that uses the action"
    return workflows[0]


def test_example_workflow_validates():
    schema = _schema("github-workflow.schema.json")
    with open(os.path.join(ROOT, "examples", "github-workflow.yml"), encoding="utf-8") as fh:
        example = _workflow(fh.read())
    assert "pull_request" in example["on"]
    jsonschema.validate(example, schema)
    step = next(s for s in example["jobs"]["prr-lint"]["steps"] if str(s.get("uses", "")).startswith("prr-lint/"))
    assert set(step["with"]) <= set(ACTION["inputs"])


def test_readme_workflow_is_the_example_and_validates():
    snippet = _readme_workflow()
    jsonschema.validate(_workflow(snippet), _schema("github-workflow.schema.json"))
    with open(os.path.join(ROOT, "examples", "github-workflow.yml"), encoding="utf-8") as fh:
        assert snippet == fh.read()


def test_scripts_pass_bash_syntax_check():
    for script in ("action-run.sh", "action-install.sh", "action-cache.sh"):
        subprocess.run(["bash", "-n", os.path.join(ROOT, "scripts", script)], check=True)


# -- the fake runner -------------------------------------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class Runner:
    def __init__(self, tmp, workspace, inputs, event=None, action_path=ROOT, installed=None, event_name="push",
                 store=None):
        self.tmp = tmp
        self.event_name = event_name
        # actions/cache's entries, a directory per key: restore and save are simulated with copies
        self.store = store or os.path.join(tmp, "actions-cache")
        self.restored = self.saved = None
        os.makedirs(tmp, exist_ok=True)
        self.workspace = str(workspace)
        self.inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        self.inputs.update(inputs)
        self.steps: dict = {}
        self.action_path = action_path
        self.installed = installed
        self.summary = os.path.join(tmp, "step_summary.md")
        open(self.summary, "w").close()
        self.event = os.path.join(tmp, "event.json")
        with open(self.event, "w") as fh:
            json.dump(event or {}, fh)
        self.runner_temp = os.path.join(tmp, "runner-temp")
        os.makedirs(self.runner_temp, exist_ok=True)
        self.logs: dict = {}
        self.uploaded = None
        self.failed_step = None

    def value(self, expr: str) -> str:
        expr = expr.strip()
        if expr.startswith("inputs."):
            return self.inputs.get(expr[7:], "")
        if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
            return self.steps.get(m.group(1), {}).get(m.group(2), "")
        if expr == "github.action_path":
            return self.action_path
        if expr == "github.workspace":
            return self.workspace
        raise AssertionError(f"the fake runner does not know {expr!r}")

    def expand(self, text) -> str:
        return _EXPR.sub(lambda m: self.value(m.group(1)), str(text))

    def condition(self, text) -> bool:
        expr = _EXPR.fullmatch(text.strip()).group(1) if text.strip().startswith("${{") else text
        py = re.sub(r"(inputs\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+)", lambda m: repr(self.value(m.group(1))), expr)
        py = py.replace("&&", " and ").replace("||", " or ")
        assert re.fullmatch(r"[\s'\w./!=()-]*", py.replace(" and ", " ").replace(" or ", " ")), py
        return bool(eval(py, {}))  # only literals and comparisons remain

    def run(self):
        for step in ACTION["runs"]["steps"]:
            if "if" in step and not self.condition(step["if"]):
                continue
            if "uses" in step:
                if step["uses"].startswith("actions/setup-python@"):
                    self.steps[step["id"]] = {"python-path": sys.executable}
                elif step["uses"].startswith("github/codeql-action/upload-sarif@"):
                    self.uploaded = {k: self.expand(v) for k, v in step["with"].items()}
                elif step["uses"].startswith("actions/cache/restore@"):
                    self.steps[step["id"]] = self._restore({k: self.expand(v) for k, v in step["with"].items()})
                elif step["uses"].startswith("actions/cache/save@"):
                    self._save({k: self.expand(v) for k, v in step["with"].items()})
                continue
            if step.get("id") == "install" and self.installed:
                self.steps["install"] = {"prr-lint": self.installed}
                continue
            rc = self.run_step(step)
            if rc != 0:
                self.failed_step = (step["name"], rc)
                break
        return {name: self.expand(out["value"]) for name, out in ACTION["outputs"].items()}

    def _restore(self, given) -> dict:
        """actions/cache/restore: the entry of the exact key, else the newest whose key starts with a restore key."""
        os.makedirs(self.store, exist_ok=True)
        keys = sorted(os.listdir(self.store), key=lambda k: os.stat(os.path.join(self.store, k)).st_mtime_ns)
        found = given["key"] if given["key"] in keys else next(
            (k for prefix in given.get("restore-keys", "").splitlines() if prefix
             for k in reversed(keys) if k.startswith(prefix)), None)
        self.restored = found
        if found is None:
            return {}
        shutil.copytree(os.path.join(self.store, found), given["path"], dirs_exist_ok=True)
        return {"cache-hit": "true" if found == given["key"] else "false", "cache-matched-key": found}

    def _save(self, given) -> None:
        target = os.path.join(self.store, given["key"])
        assert not os.path.exists(target), "actions/cache never saves over an existing key"
        shutil.copytree(given["path"], target)
        self.saved = given["key"]

    def run_step(self, step) -> int:
        output = os.path.join(self.tmp, f"output-{step.get('id', 'x')}")
        open(output, "w").close()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "PRR_"))}
        env.update(GITHUB_OUTPUT=output, GITHUB_STEP_SUMMARY=self.summary, GITHUB_EVENT_PATH=self.event,
                   GITHUB_WORKSPACE=self.workspace, GITHUB_ACTION_PATH=self.action_path,
                   GITHUB_ACTIONS="true", CI="true", RUNNER_TEMP=self.runner_temp, RUNNER_OS="Linux",
                   GITHUB_EVENT_NAME=self.event_name,
                   GITHUB_REPOSITORY="acme/shop", GITHUB_SERVER_URL="https://github.com",
                   GITHUB_SHA=git(self.workspace, "rev-parse", "HEAD").strip())
        env.update({k: self.expand(v) for k, v in step.get("env", {}).items()})
        cwd = os.path.join(self.workspace, self.expand(step.get("working-directory", ".")))
        script = os.path.join(self.tmp, f"step-{step.get('id', 'x')}.sh")
        with open(script, "w") as fh:
            fh.write(step["run"])
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=900)
        self.logs[step.get("id") or step["name"]] = proc.stdout + proc.stderr
        outputs = {}
        lines = iter(open(output, encoding="utf-8").read().splitlines())
        for line in lines:
            name, _, value = line.partition("=")
            if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
                name, _, end = line.partition("<<")      # name<<DELIMITER, the lines, DELIMITER
                value = "\n".join(iter(lambda: next(lines), end))
            outputs[name] = value
        self.steps[step.get("id", step["name"])] = outputs
        return proc.returncode

    @property
    def summary_text(self):
        return open(self.summary, encoding="utf-8").read()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The action's install step, for real: a virtualenv with prr-lint from this checkout."""
    tmp = str(tmp_path_factory.mktemp("install"))
    ws = tmp_path_factory.mktemp("install-ws")
    git(ws, "init", "-q")
    git(ws, "commit", "-q", "--allow-empty", "-m", "empty")
    runner = Runner(tmp, ws, {})
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "install")
    runner.steps["python"] = {"python-path": sys.executable}
    assert runner.run_step(step) == 0, runner.logs
    exe = runner.steps["install"]["prr-lint"]
    assert exe.startswith(runner.runner_temp) and os.access(exe, os.X_OK)
    assert "prr-lint 0.1.0" in runner.logs["install"] or "prr-lint " in runner.logs["install"]
    return exe


@pytest.fixture
def workspace(tmp_path):
    """The sample monorepo as a checked-out repository of its own."""
    ws = tmp_path / "workspace"
    shutil.copytree(MONOREPO, ws, ignore=shutil.ignore_patterns(".prr-lint-cache"))
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "monorepo")
    return ws


def _json_report(installed, ws, *args):
    proc = subprocess.run([installed, "check", "--format", "json", "--fail-on", "never", *args], cwd=ws,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_full_run(tmp_path, workspace, installed):
    runner = Runner(str(tmp_path), workspace, {"category": "prr/monorepo", "fail-on": "error"},
                    installed=installed)
    out = runner.run()
    expected = _json_report(installed, workspace)["summary"]
    assert expected["errors"] > 0
    assert out["errors"] == str(expected["errors"]) and out["warnings"] == str(expected["warnings"])
    assert out["exit-code"] == "1"
    assert runner.failed_step == ("Verdict", 1)
    # SARIF: written, the full analysis, with the category, uploaded
    assert out["sarif-file"] == os.path.join(str(workspace), "prr-lint.sarif")
    sarif = json.load(open(out["sarif-file"]))
    assert sarif["runs"][0]["automationDetails"] == {"id": "prr/monorepo/"}
    assert len(sarif["runs"][0]["results"]) == expected["errors"] + expected["warnings"] + expected["info"]
    assert runner.uploaded == {"sarif_file": out["sarif-file"], "category": "prr/monorepo"}
    # annotations in the log, paths relative to the workspace
    log = runner.logs["run"]
    annotations = [x for x in log.splitlines() if re.match(r"::(error|warning|notice) file=", x)]
    assert len(annotations) == expected["errors"] + expected["warnings"] + expected["info"]
    assert re.search(r"^::error file=services/inventory/service\.yaml,line=\d+.*title=SVC001 owner::", log, re.M)
    # the job summary: the readiness table, with links to the analysed commit
    sha = git(workspace, "rev-parse", "HEAD").strip()
    summary = runner.summary_text
    assert summary.startswith("## prr-lint: production readiness")
    assert re.search(r"^\| :(white_check_mark|warning|x): \| `checkout` \| 1 \| team-payments \| \d+ \| \d+ \|",
                     summary, re.M)
    assert "| :x: | `inventory` | 0 | — |" in summary
    assert f"](https://github.com/acme/shop/blob/{sha}/services/inventory/service.yaml#L" in summary
    assert out["report-file"].startswith(runner.runner_temp)


def test_fail_on_never_passes_and_upload_can_be_turned_off(tmp_path, workspace, installed):
    runner = Runner(str(tmp_path), workspace, {"fail-on": "never", "upload-sarif": "false", "summary": "false",
                                                "sarif-file": "out/prr.sarif"},
                    installed=installed)
    os.makedirs(workspace / "out")
    out = runner.run()
    assert out["exit-code"] == "0" and int(out["errors"]) > 0
    assert runner.failed_step is None
    assert runner.uploaded is None
    assert out["sarif-file"] == os.path.join(str(workspace), "out", "prr.sarif")
    assert runner.summary_text == ""


def test_paths_config_and_args(tmp_path, workspace, installed):
    (workspace / "ci.yaml").write_text("default_tier: 2\nfail_on: warning\n")
    runner = Runner(str(tmp_path), workspace, {"paths": "services/checkout\nlegacy-batch", "config": "ci.yaml",
                                                "args": "--select PROM001"}, installed=installed)
    out = runner.run()
    # legacy-batch has one PROM001 warning; checkout none; fail_on comes from the config
    assert (out["errors"], out["warnings"], out["exit-code"]) == ("0", "1", "1")
    assert "legacy-batch/alerts.yaml" in runner.logs["run"]
    assert "services/inventory" not in runner.logs["run"] + runner.summary_text


def test_diff_base_auto_reports_only_the_change(tmp_path, workspace, installed):
    base = git(workspace, "rev-parse", "HEAD").strip()
    git(workspace, "checkout", "-q", "-b", "feature")
    rollout = workspace / "services/checkout/k8s/rollout.yaml"
    rollout.write_text(rollout.read_text().replace("limits: {memory: 512Mi}", "limits: {}"))
    git(workspace, "commit", "-q", "-am", "drop the memory limit")
    event = {"pull_request": {"number": 7, "base": {"sha": base, "ref": "main"}, "head": {"sha": "f" * 40}}}
    runner = Runner(str(tmp_path), workspace, {"diff-base": "auto"}, event=event, installed=installed)
    out = runner.run()
    assert (out["errors"], out["warnings"], out["exit-code"]) == ("1", "0", "1")
    annotations = [x for x in runner.logs["run"].splitlines() if x.startswith("::")]
    errors = [x for x in annotations if x.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error file=services/checkout/k8s/rollout.yaml,line=")
    assert "title=K8S002 memory-limit::" in errors[0]
    # besides it, only the service-level findings of the service the change touched (diff.py keeps those)
    assert [x.split(",")[0] for x in annotations if x not in errors] == ["::notice file=services/checkout/service.yaml"]
    assert f"Scope: only findings on lines changed since `{base}`" in runner.summary_text
    # the SARIF is still the whole analysis
    assert len(json.load(open(out["sarif-file"]))["runs"][0]["results"]) > 1


def test_diff_base_auto_outside_a_pull_request_checks_everything(tmp_path, workspace, installed):
    runner = Runner(str(tmp_path), workspace, {"diff-base": "auto", "fail-on": "never"}, event={"ref": "x"},
                    installed=installed)
    out = runner.run()
    assert "diff-base auto: no base commit in this event" in runner.logs["run"]
    assert int(out["errors"]) > 1


def test_a_run_that_cannot_complete_fails_and_uploads_nothing(tmp_path, workspace, installed):
    runner = Runner(str(tmp_path), workspace, {"config": "missing.yaml", "fail-on": "never"}, installed=installed)
    out = runner.run()
    assert out["exit-code"] == "2"
    assert out["sarif-file"] == "" and runner.uploaded is None
    assert runner.failed_step == ("Verdict", 2)
    assert "missing.yaml: config file not found" in runner.logs["run"]
    assert "prr-lint could not complete the check (exit 2)" in runner.summary_text


def test_input_values_are_never_evaluated_by_the_shell(tmp_path, workspace, installed):
    marker = tmp_path / "pwned"
    runner = Runner(str(tmp_path), workspace, {"paths": "services/checkout", "category": f"$(touch {marker})",
                                                "fail-on": "never"}, installed=installed)
    out = runner.run()
    assert not marker.exists()
    sarif = json.load(open(out["sarif-file"]))
    assert sarif["runs"][0]["automationDetails"]["id"] == f"$(touch {marker})/"


def test_baseline_absorbs_recorded_findings_but_not_new_ones(tmp_path, workspace, installed):
    subprocess.run([installed, "baseline", "-o", ".prr-baseline.json"], cwd=workspace, check=True,
                   capture_output=True)
    runner = Runner(str(tmp_path), workspace, {"baseline": ".prr-baseline.json"}, installed=installed)
    out = runner.run()
    assert (out["errors"], out["warnings"], out["exit-code"]) == ("0", "0", "0"), runner.logs
    assert runner.failed_step is None
    assert not [x for x in runner.logs["run"].splitlines() if x.startswith("::")]
    assert "findings recorded in the baseline `.prr-baseline.json` left out" in runner.summary_text

    rollout = workspace / "services/checkout/k8s/rollout.yaml"
    rollout.write_text(rollout.read_text().replace("limits: {memory: 512Mi}", "limits: {}"))
    runner = Runner(str(tmp_path / "again"), workspace, {"baseline": ".prr-baseline.json"}, installed=installed)
    out = runner.run()
    assert (out["errors"], out["exit-code"]) == ("1", "1")
    assert "::error file=services/checkout/k8s/rollout.yaml," in runner.logs["run"]


# -- prr-lint's cache between runs -----------------------------------------------------------------

def _cache_files(directory):
    return {os.path.relpath(os.path.join(d, f), directory): open(os.path.join(d, f), "rb").read()
            for d, _, files in os.walk(directory) for f in files}


def test_the_cache_is_saved_restored_and_trusted_by_the_next_run(tmp_path, workspace, installed):
    store = str(tmp_path / "store")
    first = Runner(str(tmp_path / "one"), workspace, {}, installed=installed, store=store)
    first.run()
    assert first.failed_step == ("Verdict", 1) and first.restored is None
    sha = git(workspace, "rev-parse", "HEAD").strip()
    assert re.fullmatch(rf"prr-lint-Linux-0\.1\.0-[0-9a-f]{{16}}-[0-9a-f]{{16}}-[0-9a-f]{{16}}-{sha}", first.saved)
    saved = _cache_files(os.path.join(store, first.saved))
    assert "prr-lint/key" in saved and any(name.endswith(".json") and "/docs-" in name for name in saved)

    # a re-run of the commit: the entry is restored under its own key, trusted (nothing is parsed or signed
    # again: a cache prr-lint did not accept would be rewritten under a new key) and not saved again
    again = Runner(str(tmp_path / "two"), workspace, {}, installed=installed, store=store)
    again.run()
    assert again.restored == first.saved and again.steps["restore"]["cache-hit"] == "true" and again.saved is None
    after = _cache_files(os.path.join(again.runner_temp, "prr-lint-cache"))
    assert {k: v for k, v in after.items() if "/index-" in k} == {k: v for k, v in saved.items() if "/index-" in k}
    assert after["prr-lint/key"] == saved["prr-lint/key"]

    # the next commit starts from the last one's entry and saves its own
    with open(workspace / "services" / "checkout" / "notes.yaml", "w") as fh:
        fh.write("note: a new file\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "next")
    following = Runner(str(tmp_path / "three"), workspace, {}, installed=installed, store=store)
    following.run()
    assert following.restored == first.saved and following.steps["restore"]["cache-hit"] == "false"
    assert following.saved.endswith(git(workspace, "rev-parse", "HEAD").strip()) and following.saved != first.saved


@pytest.mark.parametrize("event_name, head, inputs, used", [
    ("pull_request", "acme/shop", {}, True),                # a branch of this repository: its author can push
    ("pull_request", "stranger/shop", {}, False),           # a fork's jobs could save what the next run restores
    ("pull_request", None, {}, False),                      # a fork deleted since
    ("pull_request_target", "acme/shop", {}, False),        # saves into the base branch's scope
    ("push", None, {"cache": "false"}, False),
])
def test_where_the_cache_is_used(tmp_path, workspace, installed, event_name, head, inputs, used):
    event = {"pull_request": {"number": 7, "head": {"repo": {"full_name": head} if head else None}}}
    runner = Runner(str(tmp_path), workspace, inputs, event=event, installed=installed, event_name=event_name)
    out = runner.run()
    assert out["exit-code"] == "1" and runner.steps["cache"]["use"] == ("true" if used else "false")
    assert (runner.saved is not None) == used
    assert os.path.isdir(os.path.join(runner.runner_temp, "prr-lint-cache", "prr-lint")) == used
    if not used and inputs.get("cache") != "false":
        assert "prr-lint: the cache is not used: " in runner.logs["cache"]


def test_a_cache_key_that_cannot_be_made_means_no_cache_not_a_failed_job(tmp_path):
    # an installation whose python fails
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("prr-lint", "python"):
        (bin_dir / name).write_text("#!/bin/sh\necho broken >&2\nexit 1\n")
        (bin_dir / name).chmod(0o755)
    output = tmp_path / "output"
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output),
           "PRR_LINT": str(bin_dir / "prr-lint")}
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "action-cache.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "the cache is not used: its key could not be made" in proc.stdout
    assert output.read_text().splitlines() == [f"dir={tmp_path}/prr-lint-cache", "use=false"]
