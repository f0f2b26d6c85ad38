from prr_lint.checks.k8s import missing_probe
from prr_lint.rule import rule


@rule(
    id="K8S003",
    name="liveness-probe",
    summary="A container of a long-running workload has no liveness probe.",
    why="Without a liveness probe a container that deadlocks or hangs keeps running and keeps its place "
        "behind the Service: Kubernetes only restarts containers whose process exits. A liveness probe turns "
        "a hang into a restart.",
    fix="Add `livenessProbe` (httpGet, tcpSocket, grpc or exec) to every container of Deployments, "
        "StatefulSets, DaemonSets, ReplicationControllers and Rollouts. Make it cheap and independent of "
        "downstream dependencies, so an outage elsewhere does not restart every pod. Init containers and Jobs "
        "do not need one.",
    targets=["k8s"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    yield from missing_probe(doc, "livenessProbe", "liveness probe",
                             "add livenessProbe (httpGet, tcpSocket, grpc or exec) so a hung process is restarted")
