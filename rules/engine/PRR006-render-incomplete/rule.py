from prr_lint.rule import ENGINE, rule


@rule(
    id="PRR006",
    name="render-incomplete",
    summary="A Helm chart was rendered without one of its dependencies, so the objects of that dependency "
            "were not checked.",
    why="prr-lint renders charts offline: a dependency must be vendored in the chart's `charts/` directory (an "
        "archive or a directory) or named by a `file://` repository. Helm renders a chart whose dependency is "
        "missing without complaint and without the dependency's objects (a prometheus chart gives 7 objects "
        "instead of 23), so the Kubernetes findings of that chart are partial. A dependency whose `condition` "
        "is false in the chart's values is not needed and not reported. The finding is at the dependency's "
        "entry in Chart.yaml; a gate cannot waive it away.",
    fix="Vendor the dependency (`helm dependency build` and commit `charts/*.tgz`), or point its `repository` at "
        "a `file://` path in the repository, or fix the version constraint so the vendored chart matches.",
    targets=[ENGINE],
    tags=["config"],
    severity="error",
    since="0.1.0",
)
def check(_target, _ctx):
    """Findings for this rule are made by the engine from the renderer's problems."""
    return ()
