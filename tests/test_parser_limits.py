"""Hostile inputs a parser or a rule cannot take: one finding at their place (or none), never the end of the run."""

import json

import pytest

from prr_lint.checks.k8s import int_value, percent
from prr_lint.loaders import load_file, load_text
from prr_lint.loaders.errors import LoadError
from prr_lint.loaders.hcl import load_hcl

from conftest import BARE_DEPLOYMENT, write

DEPLOYMENT = BARE_DEPLOYMENT

PDB_SQUARED = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  maxUnavailable: "\u00b2"
  selector: {matchLabels: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "web:1", resources: {limits: {memory: 1Gi}}}]
"""


def plan(extra: str) -> str:
    return '{"format_version": "1.2", "resource_changes": [], "x": ' + extra + '}\n'


def findings(cli, repo):
    proc = cli("check", "--format", "json", "--no-cache", str(repo))
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    return proc, report["findings"]


def test_inputs_that_stopped_the_run_are_one_finding_each(cli, tmp_path):
    write(tmp_path, {
        "ok/deploy.yaml": DEPLOYMENT,
        "hex/main.tf": 'resource "aws_instance" "a" {\n  x = 0x10\n}\n',
        "clash/main.tf": 'resource "aws_instance" "a" {\n  foo = 1\n  foo {\n  }\n}\n',
        "locals/main.tf": 'variable "a" {}\nlocals = 5\n',
        "resource/main.tf": 'resource = 5\n',
        "digits/plan.json": plan("1" * 5000),
        "deep/plan.json": plan("[" * 600 + "]" * 600),
        "pdb/pdb.yaml": PDB_SQUARED,
    })
    proc, got = findings(cli, tmp_path)
    where = {(f["rule"], f["file"], f["line"]) for f in got}
    # the rest of the run goes on
    assert ("K8S002", "ok/deploy.yaml", 9) in where
    assert ("K8S002", "pdb/pdb.yaml", 16) not in where  # it has a memory limit
    parse = {f["file"]: (f["line"], f["message"]) for f in got if f["rule"] == "PRR000"}
    assert parse["hex/main.tf"] == (2, 'invalid HCL: "0x10" is not a number')
    assert parse["clash/main.tf"] == (3, 'invalid HCL: "foo" is an argument at line 2 and a block here')
    assert parse["locals/main.tf"] == (2, 'invalid HCL: "locals" is a block type, not an argument')
    assert parse["resource/main.tf"] == (1, 'invalid HCL: "resource" is a block type, not an argument')
    assert parse["deep/plan.json"][1] == "invalid JSON: nested deeper than 200 levels"
    # a number too long for int() and a count Kubernetes cannot read are values no rule judges
    assert "digits/plan.json" not in parse and "pdb/pdb.yaml" not in parse
    assert not [f for f in got if f["rule"] == "PRR007"]


@pytest.mark.parametrize("text,line,message", [
    ('x = 0x10\n', 1, '"0x10" is not a number'),
    ('a {\n}\na = 1\n', 3, '"a" is a block at line 1 and an argument here'),
    ('resource "t" "n" {\n  b {}\n  b = 2\n}\n', 3, '"b" is a block at line 2 and an argument here'),
    ('locals {\n  a = 1\n}\nlocals = 5\n', 4, '"locals" is a block type'),
    ('data = 1\n', 1, '"data" is a block type'),
    ('resource "t" "n" {\n  a = 1\n  b {}\n  b {}\n  a = 2\n}\n', 5, 'argument "a" is already set at line 2'),
])
def test_hcl_that_terraform_rejects_is_a_load_error_at_its_line(text, line, message):
    with pytest.raises(LoadError) as err:
        load_hcl(text)
    assert err.value.line == line and message in err.value.message


def test_hcl_numbers_too_long_for_int_are_unknown_not_a_crash():
    data, _ = load_hcl("x = " + "9" * 5000 + "\ny = 1.5e3\nz = 12\n")
    assert data == {"x": "${" + "9" * 5000 + "}", "y": 1500.0, "z": 12}


def test_plan_json_nesting_is_reported_at_the_bracket_and_strings_do_not_count():
    text = '{"format_version": "1.2",\n "resource_changes": [],\n "s": "' + "[" * 300 + '",\n "x": ' \
           + "[" * 250 + "]" * 250 + "}"
    with pytest.raises(LoadError) as err:
        load_text("plan.json", text, "json", set())
    assert err.value.line == 4 and err.value.col == 6 + 200  # the outer { is level 1
    ok = '{"format_version": "1.2", "resource_changes": [], "s": "' + "[" * 300 + '"}'
    assert load_text("plan.json", ok, "json", set())[0].data["s"] == "[" * 300


def test_plan_json_too_deep_is_a_load_error_not_a_recursion_error(tmp_path):
    (tmp_path / "plan.json").write_text(plan("[" * 5000 + "]" * 5000))
    loaded = load_file(str(tmp_path), "plan.json", "json", set(), 10_000_000)
    assert loaded.error is not None and "nested deeper" in loaded.error.message


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1" * 5000, " 1 2", "-1", "1.5"])
def test_counts_are_ascii_digits_only(value):
    assert int_value(value) is None


def test_counts_and_percentages_still_read():
    assert int_value(" 2 ") == 2 and int_value(3) == 3 and int_value(True) is None
    assert percent("50%") == 50 and percent("12.5%") == 12.5
    assert percent("\u00b2%") is None and percent("nan%") is None and percent("1e999%") is None


# -- PRR007: a rule that raises is a finding on the document it failed on -------------------------------

def _run(root, extra_rules, select=()):
    from prr_lint.config import Config
    from prr_lint.engine import Options, run

    return run(Options(paths=[str(root)], config=Config(), root=str(root), use_cache=False,
                       extra_rules=list(extra_rules), select=list(select)))


def _boom_rule(rule_id="ZZZ001", targets=("k8s",)):
    from prr_lint.rule import Rule

    def check(target, _ctx):
        name = target.name if hasattr(target, "name") and not hasattr(target, "file") else \
            target.get(("metadata", "name"))
        if name == "bad" or getattr(target, "name", None) == "payments":
            raise KeyError("spec\n::error::x" + "y" * 2000)
        return ()

    return Rule.from_meta({"id": rule_id, "name": "boom-" + rule_id.lower(), "summary": "s", "why": "w",
                           "fix": "f", "targets": list(targets), "severity": "warning"}, check)


def test_a_rule_that_raises_is_prr007_on_that_document_and_the_run_goes_on(tmp_path):
    from prr_lint.engine import exit_code

    write(tmp_path, {"a.yaml": DEPLOYMENT, "b.yaml": DEPLOYMENT.replace("name: web", "name: bad")})
    result = _run(tmp_path, [_boom_rule()], select=["ZZZ001", "K8S002"])
    assert result.errors == []
    failed = [f for f in result.findings if f.rule_id == "PRR007"]
    assert [(f.file, f.span.line, f.severity) for f in failed] == [("b.yaml", 1, "error")]
    message = failed[0].message
    assert message.startswith("rule ZZZ001 boom-zzz001 failed: KeyError: ") and "\n" not in message
    assert len(message) <= 503
    # the other rules still ran on both files, the failing one on the other file
    assert {(f.rule_id, f.file) for f in result.findings if f.rule_id == "K8S002"} == {("K8S002", "a.yaml"),
                                                                                         ("K8S002", "b.yaml")}
    assert exit_code(result, "error") == 1


def test_prr007_is_reported_even_when_only_the_failing_rule_is_selected(tmp_path):
    write(tmp_path, {"b.yaml": DEPLOYMENT.replace("name: web", "name: bad")})
    result = _run(tmp_path, [_boom_rule()], select=["ZZZ001"])
    assert [f.rule_id for f in result.findings] == ["PRR007"] and result.errors == []


def test_a_service_rule_that_raises_is_prr007_at_the_manifest(tmp_path):
    from prr_lint.rule import SERVICE

    write(tmp_path, {"service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata:\n  name: payments\n"})
    result = _run(tmp_path, [_boom_rule("ZZZ002", (SERVICE,))], select=["ZZZ002"])
    assert [(f.rule_id, f.file, f.span.line) for f in result.findings] == [("PRR007", "service.yaml", 1)]


def test_the_fixture_harness_fails_when_a_rule_raises(tmp_path):
    from prr_lint.fixtures import RAISE_ANNOTATION, RAISING_RULE, actual

    fixture = tmp_path / "deployment.yaml"
    fixture.write_text(DEPLOYMENT.replace("metadata:\n", f"metadata:\n  annotations: {{{RAISE_ANNOTATION}: x}}\n"))
    with pytest.raises(AssertionError, match="a rule raised on fixture"):
        actual(str(fixture), RAISING_RULE.id, extra_rules=[RAISING_RULE])
    assert actual(str(fixture), "PRR007") == {("PRR007", "deployment.yaml", 1)}


def test_a_policy_server_error_still_fails_the_run(tmp_path):
    from prr_lint.policy.errors import PolicyError
    from prr_lint.rule import Rule

    def check(_doc, _ctx):
        raise PolicyError("policy server unreachable")

    rule = Rule.from_meta({"id": "ZZZ003", "name": "server", "summary": "s", "why": "w", "fix": "f",
                           "targets": ["k8s"], "severity": "error"}, check)
    write(tmp_path, {"a.yaml": DEPLOYMENT})
    result = _run(tmp_path, [rule], select=["ZZZ003"])
    assert result.findings == [] and result.errors == [
        "rule ZZZ003 failed on a.yaml: PolicyError: policy server unreachable"]


# -- YAML reading ---------------------------------------------------------------------------------------

def test_brackets_inside_a_quoted_string_are_not_nesting():
    from prr_lint.loaders.yamlread import load_yaml

    text = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "' + "[" * 250 + "\"\n  b: '" + "{" * 250 + "'\n"
    data = load_yaml(text)[0][0]
    assert data["data"] == {"a": "[" * 250, "b": "{" * 250}


@pytest.mark.parametrize("limited", [True, False])
def test_real_deep_nesting_is_reported_where_it_gets_too_deep(monkeypatch, limited):
    from prr_lint.loaders import yamlread

    # False: a libyaml without its own depth limit, where the event pre-check is what protects the C stack
    monkeypatch.setattr(yamlread, "_parser_limits_depth", lambda: limited)
    text = 'apiVersion: v1\nkind: ConfigMap\nnote: "' + "]" * 300 + '"\ndata:\n  a: ' + "[" * 5000 + "]" * 5000
    with pytest.raises(LoadError) as err:
        yamlread.load_yaml(text)
    assert "nested deeper than 200 levels" in err.value.message and err.value.line == 5
    quoted = 'a: "' + "[" * 5000 + '"\nb: [[1]]\n'
    assert yamlread.load_yaml(quoted)[0][0] == {"a": "[" * 5000, "b": [[1]]}


def test_this_libyaml_limits_depth_itself():
    from prr_lint.loaders import yamlread

    assert yamlread._parser_limits_depth() is True
    with pytest.raises(LoadError, match="nested deeper"):
        yamlread.load_yaml("- " * 100_000 + "x\n")


@pytest.mark.parametrize("prefix", ["", "name: caf\u00e9 \u00e9\u00e9\n"])
def test_a_raw_control_character_is_reported_at_its_line_and_column(prefix):
    from prr_lint.loaders.yamlread import load_yaml

    text = prefix + 'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "x\x01y"\n'
    with pytest.raises(LoadError) as err:
        load_yaml(text)
    lines = prefix.count("\n")
    assert (err.value.line, err.value.col) == (4 + lines, 8)
    assert err.value.message == "invalid YAML: character U+0001: control characters are not allowed"


DUPLICATES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  name: api
spec:
  replicas: 3
  template:
    metadata:
      labels: &l {app: web}
      annotations: {<<: *l, app: other}
    spec:
      containers:
        - name: app
          image: web:1.0
  replicas: 1
"""


