"""PromQL through a real parser (PyPI `promql-parser`, the Rust parser of GreptimeDB): parse once, then
ask the AST which metrics an expression reads and over which range windows.

Never regular expressions: label matchers, strings and subqueries make those wrong in ways a parser is not.
"""

from __future__ import annotations

import datetime
import re
import sys
from collections.abc import Iterable
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


def use_functions(functions: dict) -> None:
    """Make the parser know these functions beyond PromQL ({name: (argument types, variadic)}, see
    metricsql.py); a run accepts them or not through unknown_function()."""
    from . import metricsql

    if metricsql.register(functions):
        parse.cache_clear()  # an expression that failed on one of them parses now
        _facts.cache_clear()
        _text_facts.cache_clear()


def unknown_function(parsed: Parsed | Facts, accepted) -> str | None:
    """The strict parser's message for the first call to a registered function beyond PromQL that this run
    does not accept (e.g. a MetricsQL function under `promql_dialect: promql`); None when there is none."""
    from . import metricsql

    extra = metricsql.registered() - set(accepted)
    if not extra or not parsed.ok:
        return None
    for func in facts(parsed).calls:
        if func in extra:
            return f"unknown function with name '{func}'"
    return None


@dataclass(frozen=True)
class Parsed:
    """The result of parsing one expression: an AST, or the parser's message."""

    ast: object | None
    error: str | None
    too_large: bool = False      # not parsed at all: over the size limits below

    @property
    def ok(self) -> bool:
        return self.ast is not None


# The parser is recursive Rust: 5,000 `+` terms overflow its stack (the process dies with SIGSEGV) and its
# time grows with the square of the terms (4,000 take 6.5 s). Real alert expressions stay far below these.
MAX_LENGTH = 64 * 1024
MAX_OPERATORS = 500          # binary operators; each nests the tree one level deeper
MAX_NESTING = 200            # brackets: ( [ {
# above any of these, an expression is parsed first in a worker process that may die in its place
NEAR_LENGTH, NEAR_OPERATORS, NEAR_NESTING = 8 * 1024, 100, 32
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_OPERATORS = re.compile(r"==|!=|>=|<=|[-+*/%^<>]|\b(?:and|or|unless|atan2)\b")


@lru_cache(maxsize=4096)
def size(expr: str) -> tuple[int, int, int]:
    """(length, binary operators, bracket depth) of an expression, from a cheap scan: string literals
    are skipped, and a unary minus or a `!=` matcher counts as an operator (an overestimate is safe)."""
    if len(expr) > MAX_LENGTH:
        return len(expr), 0, 0
    bare = _STRINGS.sub('""', expr)
    depth = best = 0
    for ch in bare:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return len(expr), len(_OPERATORS.findall(bare)), best


def _too_large(length: int, operators: int, nesting: int) -> str | None:
    if length > MAX_LENGTH:
        return f"{length:,} characters (limit {MAX_LENGTH:,})"
    if operators > MAX_OPERATORS:
        return f"{operators:,} operators (limit {MAX_OPERATORS:,})"
    if nesting > MAX_NESTING:
        return f"brackets nested {nesting:,} deep (limit {MAX_NESTING:,})"
    return None


# ASTs held at once: the parser's native memory for one burn-rate alert (its regex matchers compiled) is about
# 30 KB, so thousands of them were most of what a large run's rules kept. The rules of a document ask about its
# expressions one after another, and their facts are kept by text much longer (plain values, see facts).
AST_CACHE = 256
FACTS_CACHE = 4096


@lru_cache(maxsize=AST_CACHE)
def parse(expr: str) -> Parsed:
    """Parse a PromQL expression; never raises, never takes the process down. Results are cached by
    text (alerts repeat a lot)."""
    if not isinstance(expr, str) or not expr.strip():
        return Parsed(None, "empty expression")
    length, operators, nesting = size(expr)
    over = _too_large(length, operators, nesting)
    if over is not None:
        return Parsed(None, f"too large to check: {over}; split it into recording rules", too_large=True)
    if length > NEAR_LENGTH or operators > NEAR_OPERATORS or nesting > NEAR_NESTING:
        error = _WORKER.check(expr)
        if error is not None:
            return Parsed(None, error)
    return parse_here(expr)


