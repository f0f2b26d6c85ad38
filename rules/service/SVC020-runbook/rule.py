from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC020",
    name="runbook",
    summary="The service links no runbook.",
    why="The engineer paged at night may never have touched this service. A runbook says what the service "
        "does, what it depends on, how to tell what is broken and how to mitigate it; without one every "
        "incident starts from reading code.",
    fix="List the runbook under `spec.runbooks` (a repository path, optionally with `#section`, or a URL "
        "on a host in `runbook_hosts`); in a Backstage Component add a `metadata.links` entry titled "
        "\"Runbook\" or a `prr-lint/runbooks` annotation (comma-separated repository paths).",
    targets=[SERVICE],
    tags=["runbook"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(service, _ctx):
    if service.links("runbooks", "runbook"):
        return
    where = service.path("runbooks")
    if service.manifest.kind == "backstage":
        hint = "add a metadata.links entry titled \"Runbook\" or a prr-lint/runbooks annotation (repository paths)"
    else:
        hint = f"list it under {'.'.join(where)} (e.g. docs/runbook.md)"
    yield Hit(service.manifest, where, f"{service.label}: no runbook; {hint}")
