"""Make values read from a repository safe to print on one line of any output channel.

A file name, an alert name or a YAML value comes from a pull request: printed raw, a newline or carriage
return in it starts a new line of CI output, where a runner reads `::add-mask::`, `::error ...` or
`##vso[...]` as a command. Every channel (text, gate verdicts, stderr, JUnit, Markdown) prints repository
values through `one_line`, which shows control and line-breaking characters as visible escapes.

What the runners honour (why each rule below exists):
- GitHub reads `::cmd::` at the start of a line after leading white space, and the older `##[cmd]` anywhere
  in a line; Azure Pipelines reads `##vso[` anywhere in a line. Lines end at `\\n` or `\\r`, and a log viewer
  or `str.splitlines()` also breaks at `\\x0b`, `\\x0c`, `\\x1c`-`\\x1e`, `\\x85`, U+2028 and U+2029.
- So no value may carry a line break, `##[` or `##vso[` may never appear raw, and a value that starts a line
  (a file name in text output) may not start with `::`.
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls, DEL, Unicode line/paragraph separators, bidirectional overrides (text that reads
# differently from what it is), the noncharacters XML forbids, and lone surrogates (file names read with
# surrogateescape): none of them may reach a terminal or a CI log raw.
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff"
_UNSAFE = re.compile(f"[{_CONTROL}]")
# `##[` (GitHub's older command syntax) and `##vso[` (Azure) are commands wherever they appear in a line
_COMMAND = re.compile(r"##(?=(?:vso)?\[)", re.IGNORECASE)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _visible(match: re.Match) -> str:
    ch = match.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:        # a byte that was not UTF-8 (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, keep: str = "") -> str:
    """`value` as text with every unsafe character shown as an escape, except those in `keep` (for channels
    that carry a line break safely, such as an XML text node or a percent-encoded annotation)."""
    text = value if isinstance(value, str) else str(value)
    if keep:
        text = _UNSAFE.sub(lambda m: m.group(0) if m.group(0) in keep else _visible(m), text)
    else:
        text = _UNSAFE.sub(_visible, text)
    return _COMMAND.sub("#\\\\x23", text)


def one_line(value: object) -> str:
    """`value` as text with no character that could start a new output line or drive a terminal."""
    return printable(value)


def line_start(value: object, keep: str = "") -> str:
    """`one_line` for a value that begins an output line (a file name in text output): a leading `::`,
    even after white space, would make the line a GitHub workflow command."""
    text = printable(value, keep)
    body = text.lstrip()
    if body.startswith("::"):
        return text[:len(text) - len(body)] + "\\x3a" + body[1:]
    return text


def multi_line(text: str) -> str:
    """A block of text (a rule's reference page) printed as several lines: each line made safe on its own;
    tabs kept, other control characters shown as escapes."""
    return "\n".join(line_start(line, keep="\t") for line in text.replace("\r\n", "\n").split("\n"))


def valid_unicode(value: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate (a file name byte that was not UTF-8) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def deep_valid_unicode(obj: Any) -> Any:
    """`valid_unicode` applied to every string (keys and values) of a JSON-like structure."""
    if isinstance(obj, str):
        return valid_unicode(obj)
    if isinstance(obj, dict):
        return {deep_valid_unicode(k): deep_valid_unicode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [deep_valid_unicode(v) for v in obj]
    return obj


def json_text(text: str) -> str:
    """Serialized JSON (ASCII, so no raw line break) that an Azure or GitHub log would still scan for `##vso[`
    and `##[` anywhere in a line: `#` written as the JSON escape `\\u0023` keeps the data exact for a reader.
    `#` only occurs inside JSON strings, so the rewrite cannot touch the structure."""
    return _COMMAND.sub("#\\\\u0023", text)


def has_unsafe(value: str) -> bool:
    return _UNSAFE.search(value) is not None or _COMMAND.search(value) is not None
