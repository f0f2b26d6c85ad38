"""Indented JSON for reports, byte for byte what `json.dumps(obj, indent=2)` writes, at C-encoder speed.

`json.dumps` with `indent` runs the pure-Python encoder: seconds for a report of a large monorepo. Most of a report
is small flat objects (a finding, a service, a check), so each container whose items are all scalars is encoded by
the C encoder in one call, its item separator carrying the newline and indentation of its depth; only containers
that hold containers are walked here. Reports must be valid UTF-8: a string with a lone surrogate (a file name
that was not UTF-8) becomes U+FFFD, as `escape.deep_valid_unicode` does, without walking a report that has none.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from json.encoder import encode_basestring_ascii as _string
from typing import Any

from .escape import deep_valid_unicode, valid_unicode

_SCALAR = (str, int, float, bool, type(None))
# what a surrogate looks like in ASCII JSON: a lone one, or half of a pair (a character beyond the BMP, kept as is)
_SURROGATE_ESCAPE = re.compile(r"\\ud[89a-f]", re.IGNORECASE)


def dumps(obj: Any, indent: int = 2) -> str:
    """`json.dumps(deep_valid_unicode(obj), indent=indent)`, the same text."""
    text = _dumps(obj, indent)
    if _SURROGATE_ESCAPE.search(text):      # rare: replace lone surrogates, the slow way
        text = _dumps(deep_valid_unicode(obj), indent)
    return text


def _dumps(obj: Any, indent: int) -> str:
    parts: list[str] = []
    _encode(obj, 0, " " * indent, parts)
    return "".join(parts)


PART = 1 << 20      # characters `write` passes on at a time


def write(obj: Any, out: Callable[[str], object], indent: int = 2) -> None:
    """`out(dumps(obj, indent))`, in parts of about PART characters: a large report is never one string. Each part
    ends between two tokens (a string is never cut). A part with a surrogate in it is written from its value made
    valid (`deep_valid_unicode` of that value alone gives the text `dumps` gives for it)."""
    sink = _Sink(out)
    _encode(obj, 0, " " * indent, sink, valid=True)
    sink.flush()


class _Sink:
    """A list that passes its parts on once they are PART characters long."""

    def __init__(self, out: Callable[[str], object]) -> None:
        self._out = out
        self._parts: list[str] = []
        self._size = 0

    def append(self, part: str) -> None:
        self._parts.append(part)
        self._size += len(part)
        if self._size >= PART:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._out("".join(self._parts))
            self._parts.clear()
            self._size = 0


def _valid(text: str, value: Any, encode: Callable[[Any], str]) -> str:
    """`text`, the encoding of `value`, again from the value with its lone surrogates replaced when it has any."""
    return encode(deep_valid_unicode(value)) if _SURROGATE_ESCAPE.search(text) else text


@functools.lru_cache(maxsize=64)
def _flat_encoder(inner: str) -> Callable[[Any], str]:
    """The C encoder of a flat container at one depth: its item separator carries the line break and indentation."""
    return json.JSONEncoder(separators=("," + inner, ": ")).encode


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value)


def _flat(values: Any) -> bool:
    for v in values:
        if not isinstance(v, _SCALAR) and v:     # an empty container is written inline, `[]` or `{}`
            return False
    return True


def _encode(obj: Any, depth: int, step: str, out: list[str] | _Sink, valid: bool = False) -> None:
    """Append the text of `obj` to `out`; `valid`: each string made valid where it has a lone surrogate."""
    if isinstance(obj, dict):
        if valid and any(isinstance(k, str) and valid_unicode(k) != k for k in obj):
            # keys made valid first: two that become one are one, as in `dumps`
            obj = {deep_valid_unicode(k): v for k, v in obj.items()}
        items: Any = obj.values()
        opening, closing = "{", "}"
    elif isinstance(obj, (list, tuple)):
        items = obj
        opening, closing = "[", "]"
    else:
        out.append(_valid(_scalar(obj), obj, _scalar) if valid else _scalar(obj))
        return
    if not obj:
        out.append(opening + closing)
        return
    inner = "\n" + step * (depth + 1)
    if _flat(items):
        # one C-encoder call: `{"a": 1,<newline+indent>"b": 2}`, then the first and last line breaks
        encoder = _flat_encoder(inner)
        body = _valid(encoder(obj), obj, encoder) if valid else encoder(obj)
        out.append(opening + inner + body[1:-1] + "\n" + step * depth + closing)
        return
    out.append(opening)
    first = True
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.append(inner if first else "," + inner)
            first = False
            out.append(_string(_key(key)) + ": ")
            _encode(value, depth + 1, step, out, valid)
    else:
        for value in obj:
            out.append(inner if first else "," + inner)
            first = False
            _encode(value, depth + 1, step, out, valid)
    out.append("\n" + step * depth + closing)


def _key(key: Any) -> str:
    """A dict key as `json.dumps` writes it: strings as they are, scalars as their JSON text."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return json.dumps(key)
    return str(int(key))
