import posixpath

from prr_lint.checks.links import resolve_for
from prr_lint.checks.prometheus import alerts
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="PROM002",
    name="runbook-url-resolves",
    summary="An alert's `runbook_url` does not resolve: missing file or `#section`, or a host outside `runbook_hosts`.",
    why="The runbook link in a page is followed under stress. If it points at a file that moved, a heading "
        "that was renamed or a wiki nobody maintains, the on-call engineer starts the incident without "
        "instructions.",
    fix="Point `runbook_url` at an existing runbook section: a repository path relative to the rule file "
        "(or `/`-anchored at the project root) with a `#heading` that exists, a link into this repository "
        "(`repo_url` or the `origin` remote; checked as the local file), or a URL on a host in "
        "`runbook_hosts`. Headings match as GitHub slugs. With `runbook_hosts` empty every host is allowed.",
    targets=["prometheus-rules"],
    tags=["runbook", "alerting"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    base = posixpath.dirname(doc.file)
    for path, alert in alerts(doc):
        annotations = alert.get("annotations")
        url = annotations.get("runbook_url") if isinstance(annotations, dict) else None
        if not isinstance(url, str) or not url.strip() or "{{" in url:
            continue  # missing: PROM001; templated per alert instance: cannot be checked statically
        link = resolve_for(url, ctx, base)
        if not link.ok:
            yield Hit(doc, path + ("annotations", "runbook_url"),
                      f'alert "{alert["alert"]}": runbook_url "{url}" does not resolve: {link.problem}; '
                      f"point it at an existing runbook section")
