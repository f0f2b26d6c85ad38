"""A small, safe evaluator for the Terraform expressions whose value can be known without a plan.

Known: literals, `var.NAME`, `local.NAME`, `!`, `&&`, `||`, `==`, `!=`, parentheses and `cond ? a : b`
(only the chosen branch is evaluated). Everything else (function calls, attribute access, arithmetic,
templates, for-expressions) is unknown, and so is anything built on an unknown value: a rule never
judges a value prr-lint had to guess. Nothing is executed; evaluation is one pass over a bounded text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MAX_LENGTH = 4000       # longer expressions are unknown (real ones are a few hundred characters)
MAX_DEPTH = 32          # nesting of parentheses and conditionals


class _Unknown:
    """A value prr-lint cannot know (an expression, an unset variable): never a finding."""

    def __repr__(self):
        return "UNKNOWN"

    def __bool__(self):
        return False


UNKNOWN: Any = _Unknown()

# a value and where a module call set it (None: not set by a call)
Lookup = Callable[[str], tuple[Any, Any]]

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<string>"(?:[^"\\$%]|\\["\\nrt])*")
  | (?P<ref>(?:var|local)\.[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[!?:()<>+\-*/%.\[\]{},=])
""", re.VERBOSE)
_OPAQUE = object()    # a token that is not understood: the expression's value is unknown
_CLOSE = {"(": ")", "[": "]", "{": "}"}


class _Fail(Exception):
    pass


def _tokens(text: str) -> list:
    out: list = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _Fail  # a template string, a heredoc, an unknown character
        pos = m.end()
        kind = m.lastgroup
        if kind == "space":
            continue
        out.append((kind, m.group()))
    return out


def evaluate(text: str, lookup: Lookup) -> tuple[Any, Any]:
    """(value, origin) of the expression `text` (without `${}`); (UNKNOWN, None) when it cannot be known."""
    if len(text) > MAX_LENGTH:
        return UNKNOWN, None
    try:
        parser = _Parser(_tokens(text), lookup)
        value, origin = parser.conditional(0)
        if parser.pos != len(parser.toks):
            return UNKNOWN, None
        return value, origin
    except _Fail:
        return UNKNOWN, None


def truth(value) -> bool | None:
    """A literal bool (Terraform converts "true"/"false"), else None."""
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    return None


class _Parser:
    """Recursive descent over the tokens; `skip` parses a branch without evaluating it."""

    def __init__(self, toks: list, lookup: Lookup):
        self.toks = toks
        self.pos = 0
        self.lookup = lookup

    def peek(self) -> str | None:
        return self.toks[self.pos][1] if self.pos < len(self.toks) else None

    def take(self, want: str | None = None) -> tuple:
        if self.pos >= len(self.toks) or (want is not None and self.toks[self.pos][1] != want):
            raise _Fail
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def conditional(self, depth: int) -> tuple[Any, Any]:
        if depth > MAX_DEPTH:
            raise _Fail
        cond, cond_origin = self.binary(depth, 0)
        if self.peek() != "?":
            return cond, cond_origin
        self.take("?")
        # both branches are parsed; only the chosen one is evaluated (the other may call functions)
        chosen = truth(cond)
        first = self.conditional(depth + 1)
        self.take(":")
        second = self.conditional(depth + 1)
        if chosen is None:
            return UNKNOWN, None
        value, origin = first if chosen else second
        return value, origin if origin is not None else cond_origin

    # binary operators, loosest first; those prr-lint does not compute give an unknown value
    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))

    def binary(self, depth: int, level: int) -> tuple[Any, Any]:
        if level == len(self._LEVELS):
            return self.unary(depth)
        left, origin = self.binary(depth, level + 1)
        while self.peek() in self._LEVELS[level]:
            op = self.take()[1]
            right, right_origin = self.binary(depth, level + 1)
            left = _apply(op, left, right)
            origin = origin if origin is not None else right_origin
        return left, origin

    def unary(self, depth: int) -> tuple[Any, Any]:
        op = self.peek()
        if op in ("!", "-"):
            self.take()
            if depth > MAX_DEPTH:
                raise _Fail
            value, origin = self.unary(depth + 1)
            if op == "!":
                t = truth(value)
                return (UNKNOWN if t is None else not t), origin
            return (-value if isinstance(value, (int, float)) and not isinstance(value, bool) else UNKNOWN), origin
        return self.postfix(depth)

    def postfix(self, depth: int) -> tuple[Any, Any]:
        value, origin = self.primary(depth)
        # attribute access, indexing and calls on a value: not computed here
        while self.peek() in (".", "[", "("):
            if self.take()[1] == ".":
                self.take()
            else:
                self.skip_group(self.toks[self.pos - 1][1])
            value, origin = UNKNOWN, None
        return value, origin

    def primary(self, depth: int) -> tuple[Any, Any]:
        kind, text = self.take()
        if kind == "number":
            return (float(text) if any(c in text for c in ".eE") else int(text)), None
        if kind == "string":
            return _unquote(text), None
        if kind == "ref":
            value, origin = self.lookup(text)
            if self.peek() in (".", "["):   # var.x.y, local.m["k"]: parts of values are not followed
                return UNKNOWN, None
            return value, origin
        if kind == "name":
            if text in ("true", "false"):
                return text == "true", None
            if text == "null":
                return None, None
            return UNKNOWN, None            # a resource, data source, module, each/count, function
        if text == "(":
            value = self.conditional(depth + 1)
            self.take(")")
            return value
        if text in ("[", "{"):
            self.skip_group(text)
            return UNKNOWN, None
        raise _Fail

    def skip_group(self, opening: str) -> None:
        """Move past a bracketed group whose opening token was just taken."""
        stack = [_CLOSE[opening]]
        while stack:
            text = self.take()[1]
            if text in _CLOSE:
                stack.append(_CLOSE[text])
            elif text in (")", "]", "}"):
                if text != stack.pop():
                    raise _Fail


def _apply(op: str, left, right):
    if op in ("&&", "||"):
        a, b = truth(left), truth(right)
        stop = op != "&&"    # the value that decides: false for &&, true for ||
        if a is stop or b is stop:
            return stop
        return UNKNOWN if a is None or b is None else (not stop)
    if op in ("==", "!="):
        if left is UNKNOWN or right is UNKNOWN or isinstance(left, (list, dict)) or isinstance(right, (list, dict)):
            return UNKNOWN
        if isinstance(left, bool) != isinstance(right, bool):
            return op == "!="     # Terraform: values of different types are never equal
        return (left == right) == (op == "==")
    return UNKNOWN


def _unquote(text: str) -> str:
    return re.sub(r'\\(["\\nrt])', lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1)),
                  text[1:-1])
