from prr_lint.checks.time import last_tested
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC041",
    name="dr-tested",
    summary="Disaster recovery has not been tested within the tier's window (`dr.lastTested`).",
    why="Backups that have never been restored are a hope, not a plan. Only a restore drill shows that the "
        "backups are complete, that the procedure works and that it meets the RTO and RPO.",
    fix="Run a restore or failover drill and record its date in `spec.dr.lastTested` (YYYY-MM-DD; in a "
        "Backstage Component, the annotation `prr-lint/dr-tested`). The window is `dr_tested_within_days` of "
        "the tier (365 days for tiers 0 and 1).",
    targets=[SERVICE],
    tags=["dr"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    yield from last_tested(service, ctx, "dr", "dr_tested_within_days", "disaster recovery", "run a restore drill")