def test_duplicate_keys_are_prr008_at_the_second_and_the_last_value_still_wins(tmp_path):
    write(tmp_path, {"deploy.yaml": DUPLICATES})
    result = _run(tmp_path, [], select=["PRR008", "K8S002", "K8S005"])
    dups = sorted((f.span.line, f.span.col, f.message) for f in result.findings if f.rule_id == "PRR008")
    assert dups == [
        (5, 3, 'key "name" is set twice in one mapping (first at line 4); deploy tools disagree on which value '
               "wins (prr-lint reads this one)"),
        (16, 3, 'key "replicas" is set twice in one mapping (first at line 7); deploy tools disagree on which '
                "value wins (prr-lint reads this one)"),
    ]
    # the document still loads, with the last value: the other rules judge `replicas: 1`, `name: api`
    others = [f for f in result.findings if f.rule_id != "PRR008"]
    assert {f.rule_id for f in others} == {"K8S002", "K8S005"}
    assert all("api" in f.message for f in others)


def test_duplicates_are_kept_per_item_of_a_list_and_per_document():
    from prr_lint.loaders import DUPLICATE_KEYS

    text = ("apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, data: {a: 1, a: 2}}\n"
            "  - {apiVersion: v1, kind: ConfigMap}\n---\napiVersion: v1\nkind: Secret\nkind: Secret\n")
    docs = load_text("x.yaml", text, "yaml", set())
    assert [[d["line"] for d in doc.meta.get(DUPLICATE_KEYS, [])] for doc in docs] == [[4], [], [9]]


