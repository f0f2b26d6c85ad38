"""The error-budget policy of a tier, from config `error_budget:` over the defaults, and freeze windows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ..checks.time import parse_duration
from ..errors import UsageError
from ..escape import one_line

# The SRE workbook's multi-window, multi-burn-rate pairs (chapter "Alerting on SLOs"): a page-worthy burn
# spends 2 % of a 30-day budget in an hour (14.4x), 5 % in six hours (6x); the short window confirms it is
# still happening.
DEFAULT_BURN_RATE_RULES = [{"long": "1h", "short": "5m", "factor": 14.4},
                           {"long": "6h", "short": "30m", "factor": 6.0}]
DEFAULTS: dict[str, Any] = {"warn_remaining_percent": 25.0, "min_remaining_percent": 0.0,
            "burn_rate_rules": DEFAULT_BURN_RATE_RULES}
DEFAULT_EXEMPT = ["security", "hotfix"]
DEFAULT_WINDOW = "30d"


@dataclass
class BurnRule:
    long: datetime.timedelta
    short: datetime.timedelta
    factor: float
    long_text: str
    short_text: str


@dataclass
class TierPolicy:
    warn_remaining_percent: float
    min_remaining_percent: float
    burn_rules: list = field(default_factory=list)


@dataclass
class Freeze:
    start: datetime.datetime
    end: datetime.datetime
    reason: str

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "reason": self.reason}


def tier_policy(section: dict, tier: int) -> TierPolicy:
    merged: dict[str, Any] = dict(DEFAULTS)
    merged.update({k: v for k, v in section.items() if k in DEFAULTS})
    merged.update((section.get("tiers") or {}).get(str(tier)) or {})
    rules = []
    for r in merged["burn_rate_rules"]:
        long, short = parse_duration(r["long"]), parse_duration(r["short"])
        if long is None or short is None:   # the schema's pattern lets through what Prometheus would refuse
            raise UsageError(f"error_budget: burn_rate_rules: not a duration: "
                             f"{one_line(r['long'])}/{one_line(r['short'])}")
        rules.append(BurnRule(long, short, float(r["factor"]), r["long"], r["short"]))
    return TierPolicy(float(merged["warn_remaining_percent"]), float(merged["min_remaining_percent"]), rules)


def parse_time(text: str, end_of_day: bool = False) -> datetime.datetime | None:
    """An ISO timestamp (UTC when it names no zone), or a date: its first moment, or the first moment of the
    next day for the end of a window (a freeze `to: 2026-12-31` holds through the 31st)."""
    text = str(text).strip()
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and len(text) == 10:
        moment = datetime.datetime.combine(day, datetime.time(), datetime.UTC)
        return moment + datetime.timedelta(days=1) if end_of_day else moment
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def freezes(section: dict) -> list:
    out = []
    for i, item in enumerate(section.get("freeze") or []):
        start, end = parse_time(item["from"]), parse_time(item["to"], end_of_day=True)
        if start is None or end is None:
            raise UsageError(f"error_budget.freeze.{i}: from/to must be dates (YYYY-MM-DD) or ISO timestamps")
        if end <= start:
            raise UsageError(f"error_budget.freeze.{i}: `to` is before `from`")
        out.append(Freeze(start, end, item["reason"]))
    return out
