from prr_lint.checks.time import age_days, parse_date
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC032",
    name="rollback-tested",
    summary="The rollback has not been tested within the tier's window (`rollback.lastTested`).",
    why="A rollback procedure that has never been exercised fails when it is needed: a migration that "
        "cannot be reversed, an image that was garbage-collected, a flag nobody remembers. Testing it on a "
        "schedule is the only way to know it still works.",
    fix="Exercise the rollback (a game day, or a real rollback in staging or production) and record the "
        "date in `spec.rollback.lastTested` (YYYY-MM-DD). The window is `rollback_tested_within_days` of the "
        "tier (90 days for tier 0, 180 for tier 1).",
    targets=[SERVICE],
    tags=["rollback"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    within = ctx.policy.get("rollback_tested_within_days")
    rollback = service.get("rollback")
    if not within or not isinstance(rollback, dict):
        return  # no window for this tier, or no plan at all (SVC030)
    where = service.path("rollback") + ("lastTested",)
    value = rollback.get("lastTested")
    tested = parse_date(value)
    if value is None:
        yield Hit(service.manifest, where,
                  f"{service.label}: rollback has no record of being tested; test it and set "
                  f"{'.'.join(where)} (tier {ctx.tier}: at least every {within} days)")
    elif tested is None:
        yield Hit(service.manifest, where,
                  f"{service.label}: rollback lastTested {value!r} is not a date; write it as YYYY-MM-DD")
    else:
        age = age_days(tested, ctx.today)
        if age < 0:
            yield Hit(service.manifest, where,
                      f"{service.label}: rollback lastTested {tested.isoformat()} is in the future; record the "
                      f"date the rollback was last tested")
        elif age > within:
            yield Hit(service.manifest, where,
                      f"{service.label}: rollback last tested {tested.isoformat()} ({age} days ago), more than the "
                      f"{within} days allowed for tier {ctx.tier}; test it again and update {'.'.join(where)}")