# -- PromQL: size limits and a worker process that may die in the run's place ---------------------------

ALERTS = """\
groups:
  - name: big
    rules:
      - alert: Huge
        expr: {expr}
        for: 5m
        labels: {{severity: critical}}
        annotations: {{summary: s, description: d, runbook_url: "https://runbooks.example.com/x"}}
"""


def test_a_promql_expression_too_large_to_parse_is_prom006_not_a_crash(cli, tmp_path):
    write(tmp_path, {"rules.yaml": ALERTS.format(expr=" + ".join(["up"] * 5000)),
                     "deep.yaml": ALERTS.format(expr="(" * 20_000 + "up" + ")" * 20_000),
                     "ok/deploy.yaml": DEPLOYMENT})
    proc, got = findings(cli, tmp_path)
    prom = {(f["file"], f["line"]): f["message"] for f in got if f["rule"] == "PROM006"}
    assert prom == {
        ("rules.yaml", 5): 'alert "Huge": expr is too large to check: 4,999 operators (limit 500); split it into '
                           "recording rules",
        ("deep.yaml", 5): 'alert "Huge": expr is too large to check: brackets nested 20,000 deep (limit 200); '
                          "split it into recording rules",
    }
    assert ("K8S002", "ok/deploy.yaml", 9) in {(f["rule"], f["file"], f["line"]) for f in got}


