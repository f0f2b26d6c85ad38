from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC010",
    name="slo",
    summary="The service declares no SLO.",
    why="Without a service-level objective there is no agreed line between healthy and unhealthy: alerts "
        "fire on symptoms nobody committed to, and there is no error budget to decide whether to ship or to "
        "stabilise.",
    fix="Add at least one SLO under `spec.slos` (name, objective in percent, window, SLI queries), or an "
        "OpenSLO `SLO` / Sloth spec whose service is this service's name.",
    targets=[SERVICE],
    tags=["slo"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(service, _ctx):
    if service.slos():
        return
    where = service.path("slos")
    if service.manifest.kind == "backstage":   # a Component holds no SLOs: they come from OpenSLO or Sloth
        yield Hit(service.manifest, ("metadata", "name"),
                  f"{service.label}: no SLO; add an OpenSLO SLO or a Sloth spec whose service is {service.name!r} "
                  f"(e.g. availability 99.9% over 30d)")
        return
    yield Hit(service.manifest, where,
              f"{service.label}: no SLO; add one under {'.'.join(where)} (e.g. availability 99.9% over 30d) "
              f"or an OpenSLO/Sloth SLO for service {service.name!r}")
