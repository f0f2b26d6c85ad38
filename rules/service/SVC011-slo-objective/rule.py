from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


def _pct(value: float) -> str:
    return f"{value:g}%"


@rule(
    id="SVC011",
    name="slo-objective",
    summary="An SLO's objective is missing, below the tier's minimum, or not strictly between 0 and 100 percent.",
    why="The objective is the promise a service makes to its users. A tier-0 service at 99.5% may be down "
        "3.6 hours a month without breaching it; 100% leaves no error budget, so every deploy is a breach; "
        "0.999 written for 99.9% promises almost nothing.",
    fix="Set the objective in percent, strictly between 0 and 100 and at least the tier's `min_objective` "
        "(99.95 for tier 0, 99.9 for tier 1, 99.0 for tier 2 by default), or lower the service's tier if "
        "that is what it really is.",
    targets=[SERVICE],
    tags=["slo"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    minimum = ctx.policy.get("min_objective")
    for slo in service.slos():
        where = slo.at("objective")
        name = f'{service.label}: SLO "{slo.name}"'
        value = slo.objective
        if value is None:
            yield Hit(slo.doc, where, f"{name} has no objective; set it in percent (e.g. 99.9)")
        elif not 0 < value < 100:
            hint = "100% leaves no error budget" if value >= 100 else "it must be a percentage above 0"
            yield Hit(slo.doc, where, f"{name} objective {_pct(value)} is not strictly between 0 and 100 "
                                      f"({hint}); set it in percent, e.g. 99.9")
        elif minimum is not None and value < minimum:
            hint = f" (it is a percent: did you mean {value * 100:g}?)" if value < 1 else ""
            yield Hit(slo.doc, where, f"{name} objective {_pct(value)} is below the tier {ctx.tier} minimum of "
                                      f"{_pct(minimum)}{hint}; raise it to at least {minimum:g} or lower the tier")
