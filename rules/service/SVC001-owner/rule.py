from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC001",
    name="owner",
    summary="The service does not name an owning team.",
    why="During an incident the first question is who owns this. A service without an owner has no one "
        "accountable for its SLOs, alerts and runbooks, and no one to page or escalate to.",
    fix="Set `metadata.owner` in the service manifest to the owning team (or `spec.owner` in a Backstage "
        "Component).",
    targets=[SERVICE],
    tags=["ownership"],
    severity="error",
    since="0.1.0",
)
def check(service, _ctx):
    owner = service.get("owner")
    if not isinstance(owner, str) or not owner.strip():
        yield Hit(service.manifest, service.path("owner"),
                  f"{service.label}: no owner; set {'.'.join(service.path('owner'))} to the owning team")
