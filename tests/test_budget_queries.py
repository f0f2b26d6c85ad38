"""Per-window SLI queries: the range replaced where promql-parser shows exactly one, refused otherwise."""

import datetime

import pytest

from prr_lint.budget.policy import parse_time, tier_policy
from prr_lint.budget.queries import QueryError, for_window

HOUR = datetime.timedelta(hours=1)


@pytest.mark.parametrize("query, expected", [
    ("sum(rate(http_requests_total{code=~\"5..\"}[5m]))", "sum(rate(http_requests_total{code=~\"5..\"}[1h]))"),
    # both selectors share the one range; a string holding `[5m]` is data, not a range
    ('sum(rate(a{path="/x[5m]"}[5m])) / sum(rate(b[ 5m ]))', 'sum(rate(a{path="/x[5m]"}[1h])) / sum(rate(b[1h]))'),
    ("sum(rate(a[5m] offset 1m))", "sum(rate(a[1h] offset 1m))"),
    ("sum(rate(a[{{.window}}]))", "sum(rate(a[1h]))"),
    ("slo:sli_error:ratio_rate{{ window }}", "slo:sli_error:ratio_rate1h"),
])
def test_range_replaced(query, expected):
    assert for_window(query, HOUR) == expected


@pytest.mark.parametrize("query, reason", [
    ("rate(a[5m]) / rate(b[1h])", "has 2 different ranges (1h, 5m)"),
    ("max_over_time(rate(a[5m])[1h:1m])", "has a subquery, so its window cannot be replaced"),
    ("sum(a)", "has no range selector"),
    ("sum(rate(a[5m])", "not valid PromQL: unclosed left parenthesis"),
])
def test_range_not_replaceable(query, reason):
    with pytest.raises(QueryError) as e:
        for_window(query, HOUR)
    assert str(e.value) == reason


def test_tier_policy_defaults_are_the_sre_workbook_pairs():
    p = tier_policy({}, 1)
    assert [(r.long_text, r.short_text, r.factor) for r in p.burn_rules] == [("1h", "5m", 14.4), ("6h", "30m", 6.0)]
    assert (p.warn_remaining_percent, p.min_remaining_percent) == (25.0, 0.0)
    p = tier_policy({"warn_remaining_percent": 40, "tiers": {"0": {"burn_rate_rules": [
        {"long": "2h", "short": "10m", "factor": 10}]}}}, 0)
    assert [(r.long_text, r.factor) for r in p.burn_rules] == [("2h", 10.0)] and p.warn_remaining_percent == 40


def test_freeze_times():
    utc = datetime.UTC
    assert parse_time("2026-12-24") == datetime.datetime(2026, 12, 24, tzinfo=utc)
    assert parse_time("2026-12-24", end_of_day=True) == datetime.datetime(2026, 12, 25, tzinfo=utc)
    assert parse_time("2026-12-24T08:00:00+01:00") == datetime.datetime(2026, 12, 24, 7, tzinfo=utc)
    assert parse_time("2026-12-24T08:00") == datetime.datetime(2026, 12, 24, 8, tzinfo=utc)
    assert parse_time("Christmas") is None
