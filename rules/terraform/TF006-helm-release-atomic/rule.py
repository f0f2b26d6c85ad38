from prr_lint.checks.terraform import UNKNOWN, is_true, resources
from prr_lint.rule import rule


@rule(
    id="TF006",
    name="helm-release-atomic",
    summary="A `helm_release` is not atomic: a failed install or upgrade is left in place.",
    why="Without `atomic`, a release whose upgrade fails (a crash-looping pod, a failed hook, a timeout) "
        "stays half-upgraded in the `failed` state, and the next apply has to start from there. With "
        "`atomic = true` Helm rolls back to the last good revision by itself.",
    fix="Set `atomic = true` on the helm_release (it implies waiting for the resources to become ready; "
        "set `timeout` to how long a healthy rollout takes).",
    targets=["terraform", "terraform-plan"],
    tags=["rollback"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    for res in resources(doc, ("helm_release",), ctx.repo, ctx.note):
        value = res.get("atomic")
        if value is UNKNOWN or is_true(value):
            continue
        if value is None:
            null = f" ({res.shown('atomic')})" if res.raw("atomic") is not None else ""
            yield res.hit(f"{res.label}: not atomic{null}, so a failed upgrade is not rolled back; "
                          f"set atomic = true", "atomic")
        else:
            yield res.hit(f"{res.label}: {res.shown('atomic')} leaves a failed upgrade "
                          f"in place; set atomic = true", "atomic")
