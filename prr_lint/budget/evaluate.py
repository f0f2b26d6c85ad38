"""Each SLO's error ratio over its window and the burn-rate windows, and the decision it leads to.

Budget = 1 - objective; burn rate over w = error ratio over w / budget; budget used = error ratio over the SLO
window / budget. The error ratio comes from the SLI's own queries: bad/total, 1 - good/total, or an error-ratio
query, each asked for one window at a time (never combined into one expression, so that each part must answer
with exactly one series).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ..checks.time import parse_duration
from .policy import DEFAULT_WINDOW, TierPolicy
from .prometheus import Client
from .queries import QueryError, for_window

RATIO_SLACK = 1e-9    # float error of `1 - good/total` on a perfect SLI


class Undecidable(Exception):
    """This SLO's budget cannot be known: the gate cannot decide."""


@dataclass
class SloResult:
    service: str
    tier: int
    slo: str
    objective: float | None = None
    window: str = ""
    decision: str = "error"          # pass, warn, blocked, error (and overridden/exempt, set by the caller)
    reasons: list = field(default_factory=list)
    queries: dict = field(default_factory=dict)      # window -> {role: query as sent}
    ratios: dict = field(default_factory=dict)       # window -> error ratio (None: no data)
    burn_rates: dict = field(default_factory=dict)   # window -> burn rate
    budget_used: float | None = None                 # fraction of the budget spent over the SLO window
    rules: list = field(default_factory=list)
    no_data: bool = False
    note: str = ""

    @property
    def remaining_percent(self) -> float | None:
        return None if self.budget_used is None else round((1 - self.budget_used) * 100, 6)

    def as_dict(self) -> dict:
        return {"service": self.service, "tier": self.tier, "slo": self.slo, "objective": self.objective,
                "window": self.window, "decision": self.decision, "reasons": self.reasons,
                "queries": self.queries, "error_ratios": self.ratios, "burn_rates": self.burn_rates,
                "budget_used_percent": None if self.budget_used is None else round(self.budget_used * 100, 6),
                "budget_remaining_percent": self.remaining_percent, "burn_rate_rules": self.rules,
                "note": self.note}


def sli_templates(slo, configured: dict | None) -> dict:
    """{role: query} to compute the error ratio from: the configured per-window query, else the SLI's."""
    if configured:
        if configured.get("error_ratio"):
            return {"error_ratio": configured["error_ratio"]}
        return {"error_ratio": configured["recording_rule"] + "{{window}}" + configured.get("selector", "")}
    q = slo.queries
    if "error_ratio" in q:
        return {"error_ratio": q["error_ratio"]}
    bad = q.get("error") or q.get("bad")
    if bad and "total" in q:
        return {"bad": bad, "total": q["total"]}
    if "good" in q and "total" in q:
        return {"good": q["good"], "total": q["total"]}
    raise Undecidable("its SLI has no good/total, bad/total or error-ratio query (give one under "
                      "error_budget.slos in config)")


def window_queries(templates: dict, window: datetime.timedelta, key: str) -> dict:
    out = {}
    for role, template in templates.items():
        try:
            out[role] = for_window(template, window)
        except QueryError as e:
            raise Undecidable(f"the {role} query {e}: give a per-window query ({{{{window}}}} placeholder) or a "
                              f"recording rule under error_budget.slos.{key} in config") from None
    return out


def error_ratio(client: Client, queries: dict, at: float) -> float | None:
    """The error ratio the queries give at `at`; None when there is no data (no series, NaN, no traffic)."""
    values = {role: client.query(q, at).value for role, q in queries.items()}
    if "error_ratio" in values:
        return values["error_ratio"]
    total = values["total"]
    if total is None or total <= 0:
        return None
    part = values.get("bad", values.get("good"))
    if part is None:
        return None
    return part / total if "bad" in values else 1 - part / total


def checked_ratio(ratio: float | None, window: str) -> float | None:
    """An error ratio outside 0..1 means the SLI's queries do not describe the same requests."""
    if ratio is None:
        return None
    if not -RATIO_SLACK <= ratio <= 1 + RATIO_SLACK:
        raise Undecidable(f"its error ratio over {window} is {ratio:g}, outside 0..1: its SLI queries do not "
                          "count the same requests")
    return min(max(ratio, 0.0), 1.0)


