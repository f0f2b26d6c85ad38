from prr_lint.checks.promql import expand_sloth_window
from prr_lint.checks.promql_memo import facts_for
from prr_lint.checks.time import parse_duration
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule

NUMERATORS = ("good", "bad", "error")


@rule(
    id="SVC012",
    name="slo-definition",
    summary="An SLO has no window, or no SLI definition (the queries that measure it), or one that does not parse.",
    why="An objective means nothing without the period it is measured over and the measurement itself: "
        "99.9% of what, counted how, over which 30 days. Without them no burn-rate alert or error budget can "
        "be computed, and two people will read the same SLO two ways.",
    fix="Give every SLO a `window` (a Prometheus duration such as `30d`) and an `sli` with PromQL for the "
        "good (or bad) events and the total events, e.g. `good: sum(rate(http_requests_total{code!~\"5..\"}[5m]))` "
        "and `total: sum(rate(http_requests_total[5m]))`.",
    targets=[SERVICE],
    tags=["slo"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(service, ctx):
    for slo in service.slos():
        name = f'{service.label}: SLO "{slo.name}"'
        if slo.window is None or slo.window == "":
            yield Hit(slo.doc, slo.at("window"), f"{name} has no window; set one such as 30d or 28d")
        elif parse_duration(slo.window if isinstance(slo.window, str) else None) is None:
            yield Hit(slo.doc, slo.at("window"),
                      f"{name} window {slo.window!r} is not a Prometheus duration; write it like 30d or 4w")
        sli = slo.sli if isinstance(slo.sli, dict) else {}
        queries = slo.queries
        if not queries and not sli.get("ref") and not sli.get("plugin"):
            yield Hit(slo.doc, slo.at("sli"),
                      f"{name} has no SLI definition; add sli.good (or sli.bad) and sli.total PromQL queries")
            continue
        if queries and "error_ratio" not in queries and "metric" not in queries:
            has_num = any(k in queries for k in NUMERATORS)
            if not has_num or "total" not in queries:
                missing = "total" if has_num else "good (or bad)"
                yield Hit(slo.doc, slo.at("sli"),
                          f"{name} SLI has no {missing} query; an SLI is a ratio of good (or bad) events to total "
                          f"events")
        for role, query in queries.items():
            parsed = facts_for(ctx, expand_sloth_window(query))
            if not parsed.ok:
                yield Hit(slo.doc, slo.at("sli"),
                          f"{name} SLI {role} query does not parse: {parsed.error}; fix the PromQL")
