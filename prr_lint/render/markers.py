"""Line markers: instrument a Helm template so each rendered line tells which template line emitted it.

A marker is a YAML comment appended to a template line (`  # prr-line:12`). It does not move any line, so the
line numbers in Helm's own errors stay those of the source, and it is dropped by any YAML parser, so the
rendered objects are unchanged. A line is marked only where a trailing comment cannot change the output:
not inside a multi-line `{{ ... }}` action, not in a block scalar or an open quoted string, not a line made of
actions only (`{{- if }}`, whose `{{-` would glue the comment to the line before), and not after a `-}}` that
trims what follows. A rendered line without a marker takes the next marker of its document (the output of
`toYaml ... | nindent` or `include` ends on the line that called it), else the previous one.
"""

from __future__ import annotations

import re

MARKER = "# prr-line:"
_MARKER_AT_END = re.compile(r"\s#\s?prr-line:(\d+)\s*$")
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_CONTROL = re.compile(r"(if|else|end|range|with|define|block|break|continue)\b|/\*")
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$|^\s*-\s+[|>][-+0-9]*\s*(#.*)?$")


def instrument(text: str) -> tuple[str, int]:
    """The template with a marker on every line where one is safe, and how many lines were marked."""
    out: list[str] = []
    marked = 0
    depth = 0                     # `{{` not yet closed: an action that spans lines
    block_indent: int | None = None   # indentation of the key that opened a block scalar
    for number, line in enumerate(text.split("\n"), 1):
        body = line.rstrip("\r")
        was_open = depth > 0
        depth = max(0, depth + body.count("{{") - body.count("}}"))
        safe = not was_open and depth == 0
        indent = len(body) - len(body.lstrip(" "))
        literal = _ACTION.sub("", body)
        if block_indent is not None:
            # a line of actions only (`{{- if }}` at column 0) neither ends the block nor may be marked
            if literal.strip() and indent <= block_indent and not literal.strip().startswith("#"):
                block_indent = None
            else:
                safe = False
        if safe and not was_open and _BLOCK_SCALAR.search(literal.rstrip()):
            block_indent = indent
        if safe and _markable(body, literal):
            body = f"{body}  {MARKER}{number}"
            marked += 1
        out.append(body + ("\r" if line.endswith("\r") else ""))
    return "\n".join(out), marked


def _markable(body: str, literal: str) -> bool:
    stripped = literal.strip()
    if body.rstrip().endswith("-}}") or "{{/*" in body or stripped.startswith("#") or stripped == "---":
        return False
    if not stripped:
        # a line of actions only: marked when each one prints something (`toYaml ... | nindent`, `include`)
        actions = _ACTION.findall(body)
        return bool(actions) and all(_prints(a) for a in actions)
    # an open quoted string or flow collection continues on the next line
    if stripped.count('"') - stripped.count('\\"') & 1 or _single_quotes_open(stripped):
        return False
    return stripped.count("[") == stripped.count("]") and stripped.count("{") == stripped.count("}")


def _prints(action: str) -> bool:
    inner = action[2:-2].strip().lstrip("-").strip()
    return not _CONTROL.match(inner) and ":=" not in inner and not re.match(r"\$\w*\s*=", inner)


def _single_quotes_open(text: str) -> bool:
    # in YAML a single quote only opens a string at the start of a scalar (after `: `, `- ` or the line start)
    quoted = re.findall(r"(?:^|:\s|-\s|\[|,\s?)'", text)
    return bool(quoted) and text.replace("''", "").count("'") % 2 == 1


def source_lines(rendered: str) -> list[int | None]:
    """For each line of a rendered template, the template line that emitted it (None: not known)."""
    lines = rendered.split("\n")
    own: list[int | None] = []
    for line in lines:
        m = _MARKER_AT_END.search(line)
        own.append(int(m.group(1)) if m else None)
    out: list[int | None] = [None] * len(lines)
    following: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip() == "---":
            following = None       # a document never takes the marker of the next one
        if own[i] is not None:
            following = own[i]
        out[i] = following
    previous: int | None = None
    for i, line in enumerate(lines):
        if line.strip() == "---":
            previous = None
        if own[i] is not None:
            previous = own[i]
        if out[i] is None:
            out[i] = previous
    return out


def exact_lines(rendered: str) -> set[int]:
    """0-based indices of rendered lines that carry their own marker (their template line is exact)."""
    return {i for i, line in enumerate(rendered.split("\n")) if _MARKER_AT_END.search(line)}
