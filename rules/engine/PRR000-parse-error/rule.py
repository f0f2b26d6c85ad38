from prr_lint.rule import ENGINE, rule


@rule(
    id="PRR000",
    name="parse-error",
    summary="A file prr-lint reads (YAML, HCL, JSON) cannot be parsed.",
    why="A file that does not parse is not checked at all, so every readiness gap in it is invisible; "
        "and a deploy tool will usually reject it too.",
    fix="Fix the syntax error at the reported line and column. For files prr-lint should not read, "
        "add them to `exclude` in .prr-lint.yaml.",
    targets=[ENGINE],
    tags=["config"],
    severity="error",
    since="0.1.0",
)
def check(_target, _ctx):
    """Findings for this rule are made by the engine from loader errors."""
    return ()
