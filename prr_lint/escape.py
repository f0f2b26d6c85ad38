"""Make values read from a repository safe to print on one line of any output channel.

A file name, an alert name or a YAML value comes from a pull request: printed raw, a newline or carriage
return in it starts a new line of CI output, where a runner reads `::add-mask::`, `::error ...` or
`##vso[...]` as a command. Every channel (text, gate verdicts, stderr, JUnit, Markdown) prints repository
values through `one_line`, which shows control and line-breaking characters as visible escapes.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, Unicode line/paragraph separators, the noncharacters XML forbids, and lone
# surrogates (file names read with surrogateescape): none of them may reach a terminal or a CI log raw.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match) -> str:
    ch = match.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(value: object) -> str:
    """`value` as text with no character that could start a new output line or drive a terminal."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_visible, text)


def has_unsafe(value: str) -> bool:
    return _UNSAFE.search(value) is not None
