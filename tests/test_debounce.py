"""PROM004's reading of alert expressions that debounce by themselves, from the PromQL AST."""

import pytest

from prr_lint.checks.debounce import debounce_reason

BURN = "sum(rate(e{code=~'5..'}[{w}])) / sum(rate(e[{w}])) > 14.4 * 0.001"


@pytest.mark.parametrize("expr,reason", [
    (f"({BURN.replace('{w}', '1h')}) and ({BURN.replace('{w}', '5m')})",
     "a multi-window burn rate: the 1h and 5m windows must both be over"),
    # Sloth's pairs of windows, each pair one branch of an `or`: every branch debounces
    ("(a:burnrate5m > 1 and ignoring(w) a:burnrate1h > 1) or ignoring(w) (a:burnrate30m > 1 and a:burnrate6h > 1)",
     "a multi-window burn rate: the 1h and 5m windows must both be over"),
    ("time() - backup_last_success_timestamp_seconds > 7200",
     "a duration inside the expression: the time since an event must exceed 2h"),
    ("min by (user) (time() - bucket_index_last_successful_update_timestamp_seconds) > 7200",
     "a duration inside the expression: the time since an event must exceed 2h"),
    ("(time() - backup_last_success_timestamp_seconds) / 3600 > 24",
     "a duration inside the expression: it compares the time since an event"),
    ("increase(restarts_total[2h]) >= 2", "it counts at least two events in 2h (increase)"),
    ("2 <= sum by (pod) (changes(build_info[1h]))", "it counts at least two events in 1h (changes)"),
    ("min_over_time(queue_lag_seconds[10m]) > 300", "min_over_time holds the condition for the whole 10m window"),
    ("max_over_time(up[5m]) == 0", "max_over_time holds the condition for the whole 5m window"),
    ("avg_over_time(temperature[15m]) > 80", "avg_over_time averages the 15m window"),
    ("absent_over_time(up{job='x'}[10m])", "absent_over_time holds for the whole 10m window"),
    ("up == 0 and time() - process_start_time_seconds > 600",
     "a duration inside the expression: the time since an event must exceed 10m"),
    ("rate(errors[5m]) > 1 unless min_over_time(up[5m]) > 0", None),
])
def test_debounced(expr, reason):
    assert debounce_reason(expr) == reason


@pytest.mark.parametrize("expr", [
    "up == 0",
    "rate(errors_total[5m]) > 0.1",
    "increase(restarts_total[1h]) > 0",          # one restart fires it
    "increase(restarts_total[1h]) >= 1",
    "min_over_time(up[5m]) == 0",                # one sample at 0 fires it
    "max_over_time(lag[5m]) > 10",               # one sample above fires it
    "min_over_time(up[30s]) > 0",                # a window under 1m is no debounce
    "time() - last_seen_timestamp_seconds > 30",
    "time() - last_seen_timestamp_seconds < 7200",
    "time() - x > 1e300 * 1e300",
    "rate(errors_total[5m]) > 1 and rate(requests_total[1h]) > 100",   # different series: a traffic guard
    "(a:burnrate5m > 1 and a:burnrate1h > 1) or up == 0",             # the `up == 0` branch fires alone
    "x > bool 1",
    "absent(up{job='x'})",
    "this is not promql",
])
def test_not_debounced(expr):
    assert debounce_reason(expr) is None


def test_recorded_series_count_through_their_recording_rules():
    recorded = {"job:errors:ratio_short": "sum(rate(e[5m])) / sum(rate(r[5m]))",
                "job:errors:ratio_long": "sum(rate(e[1h])) / sum(rate(r[1h]))"}
    expr = "job:errors:ratio_short > 0.01 and job:errors:ratio_long > 0.01"
    assert debounce_reason(expr) is None         # names without a window suffix: unknown windows
    assert debounce_reason(expr, recorded) == "a multi-window burn rate: the 1h and 5m windows must both be over"
