"""The error-budget release gate: `prr-lint gate --prometheus-url URL` asks each gated service's Prometheus for
its SLOs' error ratios and blocks a release on a spent or fast-burning budget, or in a freeze window.

The server and credentials come from the command line and the environment only (PRR_PROMETHEUS_*), never from a
config file; the policy (thresholds per tier, freezes, exempt change types, overrides file) from `error_budget:`.
Whatever cannot be known (Prometheus unreachable, auth, partial or no data, a window it does not cover) leaves
the gate unable to decide: exit 2, never a pass.
"""

from __future__ import annotations

import argparse
import datetime
import os
from dataclasses import dataclass, field

from ..cli import seconds
from ..errors import UsageError


def _moment(text: str) -> datetime.datetime:
    """--at: unix seconds or an ISO timestamp (UTC when no zone is given)."""
    from .policy import parse_time

    try:
        return datetime.datetime.fromtimestamp(float(text), datetime.UTC)
    except (ValueError, OverflowError, OSError):
        pass
    moment = parse_time(text)
    if moment is None:
        raise argparse.ArgumentTypeError(f"not a timestamp (ISO 8601 or unix seconds): {text}")
    return moment


def add_gate_arguments(parser) -> None:
    g = parser.add_argument_group("error budget (Prometheus)")
    g.add_argument("--prometheus-url", metavar="URL",
                   help="ask this Prometheus (API-compatible: Thanos, Mimir, Cortex; a path prefix is kept) for each "
                        "SLO's error budget (or PRR_PROMETHEUS_URL; never from a config file). Credentials: "
                        "PRR_PROMETHEUS_TOKEN(_FILE), or PRR_PROMETHEUS_USERNAME and PRR_PROMETHEUS_PASSWORD(_FILE)")
    g.add_argument("--at", type=_moment, metavar="TIMESTAMP",
                   help="evaluate the budget at this time (ISO 8601 or unix seconds; default: now)")
    g.add_argument("--change-type", metavar="TYPE",
                   help="what this release is (e.g. feature, security, hotfix): types listed in "
                        "error_budget.exempt_change_types pass through a spent or burning budget")
    g.add_argument("--budget-overrides", metavar="FILE",
                   help="error-budget overrides file (default: config error_budget.overrides)")
    g.add_argument("--no-overrides", action="store_true", help="apply no error-budget override")
    g.add_argument("--prometheus-timeout", type=seconds, default=10.0, metavar="SECONDS",
                   help="per query, also sent as Prometheus' own timeout (default: 10)")
    g.add_argument("--prometheus-deadline", type=seconds, default=60.0, metavar="SECONDS",
                   help="for all the queries of a run together (default: 60)")


@dataclass
class Outcome:
    section: dict
    blocks: list = field(default_factory=list)      # why the release is blocked
    reasons: list = field(default_factory=list)     # why the gate cannot decide
    rows: list = field(default_factory=list)        # SloResult per SLO, for the text table
    exempt: str = ""                                # the change type let through, when one was

    def blocks_service(self, name: str) -> bool:
        """Whether the budget blocks this service's release: a freeze, or one of its SLOs."""
        return bool(self.section["freeze"]) or any(r.service == name and r.decision == "blocked" for r in self.rows)


def _overrides(args, config) -> tuple[list, str | None]:
    from .overrides import load_overrides

    if getattr(args, "no_overrides", False):
        return [], None
    path = getattr(args, "budget_overrides", None)
    if path:
        if not os.path.isfile(path):
            raise UsageError(f"{path}: overrides file not found")
        return load_overrides(path, path), path
    name = (config.error_budget or {}).get("overrides")
    if not name:
        return [], None
    base = os.path.dirname(os.path.abspath(config.path)) if config.path else os.getcwd()
    full = os.path.join(base, name)
    if not os.path.isfile(full):
        raise UsageError(f"{name}: overrides file (config error_budget.overrides) not found beside {config.path}")
    return load_overrides(full, name), name


