from prr_lint.checks.helm import check_values
from prr_lint.rule import rule

NEEDED = (("requests", "cpu", "CPU request"), ("requests", "memory", "memory request"),
          ("limits", "memory", "memory limit"))


@rule(
    id="HELM001",
    name="values-resources",
    summary="A component of a Helm chart's values has no CPU/memory requests or no memory limit.",
    why="The chart renders whatever `resources` its values give. `resources: {}` (the default of "
        "`helm create`) makes BestEffort pods: scheduled as if they needed nothing, evicted first under "
        "memory pressure, and free to grow until the node runs out of memory.",
    fix="Set `resources.requests.cpu`, `resources.requests.memory` and `resources.limits.memory` for every "
        "component (top level and blocks such as `worker:`), in values.yaml or the production overlay. "
        "For Bitnami charts a `resourcesPreset` other than `none` also counts. A CPU or memory limit without "
        "its request counts as both: Kubernetes copies the limit into the missing request.",
    targets=["helm-values"],
    tags=["resources"],
    severity={0: "error", 1: "error", 2: "error", 3: "warning"},
    since="0.1.0",
)
def check(doc, ctx):
    yield from check_values(doc, ctx, _component)


def _component(view, comp, ctx):
    preset = comp.get("resourcesPreset")
    if isinstance(preset, str) and preset.strip() and preset.strip().lower() != "none":
        return
    if "resources" not in comp.values and preset is None:
        return  # the values offer no resources for this block: nothing to set here
    resources = comp.get("resources")
    if isinstance(resources, str):
        return  # a template string: cannot know
    resources = resources if isinstance(resources, dict) else {}
    missing = []
    limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    for group, key, what in NEEDED:
        block = resources.get(group)
        if not isinstance(block, dict) or block.get(key) in (None, ""):
            if group == "requests" and limits.get(key) not in (None, ""):
                continue  # Kubernetes copies the limit into the missing request
            missing.append((group, key, what))
    if missing:
        names = [m[2] for m in missing]
        text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        group, key, _ = missing[0]
        yield (comp.at("resources", group, key),
               f"{comp.label}: no {text}; set " + ", ".join(f"resources.{g}.{k}" for g, k, _ in missing))
