import posixpath

from prr_lint.checks.links import README_NAMES, resolve_for
from prr_lint.checks.time import age_days
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule

FETCH_HINT = "fetch the full history (e.g. actions/checkout with fetch-depth: 0) to check runbook freshness"


def _file(repo, rel: str) -> str | None:
    """The file whose history counts: the runbook itself, or the README of a runbook directory."""
    if rel in repo.file_set:
        return rel
    for name in README_NAMES:
        if posixpath.join(rel, name) in repo.file_set:
            return posixpath.join(rel, name)
    return None


@rule(
    id="SVC022",
    name="runbook-fresh",
    summary="A runbook in this repository has not changed for longer than the tier allows (git history).",
    why="Services change every week; a runbook nobody has touched for a year describes a system that no "
        "longer exists: dashboards renamed, commands that fail, escalation to people who left. Requiring a "
        "recent commit makes someone re-read it.",
    fix="Review the runbook against the running service and commit the update (at least a \"last reviewed\" "
        "line). The limit is `runbook_max_age_days` of the tier (180 days for tier 0, 365 for tier 1). "
        "Without git history (not a git work tree) the check is skipped with a note, never a finding; in a "
        "shallow clone a runbook whose last commit is the clone's boundary is reported only when even that "
        "commit is too old, else skipped with a note: fetch the full history (fetch-depth: 0) in CI.",
    targets=[SERVICE],
    tags=["runbook"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    max_age = ctx.policy.get("runbook_max_age_days")
    if not max_age:
        return
    local = []
    for ref, path in service.links("runbooks", "runbook"):
        link = resolve_for(ref, ctx, service.directory)
        rel = _file(ctx.repo, link.local) if link.local is not None and not link.missing else None
        if rel is not None:
            local.append((ref, path, rel))
    if not local:
        return
    history = ctx.history()
    if not history.available:
        ctx.note(".", f"runbook freshness (SVC022) not checked: {history.reason}")
        return
    for _ref, path, rel in local:
        change = history.last_change(rel)
        if change is None or change.pending or change.date is None:
            continue  # being changed right now (uncommitted or new)
        age = age_days(change.date, ctx.today)
        if age is None or age <= max_age:
            if not change.exact:
                ctx.note(".", f"runbook freshness (SVC022) not fully checked: this is a shallow clone and the "
                              f"history of some runbooks ends at its boundary; {FETCH_HINT}")
            continue
        since = "at least " if not change.exact else ""
        yield Hit(service.manifest, path,
                  f"{service.label}: runbook {rel} last changed {since}{age} days ago ({change.date.isoformat()}), "
                  f"more than the {max_age} days allowed for tier {ctx.tier}; review it against the running "
                  f"service and commit the update")
