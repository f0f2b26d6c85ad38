"""Rego policies end to end: real CLI runs on real files, embedded and against the OPA stand-in server."""

import json
import os
import socket

import pytest

from conftest import ROOT, run_cli, write
from opa_standin import OpaStandin

EXAMPLES = os.path.join(ROOT, "examples", "policy")
MONOREPO = os.path.join(ROOT, "examples", "monorepo")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels:
    team: core
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/api:latest
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: report
              image: registry.example.com/report:latest
"""

SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: api
  owner: team-core
  tier: 1
spec:
  oncall: {rotation: pagerduty/P1}
  slos:
    - {name: availability, objective: 99.9, window: 30d}
  deploy:
    kubernetes: [k8s/]
"""

CONFTEST_POLICY = """\
package main

import rego.v1

deny contains msg if {
	input.kind == "Deployment"
	input.spec.replicas < 2
	msg := sprintf("%s runs %d replica", [input.metadata.name, input.spec.replicas])
}

warn contains {"msg": "latest tag", "path": c.path, "severity": "info"} if {
	some w in input.__prr__.workloads
	some c in w.containers
	endswith(c.image, ":latest")
}
"""


def findings(stdout: str) -> list:
    return [(f["rule"], f["file"], f["line"], f["column"], f["severity"], f["message"])
            for f in json.loads(stdout)["findings"]]


@pytest.fixture
def repo(tmp_path):
    return write(str(tmp_path / "repo"), {
        "services/api/service.yaml": SERVICE,
        "services/api/k8s/workloads.yaml": DEPLOYMENT,
    })


def policy_dir(tmp_path, files: dict) -> str:
    return write(str(tmp_path / "policy"), files)


# -- the example policies on the sample monorepo ------------------------------------------------------------
def test_example_policies_run_on_the_sample_monorepo():
    r = run_cli("check", "--policy", EXAMPLES, MONOREPO, "--select", "ORG001,ORG002,ORG003", "-f", "json",
                "--no-cache", cwd=ROOT)
    assert r.returncode == 1, r.stderr
    got = {(f[0], f[1], f[2]) for f in findings(r.stdout)}
    assert ("ORG001", "examples/monorepo/services/inventory/service.yaml", 7) in got
    assert ("ORG002", "examples/monorepo/services/inventory/k8s/deployment.yaml", 3) in got
    assert ("ORG002", "examples/monorepo/legacy-batch/cronjob.yaml", 3) in got
    # checkout (tier 1) declares one escalation level: ORG001 applies to tier 0 only
    assert not any(f[0] == "ORG001" and "checkout" in f[1] for f in got)


@pytest.mark.slow
def test_embedded_and_server_give_identical_findings_on_the_sample():
    embedded = run_cli("check", "--policy", EXAMPLES, MONOREPO, "-f", "json", "--no-cache", cwd=ROOT)
    with OpaStandin() as opa:
        remote = run_cli("check", "--policy", EXAMPLES, MONOREPO, "-f", "json", "--no-cache",
                         "--opa-url", opa.url, "--trust-repo-rules", cwd=ROOT)
        pushed = {p for m, p in opa.state.requests if m == "PUT"}
        queried = {p for m, p in opa.state.requests if m == "POST"}
    assert embedded.returncode == remote.returncode == 1, (embedded.stderr, remote.stderr)
    a, b = findings(embedded.stdout), findings(remote.stdout)
    assert a == b
    assert {f[0] for f in a} >= {"ORG001", "ORG002"}
    assert any(p.endswith("/policy.rego") and p.startswith("/v1/policies/prr-lint/") for p in pushed)
    assert {"/v1/data/prr/oncall_escalation", "/v1/data/prr/workload_name_label"} <= queried


@pytest.mark.slow
def test_embedded_and_server_agree_on_conftest_style_policies(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"replicas.rego": CONFTEST_POLICY})
    embedded = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", cwd=repo)
    with OpaStandin() as opa:
        remote = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", "--opa-url", opa.url, cwd=repo)
    assert embedded.returncode == remote.returncode == 1
    assert findings(embedded.stdout) == findings(remote.stdout)