@pytest.mark.parametrize("expr,over", [
    ("x" * (64 * 1024 + 1), "65,537 characters"),
    ("-" * 501 + "1", "501 operators"),
    ("abs(" * 201 + "up" + ")" * 201, "nested 201 deep"),
])
def test_size_limits(expr, over):
    from prr_lint.checks.promql import parse

    parsed = parse(expr)
    assert parsed.too_large and not parsed.ok and over in parsed.error


def test_strings_do_not_count_towards_the_limits():
    from prr_lint.checks.promql import parse, size

    expr = 'up{job="' + "(+" * 3000 + '"}'
    assert size(expr)[1:] == (0, 1)
    assert parse(expr).ok


@pytest.fixture
def fresh_worker():
    from prr_lint.checks import promql

    promql._WORKER.stop()
    promql.parse.cache_clear()
    yield promql
    promql._WORKER.stop()
    promql.parse.cache_clear()


def test_ordinary_expressions_stay_in_process(fresh_worker):
    promql = fresh_worker
    assert promql.parse('sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(x[5m])) > 0.01').ok
    assert promql._WORKER.proc is None


def test_expressions_near_the_limits_go_through_one_reused_worker(fresh_worker):
    promql = fresh_worker
    assert promql.parse(" + ".join(["up"] * 150)).ok
    pid = promql._WORKER.proc.pid
    bad = promql.parse(" + ".join(["up"] * 150) + " +")
    assert not bad.ok and not bad.too_large and bad.error
    assert promql.parse(" - ".join(["up"] * 150)).ok
    assert promql._WORKER.proc.pid == pid  # reused, not one process per expression


def test_a_worker_that_dies_is_an_error_for_that_expression_and_is_replaced(fresh_worker, monkeypatch):
    import subprocess
    import sys

    promql = fresh_worker
    real_start = promql._Worker._start

    def dying(self):  # a parser that dies as promql-parser does on its stack overflow
        self.proc = subprocess.Popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    monkeypatch.setattr(promql._Worker, "_start", dying)
    crashed = promql.parse(" + ".join(["up"] * 150))
    assert not crashed.ok and "crashed" in crashed.error
    assert promql._WORKER.proc is None
    monkeypatch.setattr(promql._Worker, "_start", real_start)
    assert promql.parse(" + ".join(["up"] * 151)).ok


# -- Kubernetes neighbours: linear in the number of objects ---------------------------------------------

def _workloads(n: int, owned: bool) -> dict:
    parts = []
    for i in range(n):
        parts.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}}}\nspec:\n  replicas: 3\n"
                     f"  template:\n    metadata: {{labels: {{app: d{i}, team: t}}}}\n"
                     "    spec: {containers: [{name: a, image: 'a:1'}]}\n")
        parts.append(f"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: d{i}}}\n"
                     f"spec: {{scaleTargetRef: {{kind: Deployment, name: d{i}}}, minReplicas: {1 + i % 2}}}\n")
        parts.append(f"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: d{i}}}\n"
                     f"spec: {{minAvailable: 2, selector: {{matchLabels: {{app: d{i}}}}}}}\n")
    files = {"k8s/all.yaml": "---\n".join(parts)}
    if owned:
        files["service.yaml"] = ("apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: big}\n"
                                 "spec: {tier: 1, owner: team-a, deploy: {kubernetes: [k8s/]}}\n")
    return files


