"""Prometheus durations, ISO dates and ages in days, for rules that compare against the tier policy.

Dates reach rules as ISO strings (the YAML loader turns timestamps into `isoformat()` text), and a
run's "today" is `ctx.today`, never the clock, so every result is reproducible in tests.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, overload

import promql_parser

# Prometheus's duration syntax (units largest first, in its parser); 12 digits a unit keeps clear of overflow
_DURATION = re.compile(r"(?:[0-9]{1,12}(?:ms|[smhdwy]))+")


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
    if not _DURATION.fullmatch(text):  # e.g. "nan" or "1e999s": the Rust parser panics on some
        return None
    try:
        return promql_parser.parse_duration(text)
    except (ValueError, TypeError, OverflowError):
        return None
    except BaseException as e:  # a panic in the Rust parser surfaces as pyo3's PanicException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
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


@overload
def age_days(when: datetime.date, today: datetime.date) -> int: ...
@overload
def age_days(when: Any, today: datetime.date) -> int | None: ...


def age_days(when: Any, today: datetime.date) -> int | None:
    """Whole days from `when` (a date, datetime or ISO string) to `today`; negative for a future date."""
    if isinstance(when, datetime.datetime):
        when = when.date()
    elif not isinstance(when, datetime.date):
        when = parse_date(when)
    if when is None:
        return None
    return (today - when).days


def last_tested(service, ctx, fact: str, within_key: str, what: str, redo: str):
    """Hits for a `<fact>.lastTested` date that is missing, not a date, in the future or older than the
    tier allows (`ctx.policy[within_key]` days). Silent when the tier has no window or `<fact>` is absent
    (the rule that asks for the block itself reports that)."""
    from ..model import Hit

    within = ctx.policy.get(within_key)
    block = service.get(fact)
    if not within or not isinstance(block, dict):
        return
    where = service.at(fact, "lastTested")
    field = service.field(fact, "lastTested")
    value = block.get("lastTested")
    tested = parse_date(value)
    if value is None:
        message = (f"{what} has no record of being tested; {redo} and set {field} "
                   f"(tier {ctx.tier}: at least every {within} days)")
    elif tested is None:
        message = f"{what} lastTested {value!r} is not a date; write it as YYYY-MM-DD"
    else:
        age = age_days(tested, ctx.today)
        if age < 0:
            message = f"{what} lastTested {tested.isoformat()} is in the future; record the date it was last tested"
        elif age > within:
            message = (f"{what} last tested {tested.isoformat()} ({age} days ago), more than the {within} days "
                       f"allowed for tier {ctx.tier}; {redo} and update {field}")
        else:
            return
    yield Hit(service.manifest, where, f"{service.label}: {message}")
