from prr_lint.checks.k8s import container_label, containers, label
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="K8S001",
    name="resource-requests",
    summary="A container of a workload has no CPU or no memory request (and no limit it would be copied from).",
    why="The scheduler places pods by their requests. A container without requests is scheduled as if it "
        "needed nothing, lands on a node that is already full, is the first to be evicted under memory "
        "pressure (BestEffort), and makes capacity planning and autoscaling on utilization meaningless.",
    fix="Set `resources.requests.cpu` and `resources.requests.memory` on every container and init container, "
        "from the usage you observe under normal load. A limit without a request counts: Kubernetes copies a "
        "container's CPU or memory limit into the missing request.",
    targets=["k8s"],
    tags=["resources"],
    severity={0: "error", 1: "error", 2: "error", 3: "warning"},
    since="0.1.0",
)
def check(doc, ctx):
    for path, container in containers(doc):
        resources = container.get("resources")
        requests = resources.get("requests") if isinstance(resources, dict) else None
        requests = requests if isinstance(requests, dict) else {}
        limits = resources.get("limits") if isinstance(resources, dict) else None
        limits = limits if isinstance(limits, dict) else {}
        # the API server defaults a missing request to the limit of the same resource
        missing = [r for r in ("cpu", "memory") if requests.get(r) in (None, "") and limits.get(r) in (None, "")]
        if missing:
            what = " or ".join("CPU" if m == "cpu" else m for m in missing)
            yield Hit(doc, path + ("resources", "requests", missing[0]),
                      f"{label(doc)}: {container_label(container, path)} has no {what} request (and no limit "
                      "to default it from); set " + " and ".join(f"resources.requests.{m}" for m in missing))
