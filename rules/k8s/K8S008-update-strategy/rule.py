from prr_lint.checks.k8s import is_workload, kind, label
from prr_lint.model import Hit
from prr_lint.rule import rule

# where each kind keeps its update strategy, and the strategy types that take every pod down (or never update)
STRATEGY = {
    "Deployment": (("spec", "strategy"), ("Recreate",)),
    "StatefulSet": (("spec", "updateStrategy"), ("OnDelete",)),
    "DaemonSet": (("spec", "updateStrategy"), ("OnDelete",)),
    "Rollout": (("spec", "strategy"), ()),
}


@rule(
    id="K8S008",
    name="update-strategy",
    summary="A tier 0/1 workload updates with downtime (`Recreate`), never updates by itself (`OnDelete`), or "
            "allows 100% of its pods to be unavailable.",
    why="`Recreate` stops every pod before starting the new version: each deploy is an outage, and a bad "
        "version is discovered with no old pod left serving. `OnDelete` leaves pods on the old version "
        "until someone deletes them, so a rollout (and a rollback) never completes on its own. "
        "`maxUnavailable: 100%` lets a rolling update take down every pod at once.",
    fix="Use `RollingUpdate` with a `maxUnavailable` below 100% (e.g. 25% or 1) and `maxSurge`, or a "
        "progressive delivery strategy (Argo Rollouts canary / blue-green).",
    targets=["k8s"],
    tags=["availability", "rollback"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    if not is_workload(doc, tuple(STRATEGY)):
        return
    base, bad_types = STRATEGY[kind(doc)]
    strategy = doc.get(base)
    if not isinstance(strategy, dict):
        return
    stype = strategy.get("type")
    if stype in bad_types:
        what = ("stops every pod before starting the new version (downtime on each deploy)" if stype == "Recreate"
                else "only updates pods when they are deleted by hand")
        yield Hit(doc, base + ("type",),
                  f"{label(doc)}: {'.'.join(base[1:])}.type {stype} {what}; use RollingUpdate "
                  f"(tier {ctx.tier})")
        return
    # RollingUpdate (Deployment, StatefulSet, DaemonSet) or an Argo Rollouts canary
    for sub in ("rollingUpdate", "canary"):
        value = strategy.get(sub)
        if isinstance(value, dict) and str(value.get("maxUnavailable", "")).strip() == "100%":
            yield Hit(doc, base + (sub, "maxUnavailable"),
                      f"{label(doc)}: {'.'.join(base[1:])}.{sub}.maxUnavailable 100% lets an update take down "
                      f"every pod at once; use 25% or 1 (tier {ctx.tier})")
