"""PromQL facts kept between runs (memo.py), so a warm run neither parses nor walks an expression it has seen.
PROM004's verdict on whether an alert debounces by itself (it reads the AST) is kept the same way.

An entry is keyed by the expression's text, the parser's version and the functions registered in it (a
MetricsQL function parses only when registered); it holds the Facts as plain JSON. An expression near the
parser's limits (checked in a worker process that may time out) is never kept: it is checked every run.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from typing import Any

from .. import __version__
from ..memo import run_memo
from . import metricsql, promql
from .promql import Facts

FORMAT = 1
KIND = "promql-facts"
_MICROSECOND = datetime.timedelta(microseconds=1)


@functools.cache
def _parser_version() -> str:
    """The promql-parser release, from its package metadata's name (importlib.metadata's import costs a one-file
    run more than its rules)."""
    from ..releases import installed_release

    return installed_release("promql_parser", "promql-parser") or "unknown"


def _salt() -> bytes:
    return json.dumps([FORMAT, __version__, _parser_version(), sorted(metricsql.registered_signatures().items())],
                      separators=(",", ":")).encode()


def _run_salt(ctx: Any) -> bytes:
    salt = ctx.repo.memo.get(KIND)
    if salt is None:            # registrations change only when a run starts (Engine: promql.use_functions)
        salt = ctx.repo.memo[KIND] = _salt()
    return salt


def fact_key(expr: str, salt: bytes) -> str:
    h = hashlib.blake2b(salt, digest_size=20)
    h.update(b"\0")
    h.update(expr.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def encode(facts: Facts) -> list:
    return [facts.ok, facts.error, facts.too_large, sorted(facts.names),
            sorted(w // _MICROSECOND for w in facts.windows),
            [[name, [list(m) for m in matchers]] for name, matchers in facts.selectors], list(facts.calls)]


def _encode_entry(value: Any) -> list:
    if isinstance(value, Facts):
        return encode(value)
    raise TypeError(f"not a PromQL fact: {type(value).__name__}")


def decode(obj: Any) -> Facts | None:
    """The Facts of an entry; None when it is not one (then the expression is parsed again)."""
    try:
        ok, error, too_large, names, windows, selectors, calls = obj
        # built once, in the shared form, from the entry's lists (a warm run decodes every expression)
        out = promql.shared_facts(ok, error, too_large, names,
                                  frozenset(datetime.timedelta(microseconds=w) for w in windows), selectors, calls)
    except (TypeError, ValueError, OverflowError):
        return None
    plain = all(type(x) is str for x in (*out.names, *out.calls)) and all(
        (name is None or type(name) is str) and all(type(k) is str and type(v) is str for k, v in matchers)
        for name, matchers in out.selectors)
    if type(ok) is not bool or type(too_large) is not bool or not (error is None or type(error) is str) or not plain:
        return None
    return out


def _near_limits(expr: str) -> bool:
    length, operators, nesting = promql.size(expr)
    return length > promql.NEAR_LENGTH or operators > promql.NEAR_OPERATORS or nesting > promql.NEAR_NESTING


def facts_for(ctx: Any, expr: Any) -> Facts:
    """promql.facts(expr), from the run's memo when an earlier run worked them out for the same text."""
    if not isinstance(expr, str):
        return promql.facts(expr)
    memo = run_memo(ctx.repo, KIND, _encode_entry)
    if memo.store is None:
        return promql.facts(expr)
    seen = memo.local           # expression -> Facts of this run: several rules ask about each expression
    found = seen.get(expr)
    if found is not None:
        return found
    key = fact_key(expr, _run_salt(ctx))
    stored = memo.get(key)
    found = decode(stored) if stored is not None else None
    if found is None:
        found = promql.facts(expr)
        if not _near_limits(expr):
            memo.put(key, found)            # encoded when the memo is saved
    seen[expr] = found
    return found


def debounce_reason_for(ctx: Any, expr: str, recorded: dict) -> str | None:
    """debounce.debounce_reason(expr, recorded), from the run's memo when an earlier run worked it out for the
    same expression and recording rules (it reads the AST, which no memo can hold)."""
    from .debounce import debounce_reason

    memo = run_memo(ctx.repo, KIND, _encode_entry)
    plain = all(type(k) is str and (v is None or type(v) is str) for k, v in recorded.items())
    if memo.store is None or not plain or _near_limits(expr) or \
            any(isinstance(v, str) and _near_limits(v) for v in recorded.values()):
        return debounce_reason(expr, recorded)
    key = fact_key(json.dumps(["debounce", expr, sorted(recorded.items())], separators=(",", ":")), _run_salt(ctx))
    stored = memo.get(key)
    if isinstance(stored, list) and len(stored) == 1 and (stored[0] is None or type(stored[0]) is str):
        return stored[0]
    reason = debounce_reason(expr, recorded)
    memo.put(key, [reason])
    return reason
