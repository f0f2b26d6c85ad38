from prr_lint.rule import ENGINE, rule


@rule(
    id="PRR007",
    name="rule-error",
    summary="A rule failed (raised an exception) on a document, so that document was not fully checked.",
    why="A rule that crashes on one unusual document must not stop the whole run, nor hide the findings of "
        "every other file; but the document it failed on was not checked by that rule, so a gate must not "
        "pass it as if it had been. The message names the rule and the error. PRR007 is reported whatever "
        "`--select`/`--ignore` say, for every selected rule that fails. A failure of the environment rather "
        "than of the document (a policy that does not compile, a policy server that refuses the connection "
        "or times out: any OSError) is not PRR007 but an error of the run (exit 2). "
        "The fixture harness (and so the test "
        "suite) fails on any PRR007; the example below uses a test-only rule that raises on a Kubernetes "
        "object annotated `prr-lint.test/raise`, which exists only in the harness.",
    fix="Report the message (rule, exception) to the rule's owner: for a built-in rule, as a prr-lint bug, "
        "with the document if you can share it. Meanwhile the document may be rewritten in a more usual "
        "form; a finding here is not a verdict on the document.",
    targets=[ENGINE],
    tags=["config"],
    severity="error",
    since="0.1.0",
)
def check(_target, _ctx):
    """Findings for this rule are made by the engine when another rule raises."""
    return ()
