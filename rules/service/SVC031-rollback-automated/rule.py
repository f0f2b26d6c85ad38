from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC031",
    name="rollback-automated",
    summary="The rollback of a tier-0 service is not automated.",
    why="For the most critical services a rollback that waits for a human to notice, decide and type "
        "commands adds minutes of user-facing impact to every bad release. Automated rollback (a canary "
        "analysis that aborts, a deploy that reverts on failed health checks) undoes the change before "
        "most users see it.",
    fix="Automate the rollback (e.g. Argo Rollouts or Flagger analysis, `helm upgrade --atomic`, a pipeline "
        "step that reverts on failed checks) and set `spec.rollback.automated: true` (in a Backstage Component, "
        "the annotation `prr-lint/rollback-automated: \"true\"`). Which tiers need it is "
        "`rollback_automated` in the tier policy (tier 0 by default).",
    targets=[SERVICE],
    tags=["rollback"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    if not ctx.policy.get("rollback_automated"):
        return
    rollback = service.get("rollback")
    if not isinstance(rollback, dict):
        return  # no rollback plan at all: SVC030
    if rollback.get("automated") is not True:
        yield Hit(service.manifest, service.at("rollback", "automated"),
                  f"{service.label}: rollback is not automated; tier {ctx.tier} needs an automated rollback "
                  f"(canary analysis, atomic upgrade) and {service.field('rollback', 'automated')}: true")
