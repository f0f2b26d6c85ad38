from prr_lint.checks.k8s import missing_probe
from prr_lint.rule import rule


@rule(
    id="K8S004",
    name="readiness-probe",
    summary="A container of a long-running workload has no readiness probe.",
    why="Without a readiness probe a pod receives traffic as soon as its process starts, before it can "
        "serve, and keeps receiving it while it is overloaded or shutting down. During a rolling update "
        "Kubernetes also cannot tell that a new version is broken and goes on replacing healthy pods.",
    fix="Add `readinessProbe` to every container of Deployments, StatefulSets, DaemonSets and Rollouts, "
        "checking that the container can serve requests. Init containers and Jobs do not need one.",
    targets=["k8s"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    yield from missing_probe(doc, "readinessProbe", "readiness probe",
                             "add readinessProbe so the pod gets traffic only when it can serve")
