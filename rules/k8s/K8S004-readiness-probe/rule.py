from prr_lint.checks.k8s import LONG_RUNNING, container_label, containers, is_workload, label
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="K8S004",
    name="readiness-probe",
    summary="A container of a long-running workload that may serve traffic has no readiness probe.",
    why="Without a readiness probe a pod receives traffic as soon as its process starts, before it can "
        "serve, and keeps receiving it while it is overloaded or shutting down. During a rolling update "
        "Kubernetes also cannot tell that a new version is broken and goes on replacing healthy pods.",
    fix="Add `readinessProbe` to every container of Deployments, StatefulSets, DaemonSets, "
        "ReplicationControllers and Rollouts, checking that the container can serve requests. Init containers "
        "and Jobs do not need one, nor does a helper container that declares no `ports` in a pod where "
        "another container does (a config reloader, git-sync): it serves none of the pod's traffic.",
    targets=["k8s"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    if not is_workload(doc, LONG_RUNNING):
        return
    pod = list(containers(doc, init=False))
    serving = [c for _, c in pod if _declares_ports(c)]
    for path, container in pod:
        if isinstance(container.get("readinessProbe"), dict):
            continue
        if serving and not _declares_ports(container):
            continue  # a helper beside the container(s) that serve: it gates no traffic
        yield Hit(doc, path + ("readinessProbe",),
                  f"{label(doc)}: {container_label(container, path)} has no readiness probe; add readinessProbe "
                  "so the pod gets traffic only when it can serve")


def _declares_ports(container: dict) -> bool:
    ports = container.get("ports")
    return isinstance(ports, list) and len(ports) > 0
