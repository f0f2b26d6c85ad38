from prr_lint.checks.terraform import UNKNOWN, as_number, resources
from prr_lint.rule import rule

TYPES = ("aws_autoscaling_group", "google_compute_autoscaler", "google_compute_region_autoscaler",
         "azurerm_monitor_autoscale_setting")


@rule(
    id="TF005",
    name="autoscaling-min-size",
    summary="An autoscaling group may shrink below the tier's minimum number of instances.",
    why="With fewer instances than the tier minimum, losing one instance (a deploy, a zone problem, a "
        "host failure) leaves the service with too little capacity or none at all.",
    fix="Raise `min_size` (aws_autoscaling_group), `autoscaling_policy { min_replicas }` "
        "(google_compute_autoscaler, google_compute_region_autoscaler) or `profile { capacity { minimum } }` "
        "(azurerm_monitor_autoscale_setting) to the tier minimum (`min_replicas` of the tier policy).",
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
    for res in resources(doc, TYPES, ctx.repo):
        if res.type == "aws_autoscaling_group":
            places = [("min_size",)]
        elif res.type == "azurerm_monitor_autoscale_setting":
            places = [("profile", i, "capacity", "minimum") for i, _ in res.blocks("profile")]
        else:
            places = [("autoscaling_policy", "min_replicas")]
        for keys in places:
            value = res.get(*keys)
            n = as_number(value)
            if value is UNKNOWN or n is None or n >= minimum:
                continue
            yield res.hit(f"{res.label}: {res.shown(*keys)} is below the minimum of {minimum} instances for "
                      f"{who}; raise it to {minimum} or more", *keys)
