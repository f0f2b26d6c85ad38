from prr_lint.checks.time import last_tested
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC032",
    name="rollback-tested",
    summary="The rollback has not been tested within the tier's window (`rollback.lastTested`).",
    why="A rollback procedure that has never been exercised fails when it is needed: a migration that "
        "cannot be reversed, an image that was garbage-collected, a flag nobody remembers. Testing it on a "
        "schedule is the only way to know it still works.",
    fix="Exercise the rollback (a game day, or a real rollback in staging or production) and record the "
        "date in `spec.rollback.lastTested` (YYYY-MM-DD; in a Backstage Component, the annotation "
        "`prr-lint/rollback-tested`). The window is `rollback_tested_within_days` of the "
        "tier (90 days for tier 0, 180 for tier 1).",
    targets=[SERVICE],
    tags=["rollback"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    yield from last_tested(service, ctx, "rollback", "rollback_tested_within_days", "rollback", "test it")