# -- conftest compatibility, ids, locations, severities -------------------------------------------------------
@pytest.mark.slow
def test_conftest_results_become_findings_with_locations_and_stable_ids(tmp_path, repo):
    from prr_lint.policy.runtime import derived_id

    pdir = policy_dir(tmp_path, {"replicas.rego": CONFTEST_POLICY})
    r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", "--fail-on", "error", cwd=repo)
    assert r.returncode == 1, r.stderr
    got = [f for f in findings(r.stdout) if f[0].startswith("REGO")]
    deny_id, warn_id = derived_id("main", "deny"), derived_id("main", "warn")
    assert deny_id != warn_id
    # a string result without a path points at the document's start
    assert (deny_id, "services/api/k8s/workloads.yaml", 1, 1, "error", "api runs 1 replica") in got
    # an object result's path is located: the container of the Deployment (line 12) and of the CronJob (line 26);
    # its own severity wins over the rule's
    warn_lines = sorted((f[2], f[4]) for f in got if f[0] == warn_id)
    assert warn_lines == [(12, "info"), (26, "info")]
    # the same ids on the next run (stable), and listed in SARIF with the rules
    again = run_cli("check", "--policy", pdir, repo, "-f", "sarif", "--no-cache", cwd=repo)
    sarif = json.loads(again.stdout)
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {deny_id, warn_id} <= rule_ids


@pytest.mark.slow
def test_namespaces(tmp_path, repo):
    pdir = policy_dir(tmp_path, {
        "main.rego": 'package main\nimport rego.v1\ndeny contains "from main" if input.kind == "Service"\n',
        "team.rego": 'package team.k8s\nimport rego.v1\ndeny contains "from team" if input.kind == "Service"\n',
    })

    def messages(*extra):
        r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", *extra, cwd=repo)
        assert r.returncode in (0, 1), r.stderr
        return {f[5] for f in findings(r.stdout) if f[0].startswith("REGO")}

    assert messages() == {"from main"}
    assert messages("--namespace", "team.k8s") == {"from team"}
    assert messages("--all-namespaces") == {"from main", "from team"}


@pytest.mark.slow
def test_metadata_makes_a_first_class_rule(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"slo.rego": """\
# METADATA
# title: Tier-1 services declare a latency SLO
# description: Availability alone misses the slow requests that users feel first.
# related_resources:
#   - ref: https://example.com/policies/latency-slo
# custom:
#   id: TEAM101
#   severity: warning
#   tiers: [0, 1]
#   targets: [service]
#   tags: [slo]
package main

import rego.v1

deny contains {"msg": "no latency SLO", "path": ["spec", "slos"]} if {
	not "latency" in {s.name | some s in input.spec.slos}
}

deny contains {"msg": "a finding for another rule", "id": "ORG999"} if false
"""})
    cfg = write(str(tmp_path / "cfg"), {".prr-lint.yaml": f"policy:\n  paths: [{pdir}]\n"})
    listed = run_cli("rules", "--format", "json", "-c", os.path.join(cfg, ".prr-lint.yaml"), cwd=cfg)
    assert listed.returncode == 0, listed.stderr
    rule = next(r for r in json.loads(listed.stdout) if r["id"] == "TEAM101")
    assert rule["origin"] == "rego" and rule["summary"] == "Tier-1 services declare a latency SLO"
    assert rule["severity"] == {"0": "warning", "1": "warning", "2": "off", "3": "off"}
    page = run_cli("rules", "TEAM101", "-c", os.path.join(cfg, ".prr-lint.yaml"), cwd=cfg)
    assert "Availability alone misses" in page.stdout
    r = run_cli("check", "--policy", pdir, repo, "-f", "sarif", "--no-cache", cwd=repo)
    run = json.loads(r.stdout)["runs"][0]
    sarif_rule = next(x for x in run["tool"]["driver"]["rules"] if x["id"] == "TEAM101")
    assert sarif_rule.get("helpUri") == "https://example.com/policies/latency-slo"
    result = next(x for x in run["results"] if x["ruleId"] == "TEAM101")
    assert result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 9


def test_inline_waiver_applies_to_policy_findings(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"replicas.rego": CONFTEST_POLICY})
    from prr_lint.policy.runtime import derived_id

    deny_id = derived_id("main", "deny")
    path = os.path.join(repo, "services/api/k8s/workloads.yaml")
    text = open(path).read().replace("kind: Deployment\n",
                                     f"kind: Deployment  # prr-lint: disable={deny_id} reason=\"batch api\"\n", 1)
    open(path, "w").write("apiVersion: apps/v1  # prr-lint: disable=" + deny_id + " reason=\"single replica\"\n"
                          + text.split("\n", 1)[1])
    r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", cwd=repo)
    data = json.loads(r.stdout)
    mine = [f for f in data["findings"] if f["rule"] == deny_id]
    assert mine and all(f["suppressed"] for f in mine)