def evaluate_budget(args, options, graph) -> Outcome | None:
    """The budget part of the gate's decision; None when neither a Prometheus nor a freeze is configured."""
    from .policy import DEFAULT_EXEMPT, freezes

    settings = options.config.error_budget or {}
    url = getattr(args, "prometheus_url", None) or os.environ.get("PRR_PROMETHEUS_URL") or None
    windows = freezes(settings)
    if url is None and not windows:
        return None
    at = getattr(args, "at", None) or datetime.datetime.now(datetime.UTC)
    change = getattr(args, "change_type", None) or ""
    exempt_types = settings.get("exempt_change_types", DEFAULT_EXEMPT)
    overrides, overrides_file = _overrides(args, options.config)
    section: dict = {
        "evaluated_at": at.isoformat(), "change_type": change or None, "exempt_change_types": exempt_types,
        "prometheus": None, "freeze": [], "slos": [], "services_without_slos": [], "queries": [], "warnings": [],
        "overrides": {"file": overrides_file, "disabled": bool(getattr(args, "no_overrides", False)),
                      "applied": [], "expired": []},
    }
    out = Outcome(section)
    for w in windows:
        if w.start <= at < w.end:
            section["freeze"].append(w.as_dict())
            out.blocks.append(f"release freeze until {w.end.isoformat()}: {w.reason}")
    if url is not None:
        _ask_prometheus(args, url, at, settings, graph, out)
    _apply_exemptions(out, change, exempt_types, overrides, at.date())
    section["decision"] = "error" if out.reasons else "blocked" if out.blocks else \
        "warn" if any(r.decision == "warn" for r in out.rows) else "pass"
    section["reasons"] = out.reasons + out.blocks
    return out


def _ask_prometheus(args, url: str, at, settings: dict, graph, out: Outcome) -> None:
    from .evaluate import SloResult, evaluate_slo
    from .policy import tier_policy
    from .prometheus import Client, PrometheusError, settings_from

    client = Client(settings_from(url, os.environ, timeout=args.prometheus_timeout,
                                  deadline=args.prometheus_deadline))
    out.section["prometheus"] = {"url": client.s.url, "auth": client.s.auth,
                                 "headers": sorted(client.s.headers)}
    wanted = set(getattr(args, "service", None) or [])
    services = [s for s in (graph.services if graph is not None else []) if not wanted or s.name in wanted]
    if not services:
        out.reasons.append("error budget: no service to ask Prometheus about")
    try:
        for svc in services:
            slos = svc.slos()
            if not slos:
                out.section["services_without_slos"].append(svc.name)
            if not slos and svc.name in wanted:
                out.reasons.append(f"error budget: service {svc.name} declares no SLO, so its budget cannot be known")
            policy = tier_policy(settings, svc.tier)
            for slo in slos:
                row = evaluate_slo(client, svc, slo, policy, at, settings)
                out.rows.append(row)
                out.reasons.extend(row.reasons if row.decision == "error" else [])
    except PrometheusError as e:
        out.reasons.append(str(e))
        out.section["warnings"].extend(e.warnings)
        done = {(r.service, r.slo) for r in out.rows}
        out.rows.extend(SloResult(s.name, s.tier, slo.name, slo.objective, str(slo.window or ""), "error",
                                  ["not asked: Prometheus failed"])
                        for s in services for slo in s.slos() if (s.name, slo.name) not in done)
    finally:
        out.section["queries"] = [{"query": q, "time": datetime.datetime.fromtimestamp(t, datetime.UTC)
                                   .isoformat()} for q, t in client.sent]


def _apply_exemptions(out: Outcome, change: str, exempt_types: list, overrides: list,
                      today: datetime.date) -> None:
    """Blocked SLOs let through by an exempt change type or an unexpired override (never a freeze, never an
    SLO that could not be judged)."""
    for row in out.rows:
        if row.decision != "blocked":
            continue
        if change and change in exempt_types:
            row.decision = "exempt"
            row.note = f"let through: --change-type {change} is exempt from the error-budget policy"
            out.exempt = change
            continue
        match = next((o for o in overrides if o.covers(row.service, row.slo) and not o.expired(today)), None)
        if match is not None:
            row.decision = "overridden"
            row.note = f"override approved by {match.approver} until {match.expires.isoformat()}: {match.reason}"
            match.applied_to.append(f"{row.service}/{row.slo}")
            continue
        out.blocks.extend(f"{row.service}/{row.slo}: {reason}" for reason in row.reasons)
    out.section["slos"] = [r.as_dict() for r in out.rows]
    out.section["overrides"]["applied"] = [o.as_dict() for o in overrides if o.applied_to]
    out.section["overrides"]["expired"] = [o.as_dict() for o in overrides if o.expired(today)]


def text_lines(out: Outcome) -> list:
    """The verdict's error-budget table: service, SLO, objective, window, budget left, burn rates, decision."""
    from .report import table

    return table(out)
