from prr_lint.checks.terraform import UNKNOWN, as_number, resources
from prr_lint.rule import rule

# resource type -> where its minimum number of instances (nodes, tasks) is set
MINIMUM = {
    "aws_autoscaling_group": ("min_size",),
    "google_compute_autoscaler": ("autoscaling_policy", "min_replicas"),
    "google_compute_region_autoscaler": ("autoscaling_policy", "min_replicas"),
    "aws_eks_node_group": ("scaling_config", "min_size"),
    "aws_appautoscaling_target": ("min_capacity",),
    "google_container_node_pool": ("autoscaling", "min_node_count"),
    "azurerm_kubernetes_cluster_node_pool": ("min_count",),
}
TYPES = (*MINIMUM, "azurerm_monitor_autoscale_setting")


@rule(
    id="TF005",
    name="autoscaling-min-size",
    summary="An autoscaling group may shrink below the tier's minimum number of instances.",
    why="With fewer instances than the tier minimum, losing one instance (a deploy, a zone problem, a "
        "host failure) leaves the service with too little capacity or none at all.",
    fix="Raise `min_size` (aws_autoscaling_group), `autoscaling_policy { min_replicas }` "
        "(google_compute_autoscaler, google_compute_region_autoscaler), `profile { capacity { minimum } }` "
        "(azurerm_monitor_autoscale_setting), `scaling_config { min_size }` (aws_eks_node_group), "
        "`min_capacity` (aws_appautoscaling_target of an ECS service), `autoscaling { min_node_count }` "
        "(google_container_node_pool) or `min_count` (azurerm_kubernetes_cluster_node_pool) to the tier "
        "minimum (`min_replicas` of the tier policy).",
    targets=["terraform", "terraform-plan"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "warning"},
    since="0.1.0",
)
def check(doc, ctx):
    minimum = ctx.policy.get("min_replicas")
    if not isinstance(minimum, int):
        return
    who = f"tier {ctx.tier} (service {ctx.service.name})" if ctx.service else f"tier {ctx.tier} (default_tier)"
    for res in resources(doc, TYPES, ctx.repo, ctx.note):
        if res.type == "azurerm_monitor_autoscale_setting":
            places = [("profile", i, "capacity", "minimum") for i, _ in res.blocks("profile")]
        elif res.type == "aws_appautoscaling_target" and res.get("service_namespace") != "ecs":
            continue   # DynamoDB capacity, Lambda concurrency, ...: not instances of a service
        else:
            places = [MINIMUM[res.type]]
        for keys in places:
            value = res.get(*keys)
            n = as_number(value)
            if value is UNKNOWN or n is None or n >= minimum:
                continue
            yield res.hit(f"{res.label}: {res.shown(*keys)} is below the minimum of {minimum} instances for "
                      f"{who}; raise it to {minimum} or more", *keys)
