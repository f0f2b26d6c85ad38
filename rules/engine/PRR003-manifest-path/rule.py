from prr_lint.checks.globs import is_glob, matches_any_file
from prr_lint.checks.links import MARKDOWN_EXT, resolve_for
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule

WHAT = {"deploy": "deploy", "helm": "Helm chart", "kubernetes": "Kubernetes manifests", "terraform": "Terraform",
        "alerts": "alert rules"}


def _outside(repo, target: str) -> bool:
    """A path that leaves the repository (`..`, a symlink out): reported the same whether or not it exists."""
    if is_glob(target):
        return target == ".." or target.startswith("../")
    return repo.outside(target)


def _exists(repo, target: str) -> bool:
    if is_glob(target):
        return matches_any_file(target, repo)
    return repo.exists(target)


def _resolved(ref: str, local: str) -> str:
    ref = ref.split("#", 1)[0]
    return "" if local.rstrip("/") == ref.strip("/") else f" (resolved to {local or '.'})"


def _references(service):
    """(label, reference, manifest path) of the documents a manifest points at besides deploy/alerts."""
    for ref, path in service.links("runbooks", "runbook"):
        yield "runbook", ref, path
    for fact, label in (("rollback", "rollback procedure"), ("dr", "DR procedure")):
        value = service.get(fact)
        if isinstance(value, dict) and isinstance(value.get("procedure"), str):
            yield label, value["procedure"], service.at(fact, "procedure")
    oncall = service.get("oncall")
    escalation = oncall.get("escalation") if isinstance(oncall, dict) else None
    items = [escalation] if isinstance(escalation, str) else escalation if isinstance(escalation, list) else []
    for i, item in enumerate(items):
        if isinstance(item, str) and item.split("#", 1)[0].lower().endswith(MARKDOWN_EXT):
            tail = ("escalation",) + ((i,) if isinstance(escalation, list) else ())
            yield "escalation document", item, service.path("oncall") + tail


@rule(
    id="PRR003",
    name="manifest-path",
    summary="A path named in a service manifest (deploy, alerts, runbooks, procedures) does not exist or "
            "leads outside the repository.",
    why="The manifest is how prr-lint, and the people reading it, find the service's workloads, alerts and "
        "runbooks. A path that leads nowhere silently drops those files from the review (their gaps are "
        "checked at the default tier, or not joined at all) and sends the on-call engineer to a dead link.",
    fix="Correct the path: it is relative to the manifest's directory, or `/`-anchored at the project root "
        "(the directory of .prr-lint.yaml, else the repository root). For a procedure, the `#section` must "
        "match a heading of the Markdown file.",
    targets=[SERVICE],
    tags=["ownership"],
    severity="error",
    since="0.1.0",
)
def check(service, ctx):
    for claim in service.claims:
        if _outside(ctx.repo, claim.target):
            ref = claim.written or service.manifest.get(claim.path)
            yield Hit(claim.doc or service.manifest, claim.path,
                      f"{service.label}: {WHAT.get(claim.kind, claim.kind)} path {ref!r} points outside the "
                      f"repository; name a path inside it")
        elif not _exists(ctx.repo, claim.target):
            ref = claim.written or service.manifest.get(claim.path)
            yield Hit(claim.doc or service.manifest, claim.path,
                      f"{service.label}: {WHAT.get(claim.kind, claim.kind)} path {ref!r} does not exist"
                      f"{_resolved(str(ref), claim.target)}; correct the path or remove it")
    for label, ref, path in _references(service):
        link = resolve_for(ref, ctx, service.directory)
        if link.kind != "path" or link.ok:
            continue  # URLs (and runbook anchors) are SVC021's
        if link.missing:
            yield Hit(service.manifest, path,
                      f"{service.label}: {label} {ref!r} does not exist{_resolved(ref, link.local)}; correct the path")
        elif label != "runbook":
            yield Hit(service.manifest, path,
                      f"{service.label}: {label} {ref!r} does not resolve: {link.problem}; correct the reference")
