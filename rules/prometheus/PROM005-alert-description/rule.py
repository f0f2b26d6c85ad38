from prr_lint.checks.prometheus import alerts, annotations, name, text
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="PROM005",
    name="alert-description",
    summary="An alert has neither a `summary` nor a `description` annotation.",
    why="The page, the Slack message and the Alertmanager UI show the annotations. With neither a summary "
        "nor a description the person paged sees only the alert name and labels, and must read the "
        "PromQL to learn what is wrong and how bad it is.",
    fix="Add `annotations.summary` (one line: what is wrong, for whom) and, ideally, "
        "`annotations.description` (details with `{{ $value }}` and `{{ $labels.x }}`). A `message` "
        "annotation, the older kube-prometheus convention, is accepted too.",
    targets=["prometheus-rules"],
    tags=["alerting", "runbook"],
    severity={0: "error", 1: "warning", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, _ctx):
    for path, alert in alerts(doc):
        notes = annotations(alert)
        # `message` is what older kubernetes-mixin and kube-prometheus alerts use for the same text
        if text(notes.get("summary")) or text(notes.get("description")) or text(notes.get("message")):
            continue
        where = path + ("annotations", "summary") if "annotations" in alert else path
        yield Hit(doc, where, f'alert "{name(alert)}" has no summary or description annotation; add a summary '
                              f'that says what is wrong and for whom')
