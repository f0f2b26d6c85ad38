from prr_lint.checks.k8s import is_workload, label, pod_spec_path
from prr_lint.model import Hit
from prr_lint.rule import rule

# DaemonSets run one pod per node by construction
SPREADABLE = ("Deployment", "StatefulSet", "ReplicationController", "Rollout")


@rule(
    id="K8S009",
    name="topology-spread",
    summary="A tier 0 workload does not spread its pods: no topologySpreadConstraints and no pod anti-affinity.",
    why="Replicas only protect against failures they do not share. Without a spread constraint or "
        "anti-affinity the scheduler may put every replica on one node or in one zone, and a single node or "
        "zone failure takes the whole tier 0 service down.",
    fix="Add `topologySpreadConstraints` over `topology.kubernetes.io/zone` (and/or `kubernetes.io/hostname`) "
        "selecting the workload's pods, or a `podAntiAffinity` rule on those keys.",
    targets=["k8s"],
    tags=["availability"],
    severity={0: "error", 1: "off", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    if not is_workload(doc, SPREADABLE):
        return
    spec_path = pod_spec_path(doc)
    spec = doc.get(spec_path)
    spread = spec.get("topologySpreadConstraints")
    affinity = spec.get("affinity")
    anti = affinity.get("podAntiAffinity") if isinstance(affinity, dict) else None
    if (isinstance(spread, list) and spread) or (isinstance(anti, dict) and any(anti.values())):
        return
    yield Hit(doc, spec_path + ("topologySpreadConstraints",),
              f"{label(doc)}: tier {ctx.tier} workload without topologySpreadConstraints or pod anti-affinity, so "
              "all replicas may land on one node or zone; add topologySpreadConstraints over "
              "topology.kubernetes.io/zone")