def test_normalized_workloads_cover_every_controller(tmp_path):
    repo = write(str(tmp_path / "repo"), {"k8s/all.yaml": "\n---\n".join([
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: db, image: postgres}]",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  template:\n    spec:\n"
        "      initContainers: [{name: init, image: busybox}]\n      containers: [{name: agent, image: agent}]",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: web, image: web}]",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: once, image: once}]",
    ]) + "\n"})
    pdir = policy_dir(tmp_path, {"c.rego": """\
package main

import rego.v1

deny contains {"msg": sprintf("%s/%s/%s init=%v", [w.kind, w.name, c.name, c.init]), "path": c.path} if {
	some w in input.__prr__.workloads
	some c in w.containers
}
"""})
    r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", cwd=repo)
    got = sorted((f[2], f[5]) for f in findings(r.stdout) if f[0].startswith("REGO"))
    assert got == [(7, "StatefulSet/db/db init=false"), (15, "DaemonSet/agent/init init=true"),
                   (16, "DaemonSet/agent/agent init=false"), (24, "Rollout/web/web init=false"),
                   (32, "Job/once/once init=false")]


def test_service_documents_see_the_joined_service_graph(tmp_path, repo):
    write(repo, {"services/api/monitoring/rules.yaml": "groups:\n  - name: api\n    rules:\n"
                 "      - alert: ApiDown\n        expr: up == 0\n",
                 "services/api/infra/main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'})
    with open(os.path.join(repo, "services/api/service.yaml"), "a") as fh:
        fh.write("  alerts: [monitoring/rules.yaml]\n")
    text = open(os.path.join(repo, "services/api/service.yaml")).read().replace(
        "kubernetes: [k8s/]", "kubernetes: [k8s/]\n    terraform: [infra/]")
    open(os.path.join(repo, "services/api/service.yaml"), "w").write(text)
    pdir = policy_dir(tmp_path, {"g.rego": """\
package main

import rego.v1

deny contains msg if {
	input.kind == "Service"
	p := input.__prr__
	g := p.graph
	msg := sprintf("%s tier=%d workloads=%d alerts=%v tf=%v slos=%v", [p.service, p.tier, count(g.workloads),
		[a.alert | some a in g.alerts], [t.address | some t in g.terraform], [s.name | some s in g.slos]])
}
"""})
    r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", cwd=repo)
    msgs = [f[5] for f in findings(r.stdout) if f[0].startswith("REGO")]
    assert msgs == ['api tier=1 workloads=2 alerts=["ApiDown"] tf=["aws_s3_bucket.b"] slos=["availability"]']


# -- errors: compile, network, timeout ---------------------------------------------------------------------
def test_rego_syntax_error_is_file_line_col_exit_2(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"broken.rego": "package main\n\nimport rego.v1\n\ndeny contains msg if {\n"
                                                "\tmsg := \n}\n"})
    r = run_cli("check", "--policy", pdir, repo, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("prr-lint: error: policy/broken.rego:6:6: rego_parse_error: ")


def test_undefined_function_is_a_type_error(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"f.rego": "package main\n\nimport rego.v1\n\n"
                                           "deny contains msg if {\n\tmsg := no_such_helper(input)\n}\n"})
    r = run_cli("check", "--policy", pdir, repo, cwd=tmp_path)
    assert r.returncode == 2
    assert "policy/f.rego:6:9: rego_type_error: undefined function no_such_helper" in r.stderr


@pytest.mark.slow
def test_network_builtins_are_refused_in_embedded_mode(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"net.rego": "package main\n\nimport rego.v1\n\ndeny contains msg if {\n"
                                             '\tresp := http.send({"method": "get", "url": "https://example.com"})\n'
                                             "\tmsg := resp.body\n}\n"})
    r = run_cli("check", "--policy", pdir, repo, cwd=tmp_path)
    assert r.returncode == 2
    assert "policy/net.rego:6:10: rego_type_error: http.send: network built-in refused" in r.stderr
    assert "--allow-net" in r.stderr
    allowed = run_cli("check", "--policy", pdir, repo, "--allow-net", cwd=tmp_path)
    assert allowed.returncode == 2
    assert "not available in the embedded evaluator" in allowed.stderr and "--opa-url" in allowed.stderr


