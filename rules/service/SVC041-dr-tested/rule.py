from prr_lint.checks.time import age_days, parse_date
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC041",
    name="dr-tested",
    summary="Disaster recovery has not been tested within the tier's window (`dr.lastTested`).",
    why="Backups that have never been restored are a hope, not a plan. Only a restore drill shows that the "
        "backups are complete, that the procedure works and that it meets the RTO and RPO.",
    fix="Run a restore or failover drill and record its date in `spec.dr.lastTested` (YYYY-MM-DD). The "
        "window is `dr_tested_within_days` of the tier (365 days for tiers 0 and 1).",
    targets=[SERVICE],
    tags=["dr"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    within = ctx.policy.get("dr_tested_within_days")
    dr = service.get("dr")
    if not within or not isinstance(dr, dict):
        return  # no window for this tier, or no DR declared at all (SVC040)
    where = service.path("dr") + ("lastTested",)
    value = dr.get("lastTested")
    tested = parse_date(value)
    if value is None:
        yield Hit(service.manifest, where,
                  f"{service.label}: disaster recovery has no record of a test; run a restore drill and set "
                  f"{'.'.join(where)} (tier {ctx.tier}: at least every {within} days)")
    elif tested is None:
        yield Hit(service.manifest, where,
                  f"{service.label}: DR lastTested {value!r} is not a date; write it as YYYY-MM-DD")
    else:
        age = age_days(tested, ctx.today)
        if age < 0:
            yield Hit(service.manifest, where,
                      f"{service.label}: DR lastTested {tested.isoformat()} is in the future; record the date of "
                      f"the last drill")
        elif age > within:
            yield Hit(service.manifest, where,
                      f"{service.label}: disaster recovery last tested {tested.isoformat()} ({age} days ago), more "
                      f"than the {within} days allowed for tier {ctx.tier}; run a restore drill and update "
                      f"{'.'.join(where)}")
