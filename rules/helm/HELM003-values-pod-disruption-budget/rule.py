from prr_lint.checks.helm import check_values, replica_count, truthy
from prr_lint.checks.k8s import int_value, percent
from prr_lint.rule import rule

KEYS = ("podDisruptionBudget", "pdb")


@rule(
    id="HELM003",
    name="values-pod-disruption-budget",
    summary="A multi-replica component of a Helm chart's values has its PodDisruptionBudget switched off, "
            "or one that blocks every drain.",
    why="Node drains evict pods through the eviction API, which respects PodDisruptionBudgets. Without one, "
        "a drain may evict every replica at once; with one that allows no disruption, drains hang and the "
        "cluster cannot be upgraded.",
    fix="Enable the chart's budget (`podDisruptionBudget.enabled: true` or `pdb.create: true`) with "
        "`maxUnavailable: 1` or a `minAvailable` below the replica count.",
    targets=["helm-values"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    yield from check_values(doc, ctx, _component)


def _component(view, comp, ctx):
    found = replica_count(view, comp)
    if found is None or found[1] < 2:
        return
    count = found[1]
    # charts may carry several spellings (e.g. Bitnami's deprecated `podDisruptionBudget` beside `pdb`):
    # a budget is off only when every one of them is off
    off, enabled = [], []
    for key in KEYS:
        block = comp.get(key)
        if not isinstance(block, dict):
            continue
        switch = next((s for s in ("enabled", "create") if s in block), None)
        on = truthy(block.get(switch)) if switch else bool(block)
        (enabled if on else off).append((key, switch, block))
    if not enabled:
        if off:
            key, switch, _ = sorted(off, key=lambda o: o[1] is None)[0]
            where = comp.at(key, switch) if switch else comp.at(key)
            yield where, (f"{comp.label}: {count} replicas and no PodDisruptionBudget ({key}"
                          f"{'.' + switch if switch else ''} is off); enable it with maxUnavailable: 1")
        return
    key, _, block = enabled[0]
    unavailable, available = block.get("maxUnavailable"), block.get("minAvailable")
    if unavailable not in (None, "") and (int_value(unavailable) == 0 or percent(unavailable) == 0):
        yield comp.at(key, "maxUnavailable"), (
            f"{comp.label}: {key}.maxUnavailable {unavailable} allows no pod to be evicted, so every "
            "node drain blocks; use maxUnavailable: 1")
    elif unavailable in (None, "") and available not in (None, "") and \
            ((int_value(available) or 0) >= count or (percent(available) or 0) >= 100):
        yield comp.at(key, "minAvailable"), (
            f"{comp.label}: {key}.minAvailable {available} with {count} replicas allows no pod to be "
            "evicted, so every node drain blocks; lower it or use maxUnavailable: 1")
