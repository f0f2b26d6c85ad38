from prr_lint.checks.readiness import field_name, reference_problem
from prr_lint.escape import one_line
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


def _percent(value) -> float | None:
    """Headroom in percent: a number, or a string such as `30%`."""
    if isinstance(value, str):
        try:
            value = float(value.strip().removesuffix("%"))
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


@rule(
    id="SVC070",
    name="capacity-plan",
    summary="No capacity plan (`spec.capacity: {plan, headroom}`), or less headroom than the tier's minimum.",
    why="A service without a capacity plan finds its limits during its busiest hour: a sale, a launch, a "
        "failover that moves a region's traffic onto it. Headroom is what absorbs a zone loss or a traffic "
        "spike while autoscaling catches up; at 5 % headroom, losing one of three zones is an outage.",
    fix="Write a capacity plan (expected peak, the resource that runs out first, how it scales) and link it in "
        "`spec.capacity.plan`; record the headroom kept at the planned peak, in percent, in "
        "`spec.capacity.headroom`: at least the tier's `min_capacity_headroom` (30 for tier 0, 20 for tier 1). "
        "In a Backstage Component: the annotations `prr-lint/capacity-plan` (or a `metadata.links` entry "
        "titled \"Capacity plan\") and `prr-lint/capacity-headroom`.",
    targets=[SERVICE],
    tags=["capacity"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    minimum = ctx.policy.get("min_capacity_headroom")
    base = service.path("capacity")
    capacity = service.get("capacity")
    plan_field, headroom_field = service.field("capacity", "plan"), service.field("capacity", "headroom")
    if not isinstance(capacity, dict):
        add = (f"{plan_field} and {headroom_field}" if service.manifest.kind == "backstage"
               else f"{field_name(base)} with a plan and its headroom")
        yield Hit(service.manifest, base,
                  f"{service.label}: no capacity plan; add {add}"
                  + (f" (tier {ctx.tier}: at least {minimum:g}%)" if minimum is not None else ""))
        return
    plan = capacity.get("plan")
    if plan is None:
        yield Hit(service.manifest, base, f"{service.label}: capacity names no plan; link it in {plan_field}")
    else:
        problem = reference_problem(plan, ctx, service.directory, "capacity plan", plan_field)
        if problem:
            yield Hit(service.manifest, service.at("capacity", "plan"), f"{service.label}: {problem}")
    headroom = capacity.get("headroom")
    percent = _percent(headroom)
    where = service.at("capacity", "headroom")
    if headroom is None:
        yield Hit(service.manifest, base,
                  f"{service.label}: capacity plan records no headroom; set {headroom_field} in percent"
                  + (f" (tier {ctx.tier}: at least {minimum:g})" if minimum is not None else ""))
    elif percent is None:
        yield Hit(service.manifest, where,
                  f"{service.label}: capacity headroom '{one_line(headroom)}' is not a percentage; write it as a "
                  f"number such as 30")
    elif minimum is not None and percent < minimum:
        yield Hit(service.manifest, where,
                  f"{service.label}: capacity headroom {percent:g}% is under the tier {ctx.tier} minimum of "
                  f"{minimum:g}%; add capacity (or lower the planned peak) and update {headroom_field}")