@pytest.mark.parametrize("owned", [False, True], ids=["unowned", "service"])
def test_matching_hpas_and_pdbs_to_workloads_is_linear(tmp_path, monkeypatch, owned):
    from prr_lint.checks import k8s

    counts = {}
    for fn in ("kind", "selector_matches", "same_namespace"):
        real = getattr(k8s, fn)

        def counted(*args, _real=real, _fn=fn):
            counts[_fn] = counts.get(_fn, 0) + 1
            return _real(*args)

        monkeypatch.setattr(k8s, fn, counted)

    def work(n):
        counts.clear()
        root = tmp_path / str(n)
        write(root, _workloads(n, owned))
        result = _run(root, [], select=["K8S005", "K8S006"])
        # the matching is still right: each workload finds its own HPA (minReplicas 1: K8S005; 2: none) and
        # its own PDB (minAvailable 2 with 1 or 2 replicas: K8S006)
        k5 = [f for f in result.findings if f.rule_id == "K8S005"]
        k6 = [f for f in result.findings if f.rule_id == "K8S006"]
        assert len(k5) == n // 2 and len(k6) == n, (len(k5), len(k6))
        return sum(counts.values())

    small, large = work(150), work(300)
    assert large < 2.3 * small, (small, large)


# -- values found by mutating the fixtures: each stopped a rule or the whole run --------------------------

def test_odd_values_are_no_finding_not_a_rule_error(tmp_path):
    write(tmp_path, {
        "service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: shop}\n"
                        "spec:\n  tier: \"\u00b2\"\n  owner: team-a\n  dr: {rpo: nan, rto: 1e999s}\n"
                        "  deploy: {kubernetes: [k8s/]}\n",
        "k8s/deploy.yaml": DEPLOYMENT.replace("  template:\n", "  replicas: 3\n  template:\n    metadata: "
                                                             "{labels: {app: web}}\n") +
        "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
        "spec: {maxUnavailable: 1, selector: {matchExpressions: [{key: [app], operator: Exists}]}}\n",
    })
    result = _run(tmp_path, [])
    assert result.errors == [] and not [f.message for f in result.findings if f.rule_id == "PRR007"]
    # the unreadable tier is the default one (and SVC003 says so), the rest is still checked
    assert {"SVC003", "K8S002"} <= {f.rule_id for f in result.findings}


@pytest.mark.parametrize("value", ["nan", "1e999s", "9" * 30 + "d", "inf", "5"])
def test_durations_the_rust_parser_panics_on_are_not_durations(value):
    from prr_lint.checks.time import parse_duration

    assert parse_duration(value) is None


def test_a_rule_that_panics_in_a_rust_extension_is_prr007(tmp_path):
    from prr_lint.rule import Rule

    def check(_doc, _ctx):
        import promql_parser

        promql_parser.parse_duration("nan")  # pyo3's PanicException is a BaseException
        return ()

    rule = Rule.from_meta({"id": "ZZZ004", "name": "panics", "summary": "s", "why": "w", "fix": "f",
                           "targets": ["k8s"], "severity": "error"}, check)
    write(tmp_path, {"a.yaml": DEPLOYMENT})
    result = _run(tmp_path, [rule], select=["ZZZ004"])
    assert [(f.rule_id, f.span.line) for f in result.findings] == [("PRR007", 1)]
    assert "PanicException" in result.findings[0].message


def test_a_rule_whose_server_is_unreachable_still_fails_the_run(tmp_path):
    from prr_lint.rule import Rule

    def check(_doc, _ctx):
        raise ConnectionError("policy server refused the connection")

    rule = Rule.from_meta({"id": "ZZZ005", "name": "remote", "summary": "s", "why": "w", "fix": "f",
                           "targets": ["k8s"], "severity": "error"}, check)
    write(tmp_path, {"a.yaml": DEPLOYMENT})
    result = _run(tmp_path, [rule], select=["ZZZ005"])
    assert result.findings == [] and result.errors == [
        "rule ZZZ005 failed on a.yaml: ConnectionError: policy server refused the connection"]
