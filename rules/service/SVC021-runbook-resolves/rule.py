from prr_lint.checks.links import resolve_for
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


def advice(link) -> str:
    if link.kind == "url":
        return "move the runbook to an allowed host or add the host to runbook_hosts"
    if "max_file_size" in (link.problem or ""):
        return "raise max_file_size or split the runbook"
    if link.anchor and not link.missing and "heading" in (link.problem or ""):
        return "link an existing section or add the heading"
    if link.kind == "repo-url":
        return "point the link at a file of this repository"
    return "fix the reference"


@rule(
    id="SVC021",
    name="runbook-resolves",
    summary="A runbook link does not resolve: unknown `#section`, host outside `runbook_hosts`, or a dead link "
            "into this repository.",
    why="A runbook link that leads nowhere costs minutes at the worst time: the on-call engineer clicks it "
        "mid-incident and lands on a 404, the top of a long page, or a wiki nobody maintains. Checking the "
        "link on every change keeps it working as files and headings move.",
    fix="Point the link at an existing file and heading (headings are matched as GitHub slugs: "
        "`## Stock sync lag` is `#stock-sync-lag`), or at a URL on a host listed in `runbook_hosts`. Links "
        "into this repository (`repo_url` in config, or the `origin` remote), such as "
        "`https://github.com/ORG/REPO/blob/main/docs/runbook.md#rollback`, are checked as the local file. "
        "A repository path whose file does not exist is reported by PRR003. With `runbook_hosts` empty "
        "every host is allowed: prr-lint never fetches URLs.",
    targets=[SERVICE],
    tags=["runbook"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(service, ctx):
    for ref, path in service.links("runbooks", "runbook"):
        link = resolve_for(ref, ctx, service.directory)
        if link.ok or (link.kind == "path" and link.missing):
            continue  # a missing repository path is PRR003's finding
        yield Hit(service.manifest, path,
                  f'{service.label}: runbook "{ref}" does not resolve: {link.problem}; {advice(link)}')
