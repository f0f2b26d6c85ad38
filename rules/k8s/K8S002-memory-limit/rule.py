from prr_lint.checks.k8s import container_label, containers, label
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="K8S002",
    name="memory-limit",
    summary="A container of a workload has no memory limit.",
    why="Without a memory limit a leaking container grows until the node runs out of memory and the kernel "
        "kills whatever it picks, often a neighbour. With a limit, only the leaking container is restarted.",
    fix="Set `resources.limits.memory` on every container and init container (usually equal to the memory "
        "request, so the pod is never over-committed).",
    targets=["k8s"],
    tags=["resources"],
    severity={0: "error", 1: "error", 2: "error", 3: "warning"},
    since="0.1.0",
)
def check(doc, ctx):
    for path, container in containers(doc):
        resources = container.get("resources")
        limits = resources.get("limits") if isinstance(resources, dict) else None
        if not isinstance(limits, dict) or limits.get("memory") in (None, ""):
            yield Hit(doc, path + ("resources", "limits", "memory"),
                      f"{label(doc)}: {container_label(container, path)} has no memory limit; "
                      "set resources.limits.memory")