@pytest.mark.slow
def test_a_policy_that_runs_too_long_is_stopped_and_reported(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"slow.rego": """\
package main

import rego.v1

deny contains msg if {
	input.kind == "Service"
	n := count([x | some x in numbers.range(1, 100000000); x % 7 == 0])
	msg := sprintf("%d", [n])
}

warn contains "fast" if input.kind == "Deployment"
"""})
    r = run_cli("check", "--policy", pdir, repo, "--policy-timeout", "0.5", "-f", "json", "--no-cache", cwd=repo)
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("prr-lint: error:")]
    assert len(errors) == 1, r.stderr
    assert "services/api/service.yaml" in errors[0] and "did not finish within 0.5s" in errors[0]
    # the other documents were still evaluated by a fresh worker
    assert any(f[5] == "fast" for f in findings(r.stdout))


# -- the OPA server: push, no-push, failures (fail closed) ------------------------------------------------------
def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.slow
def test_server_connection_refused_is_one_line_exit_2(repo):
    r = run_cli("check", "--policy", EXAMPLES, repo, "--opa-url", f"http://127.0.0.1:{_closed_port()}", cwd=repo)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "connection refused" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_server_5xx_and_timeouts_fail_closed(repo):
    with OpaStandin() as opa:
        opa.state.fail_status = 500
        r = run_cli("check", "--policy", EXAMPLES, repo, "--opa-url", opa.url, cwd=repo)
        assert r.returncode == 2
        errors = [line for line in r.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and "HTTP 500" in errors[0], r.stderr
        opa.state.fail_status = None
        opa.state.delay = 1.5
        r = run_cli("check", "--policy", EXAMPLES, repo, "--opa-url", opa.url, "--policy-timeout", "0.3", cwd=repo)
        assert r.returncode == 2
        assert "no answer within 0.3s" in r.stderr


@pytest.mark.slow
def test_server_rejecting_a_policy_is_file_line_col(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"ok.rego": "package main\nimport rego.v1\ndeny contains 1 if false\n"})
    with OpaStandin() as opa:
        # the local compile check passes; the server's own compile fails (e.g. a newer/stricter server)
        opa.state.compile_errors = lambda pid, src: [{"code": "rego_type_error", "message": "conflicting rules",
                                                      "location": {"file": pid, "row": 3, "col": 1}}]
        r = run_cli("check", "--policy", pdir, repo, "--opa-url", opa.url, cwd=repo)
    assert r.returncode == 2
    assert "policy/ok.rego:3:1: rego_type_error: conflicting rules" in r.stderr


@pytest.mark.slow
def test_opa_no_push_uses_the_servers_own_policies(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"main.rego": 'package main\nimport rego.v1\ndeny contains "local" if true\n'})
    with OpaStandin() as opa:
        opa.state.policies["bundle/main.rego"] = \
            'package main\nimport rego.v1\ndeny contains "from the server bundle" if input.kind == "Service"\n'
        r = run_cli("check", "--policy", pdir, repo, "--opa-url", opa.url, "--opa-no-push", "-f", "json",
                    "--no-cache", cwd=repo)
        assert not any(m == "PUT" for m, _ in opa.state.requests)
    assert r.returncode == 1, r.stderr
    assert [f[5] for f in findings(r.stdout) if f[0].startswith("REGO")] == ["from the server bundle"]


@pytest.mark.slow
def test_opa_no_push_missing_package_fails_closed(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"main.rego": 'package main\nimport rego.v1\ndeny contains "local" if true\n'})
    with OpaStandin() as opa:
        r = run_cli("check", "--policy", pdir, repo, "--opa-url", opa.url, "--opa-no-push", cwd=repo)
    assert r.returncode == 2
    assert "package main is undefined on the policy server" in r.stderr


