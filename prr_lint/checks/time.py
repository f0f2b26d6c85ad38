"""Prometheus durations, ISO dates and ages in days, for rules that compare against the tier policy.

Dates reach rules as ISO strings (the YAML loader turns timestamps into `isoformat()` text), and a
run's "today" is `ctx.today`, never the clock, so every result is reproducible in tests.
"""

from __future__ import annotations

import datetime

import promql_parser


def parse_duration(value) -> datetime.timedelta | None:
    """A Prometheus duration (`5m`, `1h30m`, `28d`) as a timedelta; None when it is not one.

    A bare number is not accepted although newer Prometheus reads it as seconds: in a manifest
    `window: 30` is far more likely a mistake (days? minutes?) than thirty seconds.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or not text[-1].isalpha():
        return None
    try:
        return promql_parser.parse_duration(text)
    except (ValueError, TypeError, OverflowError):
        return None


def format_duration(delta: datetime.timedelta) -> str:
    """A timedelta the way Prometheus writes it: `1h`, `5m`, `1d12h`."""
    try:
        return promql_parser.display_duration(delta)
    except (ValueError, TypeError, OverflowError):  # pragma: no cover - defensive
        return str(delta)


def parse_date(value) -> datetime.date | None:
    """An ISO date (`2026-10-01`, or a timestamp whose date part is used); None when it is not one."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def age_days(when, today: datetime.date) -> int | None:
    """Whole days from `when` (a date, datetime or ISO string) to `today`; negative for a future date."""
    if isinstance(when, datetime.datetime):
        when = when.date()
    elif not isinstance(when, datetime.date):
        when = parse_date(when)
    if when is None:
        return None
    return (today - when).days
