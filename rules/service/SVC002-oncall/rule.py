from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC002",
    name="oncall",
    summary="The service names no on-call rotation, or no escalation path.",
    why="An alert that pages no one is a log line. Without a rotation nobody is woken for the service's "
        "critical alerts, and without an escalation path a page that is not acknowledged stops there.",
    fix="Set `spec.oncall.rotation` (e.g. `pagerduty/P1ABC23` or `opsgenie/team-payments`) and "
        "`spec.oncall.escalation` (a policy id or a document describing who is next). In a Backstage "
        "Component, a `pagerduty.com/service-id` or `opsgenie.com/team` annotation names both.",
    targets=[SERVICE],
    tags=["ownership", "alerting"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(service, _ctx):
    oncall = service.oncall()
    if service.manifest.kind == "backstage":
        if oncall["rotation"] is None:
            yield Hit(service.manifest, ("metadata", "annotations"),
                      f"{service.label}: no on-call rotation; add a pagerduty.com/service-id or opsgenie.com/team "
                      f"annotation")
        return
    where = service.path("oncall")
    if oncall["rotation"] is None and oncall["escalation"] is None:
        yield Hit(service.manifest, where,
                  f"{service.label}: no on-call rotation or escalation; set {'.'.join(where)}.rotation and "
                  f"{'.'.join(where)}.escalation")
    elif oncall["rotation"] is None:
        yield Hit(service.manifest, where + ("rotation",),
                  f"{service.label}: no on-call rotation; set {'.'.join(where)}.rotation (e.g. pagerduty/P1ABC23)")
    elif oncall["escalation"] is None:
        yield Hit(service.manifest, where + ("escalation",),
                  f"{service.label}: on-call has no escalation path; set {'.'.join(where)}.escalation "
                  f"(a policy or a document saying who is next)")