# -- rule packs in config rule_paths, config keys ---------------------------------------------------------------
@pytest.mark.slow
def test_rule_paths_can_hold_rego_rules(tmp_path):
    import shutil

    repo = str(tmp_path / "repo")
    shutil.copytree(os.path.join(EXAMPLES, "ORG002-workload-name-label"),
                    os.path.join(repo, "team-rules", "ORG002-workload-name-label"))
    write(repo, {".prr-lint.yaml": "rule_paths: [team-rules]\npolicy: {timeout: 5}\n",
                 "k8s/deploy.yaml": DEPLOYMENT})
    r = run_cli("check", "k8s", "-f", "json", "--no-cache", "--select", "ORG002", "--fail-on", "warning", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert {(f[0], f[2]) for f in findings(r.stdout)} == {("ORG002", 5), ("ORG002", 17)}
    listed = run_cli("rules", "--format", "json", cwd=repo)
    assert any(x["id"] == "ORG002" and x["origin"] == "rego" for x in json.loads(listed.stdout))


@pytest.mark.slow
def test_config_policy_keys(tmp_path, repo):
    pdir = policy_dir(tmp_path,
                      {"team.rego": 'package team\nimport rego.v1\ndeny contains "t" if input.kind == "Service"\n'})
    write(repo, {".prr-lint.yaml": f"policy:\n  paths: [{pdir}]\n  namespaces: [team]\n"})
    r = run_cli("check", ".", "-f", "json", "--no-cache", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert [f[5] for f in findings(r.stdout) if f[0].startswith("REGO")] == ["t"]
    write(repo, {".prr-lint.yaml": "policy:\n  timeout: -1\n"})
    bad = run_cli("check", ".", cwd=repo)
    assert bad.returncode == 2 and ".prr-lint.yaml:2:" in bad.stderr


@pytest.mark.slow
def test_bad_arguments_are_one_line_exit_2(repo):
    for args in (["--policy", "/no/such/dir"], ["--policy", EXAMPLES, "--policy-timeout", "0"],
                 ["--policy", EXAMPLES, "--opa-url", "ftp://x"]):
        r = run_cli("check", repo, *args, cwd=repo)
        assert r.returncode == 2, args
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr


# -- prr-lint policy test -------------------------------------------------------------------------------------
def test_policy_test_runs_the_examples_unit_tests():
    r = run_cli("policy", "test", EXAMPLES, "-v", cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "data.prr.oncall_escalation_test.test_one_level_is_denied: PASS" in r.stdout
    assert r.stdout.strip().endswith("PASS: 10/10")


@pytest.mark.slow
def test_policy_test_reports_failures_and_errors(tmp_path):
    pdir = policy_dir(tmp_path, {
        "p.rego": "package p\nimport rego.v1\ndeny contains 1 if input.x == 1\n",
        "p_test.rego": "package p_test\nimport rego.v1\n"
                       "test_ok if { data.p.deny[1] with input.x as 1 }\n"
                       "test_wrong if { data.p.deny[1] with input.x as 2 }\n"
                       "test_slow if { count(numbers.range(1, 100000000)) > 0 }\n",
    })
    r = run_cli("policy", "test", pdir, "--policy-timeout", "0.5", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "data.p_test.test_wrong: FAIL" in r.stdout
    assert "data.p_test.test_slow: ERROR" in r.stdout and "did not finish within 0.5s" in r.stdout
    assert "PASS: 1/3" in r.stdout
    only = run_cli("policy", "test", pdir, "--run", "test_(ok|wrong)", cwd=tmp_path)
    assert only.returncode == 1 and "FAIL: 1/2" in only.stdout


def test_policy_test_syntax_error(tmp_path):
    pdir = policy_dir(tmp_path, {"p_test.rego": "package p_test\nimport rego.v1\ntest_x if {\n"})
    r = run_cli("policy", "test", pdir, cwd=tmp_path)
    assert r.returncode == 2 and "policy/p_test.rego:" in r.stderr and "Traceback" not in r.stderr


def test_an_evaluator_crash_is_reported_not_fatal(tmp_path):
    # rego-cpp crashes on `with input as ...` over a rule that calls a built-in; the worker process contains it
    pdir = policy_dir(tmp_path, {
        "p.rego": "package p\nimport rego.v1\nallow if startswith(input.e, \"a\")\n",
        "p_test.rego": "package p_test\nimport rego.v1\n"
                       "test_whole_input if { data.p.allow with input as {\"e\": \"ab\"} }\n"
                       "test_by_key if { data.p.allow with input.e as \"ab\" }\n",
    })
    r = run_cli("policy", "test", pdir, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "data.p_test.test_whole_input: ERROR" in r.stdout and "crashed (SIGSEGV)" in r.stdout
    # the whole module set is compiled for any query, so the other test of the run meets the same crash;
    # each gets a fresh worker and its own ERROR line, and the run ends normally
    assert "data.p_test.test_by_key: ERROR" in r.stdout and "ERROR: 2/2" in r.stdout
