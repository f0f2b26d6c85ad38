from prr_lint.checks.time import format_duration, parse_duration
from prr_lint.escape import one_line
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC034",
    name="rollback-time",
    summary="Rolling back takes longer than the tier allows (`rollback.maxDuration`), or nobody has said how long.",
    why="While a bad change is being rolled back, users are still affected: the rollback time is part of every "
        "incident a change causes. A tier-0 service whose rollback takes two hours spends a year's error budget "
        "on one bad deploy, however fast the problem was spotted.",
    fix="Time a real rollback and record the longest it takes in `spec.rollback.maxDuration` (a Prometheus "
        "duration such as `15m`). If it is over the tier's `rollback_max_duration` (15m for tier 0, 30m for "
        "tier 1), make it faster: automate it, keep the previous release deployed and warm (blue-green), or "
        "decouple schema migrations from the release.",
    targets=[SERVICE],
    tags=["rollback"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    limit = parse_duration(ctx.policy.get("rollback_max_duration"))
    rollback = service.get("rollback")
    if limit is None or not isinstance(rollback, dict):
        return                    # no limit for the tier; a missing plan is SVC030's
    allowed = format_duration(limit)
    where = service.at("rollback", "maxDuration")
    name = service.field("rollback", "maxDuration")
    value = rollback.get("maxDuration")
    took = parse_duration(value)
    if value is None:
        yield Hit(service.manifest, service.path("rollback"),
                  f"{service.label}: rollback plan does not say how long a rollback takes; time one and set "
                  f"{name} (tier {ctx.tier}: at most {allowed})")
    elif took is None:
        yield Hit(service.manifest, where,
                  f"{service.label}: rollback maxDuration '{one_line(value)}' is not a duration; write it as a "
                  f"Prometheus duration such as 15m or 1h")
    elif took > limit:
        yield Hit(service.manifest, where,
                  f"{service.label}: a rollback takes up to {format_duration(took)}, more than the {allowed} "
                  f"allowed for tier {ctx.tier}; make it faster (automate it, keep the previous release warm) "
                  f"and update {name}")