def parse_here(expr: str) -> Parsed:
    """Parse in this process (the worker's entry point too)."""
    try:
        return Parsed(promql_parser.parse(expr), None)
    except (ValueError, TypeError, RuntimeError, OverflowError) as e:
        return Parsed(None, str(e) or type(e).__name__)
    except BaseException as e:  # a panic in the Rust parser surfaces as pyo3's PanicException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return Parsed(None, f"parser failed: {e}")


class _Worker:
    """One worker process for the whole run, started on the first expression near the limits; a fresh
    Python (never a fork of this process), restarted after it dies."""

    TIMEOUT = 20.0

    def __init__(self):
        self.proc = None

    def _start(self):
        import atexit
        import os
        import subprocess
        import sys

        atexit.register(self.stop)

        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        # -I: neither the current directory (the checked repository) nor PYTHON* variables reach sys.path
        code = f"import sys; sys.path.insert(0, {package_parent!r}); " \
               "from prr_lint.checks.promql_worker import main; main()"
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     encoding="utf-8", bufsize=1)

    def check(self, expr: str) -> str | None:
        """None when the expression parses in the worker; else why not (its error, or how it died)."""
        import json
        import select

        from .metricsql import registered_signatures

        if self.proc is None or self.proc.poll() is not None:
            self._start()
        try:
            self.proc.stdin.write(json.dumps({"expr": expr, "functions": registered_signatures()}) + "\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], self.TIMEOUT)
            line = self.proc.stdout.readline() if ready else None
        except OSError:
            line = ""
        if line:
            return json.loads(line)["error"]
        self.stop()
        if line is None:
            return f"the PromQL parser took longer than {self.TIMEOUT:.0f} s on this expression"
        return "the PromQL parser crashed on this expression (too deep or too long to check)"

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None


_WORKER = _Worker()


# the children of each node type, in the order promql_parser.walk visits them (depth first, node first)
_CHILDREN = {
    promql_parser.BinaryExpr: ("lhs", "rhs"),
    promql_parser.AggregateExpr: ("param", "expr"),
    promql_parser.UnaryExpr: ("expr",),
    promql_parser.ParenExpr: ("expr",),
    promql_parser.SubqueryExpr: ("expr",),
    promql_parser.MatrixSelector: ("vector_selector",),
    promql_parser.Call: ("args",),
    promql_parser.VectorSelector: (),
    promql_parser.NumberLiteral: (),
    promql_parser.StringLiteral: (),
}


def _nodes(ast) -> list:
    """Every node of an AST, in promql_parser.walk's order. Read through the nodes' attributes: walk makes
    a new Python object of every subtree it visits, 25 times slower on a burn-rate alert. A node type this
    table does not know (a newer parser) is left to walk."""
    out: list = []
    if ast is None:
        return out
    stack = [ast]
    while stack:
        node = stack.pop()
        children = _CHILDREN.get(type(node))
        if children is None:
            return _walked(ast)
        out.append(node)
        below: list = []
        for attr in children:
            child = getattr(node, attr)
            if attr == "args":
                below.extend(child)
            elif child is not None:
                below.append(child)
        stack.extend(reversed(below))
    return out


def _walked(ast) -> list:
    out: list = []
    promql_parser.walk(ast, out.append)
    return out


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


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules ask of an expression: whether it parses, and from one pass over its AST the metrics,
    windows, selectors and calls. Plain values, so they can be kept between runs (promql_memo.py)."""

    ok: bool
    error: str | None
    too_large: bool
    names: frozenset[str]                                   # metric names selected
    windows: frozenset[datetime.timedelta]                  # range windows of range selectors and subqueries
    selectors: tuple[tuple[str | None, tuple[tuple[str, str], ...]], ...]   # (name, equality matchers), in order
    calls: tuple[str, ...]                                  # functions called, in walk order


@lru_cache(maxsize=AST_CACHE)
def _facts(parsed: Parsed) -> Facts:
    """The facts of a parsed expression; parse() is cached, so this is too."""
    names, windows, found, calls = set(), set(), [], []
    for node in _nodes(parsed.ast):
        if isinstance(node, promql_parser.VectorSelector):
            name = selector_name(node)
            if name:
                names.add(name)
            matchers = getattr(getattr(node, "matchers", None), "matchers", None) or []
            equal = {m.name: m.value for m in matchers
                     if m.op == promql_parser.MatchOp.Equal and m.name != "__name__"}
            found.append((name, tuple(equal.items())))
        elif isinstance(node, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr)):
            window = getattr(node, "range", None)
            if isinstance(window, datetime.timedelta) and window > datetime.timedelta(0):
                windows.add(window)
        elif isinstance(node, promql_parser.Call):
            calls.append(node.func.name)
    return shared(Facts(parsed.ok, parsed.error, parsed.too_large, frozenset(names), frozenset(windows),
                        tuple(found), tuple(calls)))


# Facts are kept for every expression of a run, and most of their parts repeat (a metric name, a window, a
# `job` matcher, the functions called): equal parts are one object, strings from the parser interned
SHARED_MAX = 1 << 16
_shared_parts: dict = {}


def _one(value):
    found = _shared_parts.get(value)
    if found is None:
        if len(_shared_parts) >= SHARED_MAX:     # bounded, whatever a repository holds
            _shared_parts.clear()
        found = _shared_parts[value] = value
    return found


def _text(value):
    return sys.intern(value) if type(value) is str else value


def shared(facts: Facts) -> Facts:
    """`facts` with its parts shared with those of the other Facts of the process."""
    return shared_facts(facts.ok, facts.error, facts.too_large, facts.names, facts.windows, facts.selectors,
                        facts.calls)


def shared_facts(ok: bool, error: str | None, too_large: bool, names: Iterable, windows: frozenset,
                 selectors: Iterable, calls: Iterable) -> Facts:
    """Facts whose parts are shared with those of the other Facts of the process, from any iterables of the
    parts: a memo entry's lists become the shared tuples directly (promql_memo.decode), not through a Facts."""
    shared_selectors = _one(tuple(_one((_text(name), _one(tuple(_one((_text(k), _text(v))) for k, v in matchers))))
                                  for name, matchers in selectors))
    return Facts(ok, error, too_large, _one(frozenset(map(_text, names))), _one(windows), shared_selectors,
                 _one(tuple(map(_text, calls))))


def facts(expr) -> Facts:
    """The facts of an expression (its text, a Parsed or an AST node), cached within the process."""
    if isinstance(expr, Facts):
        return expr
    if isinstance(expr, str):
        return _text_facts(expr)
    return _facts(_parsed(expr))


@lru_cache(maxsize=FACTS_CACHE)
def _text_facts(expr: str) -> Facts:
    """The facts of an expression's text: kept after its AST is let go."""
    return _facts(parse(expr))


def _parsed(expr_or_ast) -> Parsed:
    if isinstance(expr_or_ast, Parsed):
        return expr_or_ast
    if isinstance(expr_or_ast, str):
        return parse(expr_or_ast)
    return Parsed(expr_or_ast, None)


def metric_names(expr_or_ast) -> frozenset[str]:
    """Every metric name an expression selects (empty when it does not parse)."""
    return facts(expr_or_ast).names


def range_windows(expr_or_ast) -> frozenset[datetime.timedelta]:
    """The range windows of an expression: `[5m]` of range selectors and `[1h:1m]` of subqueries."""
    return facts(expr_or_ast).windows


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
    return [(name, dict(equal)) for name, equal in facts(expr_or_ast).selectors]