def evaluate_slo(client: Client, service, slo, policy: TierPolicy, at: datetime.datetime, settings: dict,
                 ) -> SloResult:
    key = f"{service.name}/{slo.name}"
    r = SloResult(service.name, service.tier, slo.name, slo.objective)
    window_text = slo.window if isinstance(slo.window, str) and slo.window else \
        settings.get("default_window") or DEFAULT_WINDOW
    r.window = window_text
    try:
        window = parse_duration(window_text)
        if window is None:
            raise Undecidable(f"its window {window_text!r} is not a duration")
        if slo.objective is None or not 0 < slo.objective < 100:
            raise Undecidable("it has no objective between 0 and 100 %")
        budget = 1 - slo.objective / 100
        templates = sli_templates(slo, (settings.get("slos") or {}).get(key))
        windows = {window_text: window}
        for rule in policy.burn_rules:
            windows.setdefault(rule.long_text, rule.long)
            windows.setdefault(rule.short_text, rule.short)
        for text, w in sorted(windows.items(), key=lambda item: item[1]):
            queries = window_queries(templates, w, key)
            r.queries[text] = queries
            ratio = checked_ratio(error_ratio(client, queries, at.timestamp()), text)
            r.ratios[text] = ratio
            r.burn_rates[text] = None if ratio is None else round(ratio / budget, 6)
        missing = [t for t, v in r.ratios.items() if v is None]
        if missing:
            r.no_data = True
            if settings.get("no_data") == "pass":
                r.decision, r.note = "pass", f"no data over {', '.join(missing)} (no_data: pass)"
                return r
            raise Undecidable(f"no data over {', '.join(missing)} (no series, NaN or no traffic; "
                              "error_budget.no_data: pass lets it through)")
        _check_coverage(client, templates, windows, window, window_text, at, key)
        r.budget_used = r.ratios[window_text] / budget
        _decide(r, policy)
    except Undecidable as e:
        r.decision = "error"
        r.reasons.append(f"{service.name}/{slo.name}: {e}")
    return r


def _check_coverage(client, templates: dict, windows: dict, window, window_text: str, at, key: str) -> None:
    """Prometheus must hold data from the start of the SLO window: one keeping 15 days cannot judge 30."""
    shortest = min(windows.values())
    probe_at = at - window + shortest
    role = "error_ratio" if "error_ratio" in templates else "total"
    query = window_queries({role: templates[role]}, shortest, key)[role]
    if client.query(query, probe_at.timestamp()).value is None:
        raise Undecidable(f"no data at the start of its {window_text} window ({probe_at.isoformat()}): this "
                          "Prometheus does not cover the window (retention?)")


def _decide(r: SloResult, policy: TierPolicy) -> None:
    for rule in policy.burn_rules:
        long_burn, short_burn = r.burn_rates[rule.long_text], r.burn_rates[rule.short_text]
        fired = long_burn > rule.factor and short_burn > rule.factor
        r.rules.append({"long": rule.long_text, "short": rule.short_text, "factor": rule.factor,
                        "long_burn_rate": long_burn, "short_burn_rate": short_burn, "fired": fired})
        if fired:
            r.reasons.append(f"burning its budget {long_burn:.1f}x over {rule.long_text} and {short_burn:.1f}x over "
                             f"{rule.short_text} (blocks above {rule.factor:g}x)")
    remaining = r.remaining_percent
    assert remaining is not None
    if remaining <= 0:
        r.reasons.append(f"error budget exhausted: {100 - remaining:.1f} % used over {r.window}")
    elif remaining < policy.min_remaining_percent:
        r.reasons.append(f"only {remaining:.1f} % of the error budget left over {r.window} "
                         f"(blocks below {policy.min_remaining_percent:g} %)")
    if r.reasons:
        r.decision = "blocked"
    elif remaining < policy.warn_remaining_percent:
        r.decision = "warn"
        r.note = f"{remaining:.1f} % of the error budget left (warns below {policy.warn_remaining_percent:g} %)"
    else:
        r.decision = "pass"

