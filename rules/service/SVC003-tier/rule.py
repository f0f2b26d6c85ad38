from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC003",
    name="tier",
    summary="The service declares no tier, or one that is not 0-3; it is then checked at `default_tier`.",
    why="The tier decides how strict every other check is: the SLO minimum, the replicas, whether canary "
        "delivery and DR tests are required. A service without a valid tier is reviewed at the default tier, "
        "which for a critical service means most of its gaps go unreported.",
    fix="Set `metadata.tier` to 0 (most critical) through 3 (or the `prr-lint/tier` annotation of a "
        "Backstage Component).",
    targets=[SERVICE],
    tags=["ownership"],
    severity="warning",
    since="0.1.0",
)
def check(service, ctx):
    if service.tier_declared:
        return
    where = service.path("tier")
    value = service.get("tier")
    fallback = f"checked as tier {ctx.graph.default_tier} (default_tier)"
    if value is None:
        what = "declares no tier"
    else:
        what = f"tier {value!r} is not 0-3"
    fix = f"set the annotation {where[-1]} to \"0\"-\"3\"" if service.manifest.kind == "backstage" \
        else f"set {'.'.join(where)} to 0-3"
    yield Hit(service.manifest, where, f"{service.name}: {what}; {fallback}; {fix}")
