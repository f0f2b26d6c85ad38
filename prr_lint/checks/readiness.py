"""Shared checks of the readiness records a manifest keeps (capacity plan, load test, review): a date within
the tier's window, a record or report that must exist, a field that must be there.

Each helper returns a message (without the service label) or None; the rules decide where it points.
"""

from __future__ import annotations

from ..escape import one_line
from .links import resolve_for
from .time import age_days, parse_date


def field_name(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def date_problem(value, what: str, within: int, tier: int, field: str, redo: str) -> str | None:
    """Why a `YYYY-MM-DD` date of `what` is not good enough: missing, not a date, in the future, or more than
    `within` days before today. None when it is within the window."""
    if value is None:
        return f"{what} has no date; {redo} and set {field} (tier {tier}: at least every {within} days)"
    when = parse_date(value)
    if when is None:
        return f"{what} date '{one_line(value)}' in {field} is not a date; write it as YYYY-MM-DD"
    return None


def age_problem(value, what: str, within: int, tier: int, field: str, redo: str, today) -> str | None:
    """`date_problem`, then the date's age against the window."""
    problem = date_problem(value, what, within, tier, field, redo)
    if problem is not None:
        return problem
    when = parse_date(value)
    assert when is not None
    age = age_days(when, today)
    if age < 0:
        return f"{what} date {when.isoformat()} is in the future; record the date it took place"
    if age > within:
        return (f"last {what} was {when.isoformat()} ({age} days ago), more than the {within} days allowed for "
                f"tier {tier}; {redo} and update {field}")
    return None


def reference_problem(ref, ctx, base_dir: str, what: str, field: str) -> str | None:
    """Why a record a manifest names (a repository path, a URL into this repository, or another https URL)
    cannot be followed. A URL to another host is taken as it is: prr-lint never fetches URLs."""
    if not isinstance(ref, str) or not ref.strip():
        return f"{what} in {field} is not a path or URL; name the file or link that holds it"
    link = resolve_for(ref.strip(), ctx, base_dir)
    if link.kind == "url" or link.ok:
        return None
    if link.missing:
        return f"{what} '{one_line(ref)}' ({field}) does not exist; correct the path or add the file"
    return f"{what} '{one_line(ref)}' ({field}) does not resolve: {one_line(link.problem)}; correct the path"
