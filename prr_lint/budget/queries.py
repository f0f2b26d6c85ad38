"""Per-window PromQL for an SLO: the SLI's own queries with their range replaced by each window.

A query with exactly one distinct range and no subquery gets that range replaced (found with promql-parser,
replaced in the text outside string literals, then parsed again to check). A query written for it names the
window itself: `{{window}}` (or Sloth's `{{.window}}`). Anything else needs a per-window query in config
(`error_budget.slos`): the caller turns a QueryError into "could not decide".
"""

from __future__ import annotations

import datetime
import re

import promql_parser

from ..checks.promql import _nodes, parse
from ..checks.time import format_duration

# `{{window}}`, `{{ .window }}`: the window written into a query by its author (Sloth's SLI templates)
PLACEHOLDER = re.compile(r"\{\{\s*\.?window\s*\}\}")
_RANGE = re.compile(r"\[\s*([0-9a-zA-Z]+)\s*\]")


class QueryError(Exception):
    """The SLI query cannot be turned into per-window queries."""


def _ranges(ast) -> tuple[set, bool]:
    """The distinct ranges of the range selectors, and whether there is a subquery."""
    ranges = set()
    subquery = False
    for node in _nodes(ast):
        if isinstance(node, promql_parser.SubqueryExpr):
            subquery = True
        elif isinstance(node, promql_parser.MatrixSelector):
            ranges.add(node.range)
    return ranges, subquery


def _outside_strings(text: str):
    """(start, end) of each stretch of `text` outside PromQL string literals and comments."""
    i = start = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'`":
            yield start, i
            j = i + 1
            while j < len(text) and text[j] != ch:
                j += 2 if text[j] == "\\" and ch != "`" else 1
            i = start = j + 1
            continue
        if ch == "#":
            yield start, i
            nl = text.find("\n", i)
            i = start = len(text) if nl < 0 else nl + 1
            continue
        i += 1
    yield start, len(text)


def for_window(query: str, window: datetime.timedelta) -> str:
    """`query` computed over `window`."""
    shown = format_duration(window)
    if PLACEHOLDER.search(query):
        return PLACEHOLDER.sub(shown, query)
    parsed = parse(query)
    if parsed.ast is None:
        raise QueryError(f"not valid PromQL: {parsed.error}")
    ranges, subquery = _ranges(parsed.ast)
    if subquery:
        raise QueryError("has a subquery, so its window cannot be replaced")
    if len(ranges) != 1:
        raise QueryError("has no range selector" if not ranges else
                         f"has {len(ranges)} different ranges ({', '.join(sorted(map(format_duration, ranges)))})")
    (old,) = ranges
    pieces = []
    last = 0
    for start, end in _outside_strings(query):
        for m in _RANGE.finditer(query, start, end):
            pieces.append(query[last:m.start()] + f"[{shown}]")
            last = m.end()
    out = "".join(pieces) + query[last:]
    check = parse(out)
    if check.ast is None or _ranges(check.ast) != ({window}, False) or out.count(f"[{shown}]") < 1:
        raise QueryError(f"its range {format_duration(old)} could not be replaced safely")
    return out
