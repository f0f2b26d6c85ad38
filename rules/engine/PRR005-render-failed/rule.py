from prr_lint.rule import ENGINE, rule


@rule(
    id="PRR005",
    name="render-failed",
    summary="A Helm chart could not be rendered, so none of the objects it deploys was checked.",
    why="prr-lint checks what a chart deploys by rendering its templates (with values.yaml and with each "
        "production values overlay) and running the Kubernetes rules on the result. A template that does not "
        "render with the values production uses would fail the deployment too; and a chart that cannot be "
        "rendered must never pass as if it had been checked. The finding points at the template line Helm "
        "names in its error (else Chart.yaml) and quotes Helm's message. PRR005 is reported whatever "
        "`--select`/`--ignore` say, and a gate cannot waive it away.",
    fix="Fix the template or the values so that `helm template` succeeds with each production values file, "
        "e.g. guard an optional block with `{{- if .Values.x }}` or give the value a default.",
    targets=[ENGINE],
    tags=["config"],
    severity="error",
    since="0.1.0",
)
def check(_target, _ctx):
    """Findings for this rule are made by the engine from the renderer's problems."""
    return ()
