"""Whether an alert expression debounces by itself, so that it needs no `for` (PROM004), read from the PromQL AST.

An expression debounces when one bad evaluation cannot make it true:

- a multi-window burn rate: two conditions over different range windows joined with `and`
  (`rate(e[1h]) > x and rate(e[5m]) > x`); windows of recorded series count through their recording rule in
  the same file, else through the naming convention `level:metric:operation<window>` (`...:burnrate5m`);
- a duration inside the expression: `time() - x > 7200` (an age), a condition held over a whole window
  (`min_over_time(x[10m]) > t`, `max_over_time(up[5m]) == 0`, `absent_over_time(x[10m])`) or averaged over it
  (`avg_over_time`, `quantile_over_time`);
- an event count over a window that one event cannot reach: `increase(x[2h]) >= 2`, `changes(x[1h]) > 3`.

Every branch of an `or` must debounce (each one alone fires the alert); one side of an `and` suffices.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable

import promql_parser

from . import promql

MIN_WINDOW = datetime.timedelta(minutes=1)
MIN_AGE_SECONDS = 60.0
# range functions whose value holds only if the condition held for the whole window, by comparison direction
HELD_ABOVE = ("min_over_time",)          # min > t: every sample above t
HELD_BELOW = ("max_over_time",)          # max < t or == t: every sample at or below t
SMOOTHED = ("avg_over_time", "quantile_over_time", "median_over_time")
COUNTS = ("increase", "changes", "resets", "count_over_time", "sum_over_time")
HELD_ABSENT = ("absent_over_time",)
# aggregations that keep what the functions above mean (a sum of event counts is still a count of events)
KEEPING = ("sum", "min", "max", "avg")
# the window suffix of a recording rule's operation: `job:errors:rate5m`, `apiserver_request:burnrate1h`
_RECORDED_WINDOW = re.compile(r":[A-Za-z_]*?([0-9]+(?:ms|s|m|h|d|w|y))$")

Windows = Callable[[object], frozenset]


def debounce_reason(expr: str, recorded: dict | None = None) -> str | None:
    """Why `expr` needs no `for` (a short phrase for a message), or None when one evaluation can fire it.
    `recorded` maps recording rule names of the same file to their expressions."""
    parsed = promql.parse(expr)
    if not parsed.ok:
        return None
    return _Reader(recorded or {}).reason(parsed.ast)


class _Reader:
    def __init__(self, recorded: dict):
        self.recorded = recorded

    def series(self, node) -> tuple[frozenset, frozenset]:
        """(range windows, metric families) a subtree reads, recorded series seen through their rule: a
        recording rule of the same file gives its expression's windows and metrics, else the name's window
        suffix is the window and the name without it the family (`slo:sli_error:ratio_rate5m`)."""
        windows: set = set(promql.range_windows(node))
        families: set = set()
        for name, _ in promql.selectors(node):
            if not name:
                continue
            expr = self.recorded.get(name)
            m = _RECORDED_WINDOW.search(name)
            window = _duration(m.group(1)) if m else None
            if isinstance(expr, str):
                windows |= promql.range_windows(expr)
                families |= promql.metric_names(expr)
            elif m is not None and window is not None:
                windows.add(window)
                families.add(name[:m.start(1)])
            else:
                families.add(name)
        return frozenset(windows), frozenset(families)

    def reason(self, node) -> str | None:
        node = _unwrap(node)
        if isinstance(node, promql_parser.BinaryExpr):
            op = str(node.op)
            if op == "or":
                left, right = self.reason(node.lhs), self.reason(node.rhs)
                return left if left and right else None
            if op == "unless":
                return self.reason(node.lhs)
            if op == "and":
                long_short = self._multi_window(node)
                return long_short or self.reason(node.lhs) or self.reason(node.rhs)
            if op in _FLIPPED:
                return self._comparison(node, op)
            return None
        if isinstance(node, promql_parser.Call) and node.func.name in HELD_ABSENT:
            window = _call_window(node)
            if window is not None and window >= MIN_WINDOW:
                return f"absent_over_time holds for the whole {_show(window)} window"
        return None

    def _multi_window(self, node) -> str | None:
        (left, left_metrics), (right, right_metrics) = self.series(node.lhs), self.series(node.rhs)
        # the same series over two windows; `errors[5m] and requests[1h]` is a traffic guard, not a burn rate
        if not left or not right or min(left) == min(right) or not left_metrics & right_metrics:
            return None
        short, long = sorted((min(left), min(right)))
        return f"a multi-window burn rate: the {_show(long)} and {_show(short)} windows must both be over"

    def _comparison(self, node, op: str) -> str | None:
        if getattr(node.modifier, "return_bool", False):
            return None  # `> bool` gives 0 or 1 for every series: no filter at all
        number, other = _number(node.rhs), node.lhs
        if number is None:
            number, other, op = _number(node.lhs), node.rhs, _FLIPPED[op]  # `2 <= x` is `x >= 2`
        if number is None:
            return None
        other = _unwrap(other)
        age = _age(other)
        if age is not None and op in (">", ">="):
            if age == "scaled" and number > 0:
                return "a duration inside the expression: it compares the time since an event"
            if age == "seconds" and number >= MIN_AGE_SECONDS:
                shown = _show(datetime.timedelta(seconds=number)) if number < 1e9 else f"{number:g}s"
                return f"a duration inside the expression: the time since an event must exceed {shown}"
            return None
        call = _range_call(other)
        if call is None:
            return None
        name, window = call.func.name, _call_window(call)
        if window is None or window < MIN_WINDOW:
            return None
        span = _show(window)
        if name in HELD_ABOVE and op in (">", ">="):
            return f"{name} holds the condition for the whole {span} window"
        if name in HELD_BELOW and op in ("<", "<=", "=="):
            return f"{name} holds the condition for the whole {span} window"
        if name in SMOOTHED:
            return f"{name} averages the {span} window"
        if name in COUNTS and ((op == ">=" and number >= 2) or (op == ">" and number >= 1)):
            return f"it counts at least two events in {span} ({name})"
        return None


_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def _unwrap(node):
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def _number(node) -> float | None:
    node = _unwrap(node)
    if isinstance(node, promql_parser.NumberLiteral):
        value = float(node.val)
        return value if math.isfinite(value) else None
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in ("*", "/", "+", "-"):
        left, right = _number(node.lhs), _number(node.rhs)  # `14.4 * 0.001`, `2 * 3600`
        if left is not None and right is not None and (right or str(node.op) != "/"):
            value = {"*": left * right, "+": left + right, "-": left - right,
                     "/": left / right if right else 0.0}[str(node.op)]
            return value if math.isfinite(value) else None
    return None


def _age(node) -> str | None:
    """"seconds" for `time() - x`, "scaled" for that times or over a number (`(time() - x) / 3600`), else None."""
    node = _unwrap(node)
    while isinstance(node, promql_parser.AggregateExpr) and str(node.op) in KEEPING:
        node = _unwrap(node.expr)  # `min by (user) (time() - x)`: still an age
    if isinstance(node, promql_parser.BinaryExpr):
        op = str(node.op)
        if op == "-" and _is_time(node.lhs):
            return "seconds"
        if op in ("/", "*") and _number(node.rhs) is not None and _age(node.lhs) is not None:
            return "scaled"
    return None


def _is_time(node) -> bool:
    node = _unwrap(node)
    return isinstance(node, promql_parser.Call) and node.func.name == "time"


def _range_call(node):
    """The range function call under aggregations that keep its meaning: `sum by (job) (increase(x[1h]))`."""
    node = _unwrap(node)
    while isinstance(node, promql_parser.AggregateExpr) and str(node.op) in KEEPING:
        node = _unwrap(node.expr)
    if isinstance(node, promql_parser.Call) and node.func.name in HELD_ABOVE + HELD_BELOW + SMOOTHED + COUNTS:
        return node
    return None


def _call_window(call) -> datetime.timedelta | None:
    for arg in call.args:
        arg = _unwrap(arg)
        if isinstance(arg, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr)):
            window = getattr(arg, "range", None)
            return window if isinstance(window, datetime.timedelta) else None
    return None


def _duration(text: str) -> datetime.timedelta | None:
    try:
        value = promql_parser.parse_duration(text)
    except (ValueError, TypeError, OverflowError):
        return None
    return value if isinstance(value, datetime.timedelta) and value > datetime.timedelta(0) else None


def _show(window: datetime.timedelta) -> str:
    from .time import format_duration

    return format_duration(window)
