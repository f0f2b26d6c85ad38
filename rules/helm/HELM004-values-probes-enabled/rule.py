from prr_lint.checks.helm import check_values, truthy
from prr_lint.rule import rule

PROBES = (("livenessProbe", "customLivenessProbe", "liveness"), ("readinessProbe", "customReadinessProbe", "readiness"))


@rule(
    id="HELM004",
    name="values-probes-enabled",
    summary="A component of a Helm chart's values switches off its liveness or readiness probe.",
    why="A chart's probes are what Kubernetes uses to restart a hung container (liveness) and to keep "
        "traffic away from a pod that cannot serve (readiness). Switching them off in values turns hangs "
        "into silent outages and lets a broken rollout proceed.",
    fix="Leave `livenessProbe.enabled` and `readinessProbe.enabled` on (tune their timings instead), or "
        "provide a `customLivenessProbe` / `customReadinessProbe`.",
    targets=["helm-values"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    yield from check_values(doc, ctx, _component)


def _component(view, comp, ctx):
    for key, custom, short in PROBES:
        replacement = comp.get(custom)
        if isinstance(replacement, dict) and replacement:
            continue
        for path in ((key,), ("probes", short)):
            block = comp.get(*path)
            if isinstance(block, dict) and truthy(block.get("enabled")) is False:
                name = ".".join(path)
                yield comp.at(*path, "enabled"), (
                    f"{comp.label}: {name}.enabled is false, so Kubernetes "
                    + ("never restarts a hung container" if short == "liveness"
                       else "sends traffic to pods that cannot serve")
                    + f"; set {name}.enabled: true")
