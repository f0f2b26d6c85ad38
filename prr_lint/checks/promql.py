"""PromQL through a real parser (PyPI `promql-parser`, the Rust parser of GreptimeDB): parse once, then
ask the AST which metrics an expression reads and over which range windows.

Never regular expressions: label matchers, strings and subqueries make those wrong in ways a parser is not.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

import promql_parser


def _register_prometheus2_functions() -> None:
    """Functions of Prometheus 2.x that the parser no longer knows (renamed in Prometheus 3)."""
    V = promql_parser.ValueType
    try:
        promql_parser.register_extra_functions([
            promql_parser.Function("holt_winters", [V.Matrix, V.Scalar, V.Scalar], V.Vector),
        ])
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - another parser version
        pass


_register_prometheus2_functions()


@dataclass(frozen=True)
class Parsed:
    """The result of parsing one expression: an AST, or the parser's message."""

    ast: object | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.ast is not None


@lru_cache(maxsize=4096)
def parse(expr: str) -> Parsed:
    """Parse a PromQL expression; never raises. Results are cached by text (alerts repeat a lot)."""
    if not isinstance(expr, str) or not expr.strip():
        return Parsed(None, "empty expression")
    try:
        return Parsed(promql_parser.parse(expr), None)
    except (ValueError, TypeError, RuntimeError, OverflowError) as e:
        return Parsed(None, str(e) or type(e).__name__)
    except BaseException as e:  # a panic in the Rust parser surfaces as pyo3's PanicException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return Parsed(None, f"parser failed: {e}")


def _nodes(ast) -> list:
    out: list = []
    if ast is None:
        return out

    def visit(node):
        out.append(node)

    promql_parser.walk(ast, visit)
    return out


def _ast(expr_or_ast):
    if isinstance(expr_or_ast, str):
        return parse(expr_or_ast).ast
    if isinstance(expr_or_ast, Parsed):
        return expr_or_ast.ast
    return expr_or_ast


def selector_name(selector) -> str | None:
    """The metric name of a vector selector: `foo{...}` or `{__name__="foo"}`."""
    name = getattr(selector, "name", None)
    if name:
        return name
    matchers = getattr(getattr(selector, "matchers", None), "matchers", None) or []
    for m in matchers:
        if m.name == "__name__" and m.op == promql_parser.MatchOp.Equal:
            return m.value
    return None


@lru_cache(maxsize=4096)
def _analysis(parsed: Parsed) -> tuple[frozenset, frozenset]:
    """(metric names, range windows) of a parsed expression; parse() is cached, so this is too."""
    names, windows = set(), set()
    for node in _nodes(parsed.ast):
        if isinstance(node, promql_parser.VectorSelector):
            name = selector_name(node)
            if name:
                names.add(name)
        elif isinstance(node, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr)):
            window = getattr(node, "range", None)
            if isinstance(window, datetime.timedelta) and window > datetime.timedelta(0):
                windows.add(window)
    return frozenset(names), frozenset(windows)


def _parsed(expr_or_ast) -> Parsed:
    if isinstance(expr_or_ast, Parsed):
        return expr_or_ast
    if isinstance(expr_or_ast, str):
        return parse(expr_or_ast)
    return Parsed(expr_or_ast, None)


def metric_names(expr_or_ast) -> frozenset[str]:
    """Every metric name an expression selects (empty when it does not parse)."""
    return _analysis(_parsed(expr_or_ast))[0]


def range_windows(expr_or_ast) -> frozenset[datetime.timedelta]:
    """The range windows of an expression: `[5m]` of range selectors and `[1h:1m]` of subqueries."""
    return _analysis(_parsed(expr_or_ast))[1]


SLOTH_WINDOW = "{{.window}}"


def expand_sloth_window(expr: str, window: str = "5m") -> str:
    """Sloth SLI queries use the Go template `{{.window}}` for the range; put a real range in its place
    so the query can be parsed (`{{ .window }}` with spaces too)."""
    if not isinstance(expr, str) or "{{" not in expr:
        return expr
    out = expr
    for form in ("{{.window}}", "{{ .window }}", "{{ .window}}", "{{.window }}"):
        out = out.replace(form, window)
    return out


def selectors(expr_or_ast) -> list[tuple[str | None, dict]]:
    """(metric name, equality label matchers) of every vector selector: `foo{job="x",code=~"5.."}` gives
    ("foo", {"job": "x"}). Regex and negative matchers are left out."""
    out = []
    for node in _nodes(_ast(expr_or_ast)):
        if isinstance(node, promql_parser.VectorSelector):
            matchers = getattr(getattr(node, "matchers", None), "matchers", None) or []
            equal = {m.name: m.value for m in matchers
                     if m.op == promql_parser.MatchOp.Equal and m.name != "__name__"}
            out.append((selector_name(node), equal))
    return out
