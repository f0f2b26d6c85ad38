from prr_lint.checks.helm import check_values, replica_count
from prr_lint.rule import rule


@rule(
    id="HELM002",
    name="values-min-replicas",
    summary="A component of a Helm chart's values runs fewer replicas than its tier requires.",
    why="One replica means every node drain, eviction, crash or rollout is an outage; the tier table sets "
        "how many copies a service of that criticality keeps. With autoscaling on, `minReplicas` is what "
        "the service falls back to.",
    fix="Raise `replicaCount` (or `replicas`) to the tier minimum (3 for tier 0, 2 for tiers 1 and 2, 1 for "
        "tier 3; configurable as `min_replicas`), or enable `autoscaling` with `minReplicas` at least that, "
        "in values.yaml or the production overlay.",
    targets=["helm-values"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "warning"},
    since="0.1.0",
)
def check(doc, ctx):
    yield from check_values(doc, ctx, _component)


def _component(view, comp, ctx):
    minimum = ctx.policy.get("min_replicas")
    found = replica_count(view, comp)
    if not isinstance(minimum, int) or found is None:
        return
    path, count = found
    if count < minimum:
        key = ".".join(str(p) for p in path[len(comp.path):])
        fix = f"raise {key} to {minimum} or more" + ("" if "autoscaling" in path or "hpa" in path
                                                      else " or enable autoscaling")
        yield path, f"{comp.label}: {key} is {count}, below the tier {ctx.tier} minimum of {minimum}; {fix}"
