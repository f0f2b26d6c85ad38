from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC050",
    name="dashboard",
    summary="The service links no dashboard.",
    why="When an alert fires, the first thing the on-call engineer needs is the service's golden signals "
        "(traffic, errors, latency, saturation) over time. A dashboard linked from the manifest is one click "
        "away; one that has to be searched for costs minutes.",
    fix="List the service's dashboard under `spec.dashboards` (a URL), or in a Backstage Component add a "
        "`metadata.links` entry titled \"Dashboard\" (or with `type: dashboard`).",
    targets=[SERVICE],
    tags=["alerting"],
    severity={0: "warning", 1: "warning", 2: "info", 3: "off"},
    since="0.1.0",
)
def check(service, _ctx):
    if service.links("dashboards", "dashboard", "grafana"):
        return
    where = service.path("dashboards")
    if service.manifest.kind == "backstage":
        hint = "add a metadata.links entry titled \"Dashboard\""
    else:
        hint = f"list it under {'.'.join(where)}"
    yield Hit(service.manifest, where, f"{service.label}: no dashboard; {hint}")
