from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule

PROGRESSIVE = ("canary", "blue-green")
# workload kinds of progressive-delivery controllers: (apiVersion group, kind)
CONTROLLERS = (("argoproj.io", "Rollout"), ("flagger.app", "Canary"))


def _controller(service):
    for doc in service.docs_of("k8s"):
        api = doc.get(("apiVersion",))
        group = api.split("/", 1)[0] if isinstance(api, str) else ""
        if (group, doc.get(("kind",))) in CONTROLLERS:
            return doc
    return None


@rule(
    id="SVC033",
    name="progressive-delivery",
    summary="A tier-0 or tier-1 service releases to all users at once: no canary or blue-green delivery.",
    why="A release that goes to every user at once makes every bad change a full outage until someone "
        "notices. Canary and blue-green delivery expose a change to a slice of traffic (or a standby copy) "
        "first, so a bad release is caught and undone while most users never see it.",
    fix="Deliver progressively: an Argo Rollouts `Rollout` or a Flagger `Canary` among the service's "
        "workloads, or another mechanism declared as `spec.rollback.strategy: canary` or `blue-green` "
        "(in a Backstage Component, the annotation `prr-lint/rollback-strategy`).",
    targets=[SERVICE],
    tags=["rollback", "availability"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, _ctx):
    rollback = service.get("rollback")
    strategy = rollback.get("strategy") if isinstance(rollback, dict) else None
    if strategy in PROGRESSIVE or _controller(service) is not None:
        return
    where = service.at("rollback", "strategy") if isinstance(rollback, dict) else service.path("rollback")
    now = f"strategy {strategy!r}" if isinstance(strategy, str) else "no rollout strategy"
    yield Hit(service.manifest, where,
              f"{service.label}: no progressive delivery ({now}, no Argo Rollout or Flagger Canary among its "
              f"workloads); release through a canary or blue-green rollout")
