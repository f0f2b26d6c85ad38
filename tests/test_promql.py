"""PromQL helpers: parse results, metric names and range windows straight from the parser's AST."""

import datetime

from prr_lint.checks.promql import expand_sloth_window, metric_names, parse, range_windows

M = datetime.timedelta(minutes=1)


def test_parse_reports_the_parser_message_and_never_raises():
    assert parse('sum(rate(x[5m]))').ok
    bad = parse('sum(rate(inventory_requests_total{status=~"5.."}[5m]) > 1')
    assert not bad.ok and "parenthes" in bad.error
    assert parse("").error == "empty expression"
    assert not parse(None).ok


def test_metric_names_include_name_matchers_and_ignore_label_values():
    expr = ('sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m])) / on() '
            'sum(rate({__name__="http_requests_total"}[5m])) and max_over_time(queue_depth{name="up"}[30m:1m])')
    assert metric_names(expr) == {"http_requests_total", "queue_depth"}
    assert metric_names("sum(x") == set()


def test_range_windows_from_range_selectors_and_subqueries_not_offsets():
    expr = ("rate(a[1h]) > 1 and rate(a[5m]) > 1 and max_over_time(sum(b)[30m:1m]) > 0 "
            "and count(c offset 1d) > 0")
    assert range_windows(expr) == {60 * M, 5 * M, 30 * M}
    assert range_windows("up == 0") == set()


def test_sloth_window_template_is_expanded_before_parsing():
    q = 'sum(rate(search_requests_total{code=~"5.."}[{{.window}}]))'
    assert not parse(q).ok
    assert range_windows(expand_sloth_window(q, "1h")) == {60 * M}
    assert expand_sloth_window("rate(x[{{ .window }}])") == "rate(x[5m])"


def test_selectors_keep_only_equality_matchers():
    from prr_lint.checks.promql import selectors

    got = selectors('max(slo:sli_error:ratio_rate5m{sloth_slo="api",code=~"5..",job!="x"}) and up')
    assert got == [("slo:sli_error:ratio_rate5m", {"sloth_slo": "api"}), ("up", {})]
