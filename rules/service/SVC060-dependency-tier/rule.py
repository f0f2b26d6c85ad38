from prr_lint.escape import one_line
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC060",
    name="dependency-tier",
    summary="A critical dependency on a service of a less critical tier (tier 0 on tier 1 or 2, ...).",
    why="A service cannot be more reliable than what it cannot work without. A tier-0 checkout that needs a "
        "tier-2 recommendations service to answer is, in practice, a tier-2 service: the dependency gets "
        "tier-2 on-call, tier-2 SLOs and tier-2 rollout care, and its outages are checkout's outages.",
    fix="Either raise the dependency to the depending service's tier (and give it that tier's SLOs, on-call "
        "and rollout care), or make the dependency non-critical: a timeout with a fallback, a cache, a "
        "degraded mode, and then `critical: false` in `spec.dependencies`. A critical dependency on a service "
        "no manifest in the repository declares is reported once, as info, so that its tier can be checked "
        "when it is added. A Backstage Component's `dependsOn` carries no criticality: its entries count as "
        "critical only when the annotation `prr-lint/critical-dependencies` lists them (comma-separated).",
    targets=[SERVICE],
    tags=["dependencies", "availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(service, ctx):
    if ctx.graph.by_name.get(service.name) is not service:
        return                    # a second manifest of a name: the first speaks for the service
    deps = ctx.dependencies()
    undeclared = deps.first_undeclared()
    for edge in deps.out_edges(service.name):
        if not edge.critical:
            continue
        target = one_line(edge.target)
        if not deps.declared(edge.target):
            if undeclared.get(edge.target) is edge:
                yield Hit(service.manifest, edge.path,
                          f"{service.label}: critical dependency '{target}' is not declared by any service "
                          f"manifest in this repository, so its tier cannot be compared; add its manifest (or a "
                          f"Backstage Component) to check it", severity="info")
            continue
        tier = deps.tiers[edge.target]
        if tier > service.tier:
            shown = f"tier {tier}" + (" from default_tier: it declares no tier" if edge.target in deps.default_tiered
                                      else "")
            yield Hit(service.manifest, edge.path,
                      f"{service.label}: critical dependency on {target} ({shown}), a less critical tier: it "
                      f"caps this service's reliability; raise {target} to tier {service.tier} or make the "
                      f"dependency non-critical (a fallback, a cache, a degraded mode)")
