from prr_lint.escape import one_line
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC062",
    name="dependency-cycle",
    summary="Critical dependencies form a cycle: no deploy or recovery order can bring the services up.",
    why="When A cannot work without B and B cannot work without A, there is no order in which to start them "
        "after a full outage, a region evacuation or a cold restore: each waits for the other. Cycles "
        "usually grow unnoticed, one reasonable dependency at a time, and are found during the worst "
        "incident of the year.",
    fix="Break the cycle: make one of the dependencies non-critical (the service starts and serves in a "
        "degraded mode without it, and `critical: false` says so), or move the shared piece both need into "
        "a service of its own that depends on neither. Every manifest on the cycle is reported, at its "
        "dependency entry, naming the whole cycle from its alphabetically first service.",
    targets=[SERVICE],
    tags=["dependencies", "dr"],
    severity={0: "error", 1: "error", 2: "warning", 3: "warning"},
    since="0.1.0",
)
def check(service, ctx):
    if ctx.graph.by_name.get(service.name) is not service:
        return
    deps = ctx.dependencies()
    cycle = deps.cycles().get(service.name)
    if cycle is None:
        return
    at = cycle.index(service.name)
    following = cycle[at + 1]
    edge = next(e for e in deps.critical_out(service.name) if e.target == following)
    if len(cycle) == 2:
        yield Hit(service.manifest, edge.path,
                  f"{service.label}: depends critically on itself, so it cannot start after an outage: remove the "
                  f"entry or make it non-critical")
        return
    shown = " -> ".join(one_line(n) for n in cycle)
    yield Hit(service.manifest, edge.path,
              f"{service.label}: critical dependencies form a cycle: {shown}; no deploy or recovery order can "
              f"start these services one after another: make one of the dependencies non-critical or break the "
              f"cycle")
