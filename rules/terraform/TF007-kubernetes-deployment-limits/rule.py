from prr_lint.checks.terraform import UNKNOWN, resources
from prr_lint.rule import rule

TYPES = ("kubernetes_deployment", "kubernetes_deployment_v1", "kubernetes_stateful_set",
         "kubernetes_stateful_set_v1", "kubernetes_daemonset", "kubernetes_daemon_set_v1")
POD = ("spec", "template", "spec")


@rule(
    id="TF007",
    name="kubernetes-deployment-limits",
    summary="A container of a Terraform-managed Kubernetes workload has no memory limit.",
    why="A container without a memory limit can take all the memory of its node: the kernel then kills "
        "processes of other pods, and one leak becomes an outage of everything scheduled beside it.",
    fix="Add `resources { limits = { memory = \"...\" } }` (and requests) to every `container` and "
        "`init_container` of kubernetes_deployment, kubernetes_stateful_set and kubernetes_daemonset "
        "(and their _v1 forms).",
    targets=["terraform", "terraform-plan"],
    tags=["resources"],
    severity={0: "error", 1: "error", 2: "error", 3: "warning"},
    since="0.1.0",
)
def check(doc, ctx):
    for res in resources(doc, TYPES, ctx.repo, ctx.note):
        if res.get(*POD) is UNKNOWN:
            continue
        for kind in ("init_container", "container"):
            for i, container in res.blocks(*POD, kind):
                keys = POD + ((kind, i) if i is not None else (kind,))
                name = container.get("name")
                who = f'{res.label}: {kind.replace("_", " ")} "{name}"' if isinstance(name, str) else \
                    f"{res.label}: {kind.replace('_', ' ')} {i if i is not None else 0}"
                limits = res.get(*keys, "resources", "limits")
                if limits is UNKNOWN:
                    continue
                if isinstance(limits, list):  # `limits { ... }` block (provider 1.x)
                    limits = limits[0] if limits else {}
                if not isinstance(limits, dict) or not limits:
                    yield res.hit(f"{who} has no resource limits; set resources {{ limits = {{ memory = ... }} }}",
                                  *keys, "resources", "limits")
                elif "memory" not in limits:
                    yield res.hit(f"{who} has no memory limit; add memory to resources.limits",
                                  *keys, "resources", "limits")
