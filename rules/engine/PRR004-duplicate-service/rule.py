from prr_lint.escape import one_line
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="PRR004",
    name="duplicate-service",
    summary="Two service manifests (prr-lint or Backstage, in any mix) declare the same service name.",
    why="A service name is how SLOs, alerts and the release gate find a service. With two manifests of one "
        "name, which owner, tier and on-call apply is a matter of file order, and a reader of either "
        "manifest sees only half the service. prr-lint reads one of them as the service (a prr-lint manifest "
        "before a Backstage Component, then the first path in sorted order) and adds only the other's deploy "
        "and alert claims and directory to it: the other's owner, tier, SLOs and runbooks are ignored.",
    fix="Keep one manifest per service: rename one if they are two services, or remove one (or move what it "
        "says into the other). A Backstage Component that describes the same service as a prr-lint manifest "
        "needs no facts of its own: drop it from prr-lint's view with `exclude:`, or give it another name.",
    targets=["service", "backstage"],
    tags=["ownership"],
    severity="error",
    since="0.1.0",
)
def check(doc, ctx):
    first = ctx.graph.duplicate_of(doc)
    if first is None:
        return
    yield Hit(doc, ("metadata", "name"),
              f"service {one_line(first.name)!r} is declared twice: {one_line(first.manifest.file)} is read as the "
              f"service, and {one_line(doc.file)} adds only its claims and directory to it (its owner, tier and "
              f"other facts are ignored); rename one or remove one")
