from prr_lint.checks.k8s import (
    disruption_budgets,
    int_value,
    is_workload,
    kind,
    label,
    name,
    neighbours,
    percent,
    replicas,
)
from prr_lint.model import Hit
from prr_lint.rule import rule

# DaemonSet pods are not evicted by a drain (kubectl drain --ignore-daemonsets): no budget needed
REPLICATED = ("Deployment", "StatefulSet", "ReplicationController", "Rollout")


@rule(
    id="K8S006",
    name="pod-disruption-budget",
    summary="A multi-replica workload has no PodDisruptionBudget, or its budget blocks every drain.",
    why="Node drains (upgrades, autoscaler scale-downs, maintenance) evict pods through the eviction API, "
        "which respects PodDisruptionBudgets. Without one, a drain may evict every replica at once. A budget "
        "that allows no disruption at all (`maxUnavailable: 0`, `minAvailable` equal to the replica count or "
        "100%) makes drains hang, so the cluster cannot be upgraded until someone deletes it by hand.",
    fix="Add a PodDisruptionBudget in the same namespace whose `spec.selector.matchLabels` match the pod "
        "template labels, with `maxUnavailable: 1` (or a `minAvailable` below the replica count).",
    targets=["k8s"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    if doc.kind == "k8s" and kind(doc) == "PodDisruptionBudget":
        yield from _blocking(doc)
        return
    if not is_workload(doc, REPLICATED):
        return
    docs = neighbours(doc, ctx)
    _, _, count = replicas(doc, docs)
    budgets = disruption_budgets(doc, docs)
    if not budgets:
        if count is not None and count >= 2:
            yield Hit(doc, ("metadata", "name"),
                      f"{label(doc)}: {count} replicas and no PodDisruptionBudget selects its pods; add one "
                      "with maxUnavailable: 1 and a selector matching the pod template labels")
        return
    for pdb in budgets:
        available = int_value(pdb.get(("spec", "minAvailable")))
        if count is not None and available is not None and available >= count \
                and not pdb.has(("spec", "maxUnavailable")):
            yield Hit(pdb, ("spec", "minAvailable"),
                      f"PodDisruptionBudget {name(pdb)}: minAvailable {available} with {count} replicas of "
                      f"{label(doc)} allows no pod to be evicted, so every node drain blocks; set "
                      f"minAvailable below {count} or use maxUnavailable: 1")


def _blocking(pdb):
    spec = pdb.get(("spec",))
    if not isinstance(spec, dict):
        return
    unavailable = spec.get("maxUnavailable")
    if "maxUnavailable" in spec and (int_value(unavailable) == 0 or percent(unavailable) == 0):
        yield Hit(pdb, ("spec", "maxUnavailable"),
                  f"PodDisruptionBudget {name(pdb)}: maxUnavailable {unavailable} allows no pod to be evicted, so "
                  "every node drain blocks; use maxUnavailable: 1")
    elif "minAvailable" in spec and (percent(spec.get("minAvailable")) or 0) >= 100:
        yield Hit(pdb, ("spec", "minAvailable"),
                  f"PodDisruptionBudget {name(pdb)}: minAvailable {spec['minAvailable']} allows no pod to be "
                  "evicted, so every node drain blocks; use maxUnavailable: 1")
