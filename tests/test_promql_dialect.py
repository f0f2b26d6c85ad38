"""PROM006 with `promql_dialect: metricsql` and `extra_functions`: through the config, the CLI and the worker."""

import json

import pytest

from prr_lint.checks import metricsql, promql
from prr_lint.checks.metricsql import SpecError, parse_spec

from conftest import write

RULES = """\
groups:
  - name: g
    rules:
      - record: job:latency:share
        expr: histogram_share(0.2, sum by (vmrange) (rate(latency_bucket[5m])))
      - record: job:latency:forecast
        expr: forecast_linear(sum(latency_sum), 3600)
"""


def prom006(cli, repo):
    proc = cli("check", "--format", "json", "--no-cache", "--fail-on", "never", "--select", "PROM006", str(repo))
    assert proc.returncode == 0, proc.stderr
    return [(f["line"], f["message"]) for f in json.loads(proc.stdout)["findings"]]


def test_strict_promql_names_the_dialect_setting(cli, tmp_path):
    write(tmp_path, {"rules.yaml": RULES})
    assert prom006(cli, tmp_path) == [
        (5, 'recording rule "job:latency:share": expr is not valid PromQL: unknown function with name '
            "'histogram_share'; for VictoriaMetrics rule files set promql_dialect: metricsql, or add the function "
            "to extra_functions"),
        (7, 'recording rule "job:latency:forecast": expr is not valid PromQL: unknown function with name '
            "'forecast_linear'; for VictoriaMetrics rule files set promql_dialect: metricsql, or add the function "
            "to extra_functions")]


def test_metricsql_accepts_its_functions_and_extra_functions_add_more(cli, tmp_path):
    write(tmp_path, {"rules.yaml": RULES, ".prr-lint.yaml": "promql_dialect: metricsql\n"})
    assert prom006(cli, tmp_path) == [
        (7, 'recording rule "job:latency:forecast": expr is not valid PromQL with MetricsQL\'s functions: '
            "unknown function with name 'forecast_linear'")]
    write(tmp_path, {".prr-lint.yaml": "promql_dialect: metricsql\n"
                                       "extra_functions: ['forecast_linear(vector, scalar)']\n"})
    assert prom006(cli, tmp_path) == []


def test_a_function_registered_by_one_run_is_still_unknown_to_a_strict_one(tmp_path):
    promql.use_functions(metricsql.accepted("metricsql", []))
    parsed = promql.parse("histogram_share(0.2, x)")
    assert parsed.ok                       # parsed once, with every function registered so far
    assert promql.unknown_function(parsed, {}) == "unknown function with name 'histogram_share'"
    assert promql.unknown_function(parsed, metricsql.accepted("metricsql", [])) is None


def test_expressions_near_the_limits_are_parsed_by_the_worker_with_the_same_functions(tmp_path):
    promql.use_functions(metricsql.accepted("promql", ["worker_only_fn(vector)"]))
    near = "worker_only_fn(" + " + ".join(f"m{i}" for i in range(150)) + ")"
    assert promql.size(near)[1] > promql.NEAR_OPERATORS
    assert promql.parse(near).ok
    assert promql.parse(near.replace("worker_only_fn", "never_registered_fn")).error == \
        "unknown function with name 'never_registered_fn'"


@pytest.mark.parametrize("spec,parsed", [
    ("my_fn", ("my_fn", ("vector",), True)),
    ("my_fn(vector, scalar)", ("my_fn", ("vector", "scalar"), False)),
    ("my_fn(matrix, string...)", ("my_fn", ("matrix", "string"), True)),
    (" my_fn() ", ("my_fn", (), False)),
])
def test_extra_function_specs(spec, parsed):
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec,message", [
    ("my-fn", "'my-fn' is not a function name or `name(vector, scalar, ...)`"),
    ("my_fn(vector, number)", "'my_fn(vector, number)': unknown argument type 'number' (expected one of vector, "
                              "matrix, scalar, string)"),
    ("my_fn(...)", "'my_fn(...)': `...` repeats the last argument type, so it needs one"),
])
def test_bad_extra_function_specs(spec, message):
    with pytest.raises(SpecError) as e:
        parse_spec(spec)
    assert str(e.value) == message


def test_a_bad_extra_function_is_a_config_error_at_its_line(cli, tmp_path):
    write(tmp_path, {"rules.yaml": RULES, ".prr-lint.yaml": "promql_dialect: metricsql\nextra_functions:\n"
                                                           "  - ok_fn\n  - bad_fn(vector, number)\n"})
    proc = cli("check", "--no-cache", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(".prr-lint.yaml:4: extra_functions: 'bad_fn(vector, number)': unknown "
                                        "argument type 'number' (expected one of vector, matrix, scalar, string)")
    assert "Traceback" not in proc.stderr
    write(tmp_path, {".prr-lint.yaml": "promql_dialect: victoriametrics\n"})
    proc = cli("check", "--no-cache", str(tmp_path))
    assert proc.returncode == 2 and "promql_dialect" in proc.stderr


@pytest.mark.parametrize("expr,readings", [
    ("a / (vector(1)[5m])", ["a / (vector(1)[5m:])", "a / (default_rollup(vector(1)[5m:]))"]),
    ("rate(sum(x)[5m])", ["rate(sum(x)[5m:])", "rate(default_rollup(sum(x)[5m:]))"]),
    ('x{a=")[5m]"}', []),                         # inside a string: not a range
    ("max_over_time((x)[5m:1m])", []),            # already a subquery
])
def test_metricsql_ranges_on_expressions_are_read_as_subqueries(expr, readings):
    assert metricsql.implicit_subqueries(expr) == readings


def test_sloth_victoriametrics_output_parses_under_metricsql(cli, tmp_path):
    rules = """\
groups:
  - name: g
    rules:
      - record: slo:sli_error:ratio_rate5m
        expr: (1 - histogram_share(0.2, sum by (vmrange) (rate(latency_bucket{job="x"}[5m])))) / (vector(1)[5m])
"""
    write(tmp_path, {"rules.yaml": rules})
    assert [line for line, _ in prom006(cli, tmp_path)] == [5]
    write(tmp_path, {".prr-lint.yaml": "promql_dialect: metricsql\n"})
    assert prom006(cli, tmp_path) == []
