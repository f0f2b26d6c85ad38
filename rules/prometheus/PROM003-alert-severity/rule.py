from prr_lint.checks.prometheus import alerts, name, severity, templated
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="PROM003",
    name="alert-severity",
    summary="An alert has no `severity` label, or one outside the configured severities.",
    why="Alertmanager routes on the severity label: which alerts page someone, which go to a ticket "
        "queue, which are only shown. An alert without one, or with a value no route knows, falls "
        "through to the default route, which usually pages no one.",
    fix="Set `labels.severity` to one of `alert_severities` (by default critical, warning, info, and none for "
        "alerts Alertmanager routes by name, such as Watchdog), or add the value your routing uses to "
        "`alert_severities` in the configuration.",
    targets=["prometheus-rules"],
    tags=["alerting"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    allowed = list(ctx.settings.alert_severities)
    shown = ", ".join(allowed)
    for path, alert in alerts(doc):
        value = severity(alert)
        if value is None:
            where = path + ("labels", "severity") if "labels" in alert else path
            yield Hit(doc, where, f'alert "{name(alert)}" has no severity label; set labels.severity to one of {shown}')
        elif value not in allowed and not templated(value):
            yield Hit(doc, path + ("labels", "severity"),
                      f'alert "{name(alert)}" has severity "{value}", which is not one of {shown}; use one of '
                      f'those or add "{value}" to alert_severities')
