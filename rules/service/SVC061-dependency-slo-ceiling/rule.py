import math

from prr_lint.escape import one_line
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule

# objectives are compared with a little slack: 99.9 x 99.95 is 99.85005..., not "above 99.85"
SLACK = 1e-6


def _pct(value: float) -> str:
    return f"{value:g}%"


def _ceiling(value: float) -> str:
    """The ceiling rounded down to 3 decimals (99.85005 -> 99.85%): the objective it names must be reachable."""
    return _pct(math.floor(value * 1000 + SLACK) / 1000)


@rule(
    id="SVC061",
    name="dependency-slo-ceiling",
    summary="An availability SLO objective above what the service's critical dependencies allow.",
    why="Serial availability multiplies: a service that needs two dependencies at 99.9 % and 99.95 % to answer "
        "is available at most 99.9 % x 99.95 % = 99.85 % of the time, before any failure of its own. An "
        "objective of 99.99 % on top of them is a promise the service cannot keep, and an error budget that "
        "is spent by someone else's ordinary month.",
    fix="Lower the objective to at most the computed ceiling, or raise it by removing the serial dependency: "
        "a fallback, a cache, redundancy (two independent providers), or making the dependency "
        "non-critical. Only availability SLOs are compared: an SLO whose SLI `type` is in the config's "
        "`availability_slos.types` (default `availability`), or, without a declared type, whose name matches "
        "`availability_slos.names` (default `availability`, `*-availability`, `availability-*`, `uptime`). A "
        "dependency counts with its own lowest availability objective; one without an availability SLO "
        "is left out of the product.",
    targets=[SERVICE],
    tags=["dependencies", "slo", "availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(service, ctx):
    if ctx.graph.by_name.get(service.name) is not service:
        return
    deps = ctx.dependencies()
    ceiling = deps.ceiling(service.name)
    if ceiling is None:
        return
    value, behind = ceiling
    product = " x ".join(f"{one_line(name)} {_pct(objective)}" for name, objective in behind)
    # critical dependencies the product leaves out lower the ceiling further: the message names them
    counted = {name for name, _ in behind}
    left_out = sorted({e.target for e in deps.out_edges(service.name) if e.critical and e.target not in counted})
    unknown = f"; not counted, without an availability SLO here: {', '.join(map(one_line, left_out))}" \
        if left_out else ""
    for slo in service.slos():
        objective = slo.objective
        if not deps.is_availability(slo) or objective is None or not 0 < objective < 100:
            continue
        if objective > value + SLACK:
            yield Hit(slo.doc, slo.at("objective"),
                      f'{service.label}: SLO "{one_line(slo.name)}" objective {_pct(objective)} is above the '
                      f"{_ceiling(value)} its critical dependencies allow ({product}{unknown}); lower it to at "
                      f"most {_ceiling(value)} or remove the serial dependency (a fallback, a cache, redundancy)")
