import datetime
import re

from prr_lint.checks.prometheus import alerts, name, rules, severity
from prr_lint.checks.promql_memo import debounce_reason_for
from prr_lint.checks.time import format_duration, parse_duration
from prr_lint.model import Hit
from prr_lint.rule import rule

PAGING = "critical"
MIN_FOR = datetime.timedelta(minutes=1)
DEBOUNCE_HINT = ("or make the expression debounce: a multi-window burn rate (one series over two windows "
                 "joined with `and`), a condition held over a window (min_over_time(...[5m]) > t) or at least "
                 "two events in one (increase(...[1h]) >= 2)")


@rule(
    id="PROM004",
    name="paging-alert-for",
    summary="A paging alert (severity critical) fires without a `for` duration, or with one under 1m, and its "
            "expression does not debounce by itself.",
    why="Without `for`, one evaluation over the threshold pages someone: a scrape that fails once, a "
        "restart, a spike of a few seconds. Pages that resolve by themselves before anyone looks teach "
        "the on-call to ignore pages.",
    fix="Give critical alerts `for: 1m` or more (how long the condition must hold before it pages), or "
        "lower the severity of alerts that must fire at once. An expression that debounces by itself needs no "
        "`for`: a multi-window burn rate (the same series over two range windows joined with `and`), a "
        "duration inside the expression (`time() - x > 7200`, `min_over_time(up[5m]) > 0`, `avg_over_time`), "
        "or an event count over a window that one event cannot reach (`increase(x[2h]) >= 2`).",
    targets=["prometheus-rules"],
    tags=["alerting"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    recorded = {item["record"]: item.get("expr") for _, item in rules(doc) if isinstance(item.get("record"), str)}
    for path, alert in alerts(doc):
        if severity(alert) != PAGING:
            continue
        raw = alert.get("for")
        who = f'alert "{name(alert)}" (severity {PAGING})'
        expr = alert.get("expr")
        if raw is None or _short(raw):
            if isinstance(expr, str) and debounce_reason_for(ctx, expr, recorded) is not None:
                continue  # e.g. a burn rate over 1h and 5m: one evaluation cannot fire it
        if raw is None:
            yield Hit(doc, path, f"{who} has no `for`, so one bad evaluation pages someone; "
                                 f"add for: {format_duration(MIN_FOR)} or more, {DEBOUNCE_HINT}")
            continue
        duration = _duration(raw)
        if duration is None:
            yield Hit(doc, path + ("for",), f'{who} has for: "{raw}", which is not a Prometheus duration '
                                            f'(e.g. 5m); Prometheus rejects the rule file')
        elif duration < MIN_FOR:
            yield Hit(doc, path + ("for",), f"{who} has for: {raw}, under {format_duration(MIN_FOR)}; a blip "
                                            f"pages someone; raise it to {format_duration(MIN_FOR)} or more, "
                                            f"{DEBOUNCE_HINT}")


def _short(raw) -> bool:
    """A `for` that is a valid duration under MIN_FOR (a malformed one is reported as such, whatever the expr)."""
    duration = _duration(raw)
    return duration is not None and duration < MIN_FOR


def _duration(raw) -> datetime.timedelta | None:
    zero = raw == 0 or (isinstance(raw, str) and re.fullmatch(r"\s*0+(ms|s|m|h|d|w|y)?\s*", raw))
    return datetime.timedelta(0) if zero else parse_duration(raw)
