from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC030",
    name="rollback-plan",
    summary="The service has no rollback plan: no rollback strategy and no procedure.",
    why="Most incidents start with a change, and the fastest mitigation is to undo it. Deciding how to roll "
        "back during the incident (which command, which revision, what about the database migration) turns "
        "a five-minute mitigation into an hour.",
    fix="Add `spec.rollback` with a `strategy` (canary, blue-green, rolling, ...) and a `procedure` "
        "(a runbook section such as `docs/runbook.md#rollback`), and say whether it is `automated`. In a "
        "Backstage Component: the annotation `prr-lint/rollback-strategy` and a `metadata.links` entry titled "
        "\"Rollback\" (the procedure).",
    targets=[SERVICE],
    tags=["rollback"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(service, _ctx):
    where = service.path("rollback")
    rollback = service.get("rollback")
    if not isinstance(rollback, dict) and service.manifest.kind == "backstage":
        yield Hit(service.manifest, where,
                  f"{service.label}: no rollback plan; add {service.field('rollback', 'strategy')} and "
                  f"{service.field('rollback', 'procedure')} (the procedure)")
    elif not isinstance(rollback, dict):
        yield Hit(service.manifest, where,
                  f"{service.label}: no rollback plan; add {'.'.join(where)} with a strategy and a procedure "
                  f"(e.g. docs/runbook.md#rollback)")
    elif not rollback.get("strategy") and not rollback.get("procedure"):
        yield Hit(service.manifest, where,
                  f"{service.label}: rollback plan names no strategy and no procedure; add "
                  f"{service.field('rollback', 'strategy')} and {service.field('rollback', 'procedure')}")
