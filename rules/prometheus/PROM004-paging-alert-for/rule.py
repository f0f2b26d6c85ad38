import datetime
import re

from prr_lint.checks.prometheus import alerts, name, severity
from prr_lint.checks.time import format_duration, parse_duration
from prr_lint.model import Hit
from prr_lint.rule import rule

PAGING = "critical"
MIN_FOR = datetime.timedelta(minutes=1)


@rule(
    id="PROM004",
    name="paging-alert-for",
    summary="A paging alert (severity critical) fires without a `for` duration, or with one under 1m.",
    why="Without `for`, one evaluation over the threshold pages someone: a scrape that fails once, a "
        "restart, a spike of a few seconds. Pages that resolve by themselves before anyone looks teach "
        "the on-call to ignore pages.",
    fix="Give critical alerts `for: 1m` or more (how long the condition must hold before it pages), or "
        "lower the severity of alerts that must fire at once.",
    targets=["prometheus-rules"],
    tags=["alerting"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, _ctx):
    for path, alert in alerts(doc):
        if severity(alert) != PAGING:
            continue
        raw = alert.get("for")
        who = f'alert "{name(alert)}" (severity {PAGING})'
        if raw is None:
            yield Hit(doc, path, f"{who} has no `for`, so one bad evaluation pages someone; "
                                 f"add for: {format_duration(MIN_FOR)} or more")
            continue
        zero = raw == 0 or (isinstance(raw, str) and re.fullmatch(r"\s*0+(ms|s|m|h|d|w|y)?\s*", raw))
        duration = datetime.timedelta(0) if zero else parse_duration(raw)
        if duration is None:
            yield Hit(doc, path + ("for",), f'{who} has for: "{raw}", which is not a Prometheus duration '
                                            f'(e.g. 5m); Prometheus rejects the rule file')
        elif duration < MIN_FOR:
            yield Hit(doc, path + ("for",), f"{who} has for: {raw}, under {format_duration(MIN_FOR)}; a blip "
                                            f"pages someone; raise it to {format_duration(MIN_FOR)} or more")
