from prr_lint.checks.k8s import SCALABLE, is_workload, kind, label, neighbours, replicas
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="K8S005",
    name="min-replicas",
    summary="A workload runs fewer replicas than its tier requires (an HPA counts with its minReplicas).",
    why="One replica means every node drain, eviction, crash or rollout is an outage; the tier table sets "
        "how many copies a service of that criticality keeps so that losing one (or a zone) is survivable. "
        "When an autoscaler manages the workload, its lower bound is what the service can fall back to.",
    fix="Raise `spec.replicas` (or the HorizontalPodAutoscaler's `minReplicas`) to at least the tier minimum "
        "(tier table: 3 for tier 0, 2 for tiers 1 and 2, 1 for tier 3; configurable as `min_replicas`). "
        "A missing `spec.replicas` means 1. DaemonSets are exempt.",
    targets=["k8s"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "warning"},
    since="0.1.0",
)
def check(doc, ctx):
    minimum = ctx.policy.get("min_replicas")
    if not isinstance(minimum, int) or not is_workload(doc, SCALABLE):
        return
    where, path, count = replicas(doc, neighbours(doc, ctx))
    if count is None or count >= minimum:
        return
    if where is doc:
        source = "spec.replicas is not set (1 replica)" if not doc.has(path) else f"spec.replicas is {count}"
        fix = "set spec.replicas" if not doc.has(path) else "raise spec.replicas"
    else:
        source = f"{kind(where)} {where.get(('metadata', 'name'))} has {path[-1]} {count}"
        fix = f"raise {path[-1]}"
    yield Hit(where, path, f"{label(doc)}: {source}, below the tier {ctx.tier} minimum of {minimum}; "
                           f"{fix} to {minimum} or more")
