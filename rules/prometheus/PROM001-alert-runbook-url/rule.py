from prr_lint.checks.prometheus import alerts
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="PROM001",
    name="alert-runbook-url",
    summary="An alert has no `runbook_url` annotation.",
    why="The person paged at 3 a.m. needs to know what the alert means and what to do. A runbook link in "
        "the alert puts that one click away in the page, Slack message and Alertmanager UI.",
    fix="Add `annotations.runbook_url` pointing at the runbook section for this alert (a repository path "
        "or a URL on an allowed host).",
    targets=["prometheus-rules"],
    tags=["runbook", "alerting"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, _ctx):
    for path, alert in alerts(doc):
        annotations = alert.get("annotations")
        url = annotations.get("runbook_url") if isinstance(annotations, dict) else None
        if not isinstance(url, str) or not url.strip():
            yield Hit(doc, path + ("annotations", "runbook_url"),
                      f'alert "{alert["alert"]}" has no runbook_url annotation; link the runbook for it')
