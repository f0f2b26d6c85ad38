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
MARKER_TEXT = "prr-line:"
_MARKER_AT_END = re.compile(r"\s#\s?prr-line:(\d+)\s*$")
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_CONTROL = re.compile(r"(if|else|end|range|with|define|block|break|continue)\b|/\*")
_BLOCK_SCALAR = re.compile(r"(?::\s+|^\s*(?:-\s+)+)(?:[!&]\S*\s+)*[|>][-+0-9]*\s*(#.*)?$")   # `key: |`, `- !!str >-`


def instrument(text: str) -> tuple[str, int]:
    """The template with a marker on every line where one is safe, and how many lines were marked."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    literals: list[str] = []      # each line without its actions ("" inside an action that spans lines)
    closed: list[bool] = []       # the line starts and ends outside any action
    depth = 0
    for body in lines:
        was_open = depth > 0
        depth = max(0, depth + body.count("{{") - body.count("}}"))
        closed.append(not was_open and depth == 0)
        literals.append("" if was_open else _ACTION.sub("", body))
    following = _next_indents(literals)
    out: list[str] = []
    marked = 0
    inside: int | None = None     # column a node's text continues under (block scalar, multi-line scalar)
    scalar_line = 0               # the line of a multi-line plain or quoted scalar's key (0: a block scalar)
    last_text: int | None = None  # the last line of that scalar so far
    for i, body in enumerate(lines):
        literal = literals[i]
        indent = len(literal) - len(literal.lstrip(" "))
        safe = closed[i]
        if inside is not None:
            # a line of actions only (`{{- if }}` at column 0) neither ends the text nor may be marked
            if literal.strip() and indent <= inside and not literal.strip().startswith("#"):
                if scalar_line and last_text is not None and _markable(out[last_text], literals[last_text]) \
                        and closed[last_text]:
                    # the scalar ends on its last line: a comment there is safe, and it names the key's line
                    out[last_text] += f"  {MARKER}{scalar_line}"
                    marked += 1
                inside, scalar_line, last_text = None, 0, None
            else:
                safe = False
                if literal.strip():
                    last_text = i
        if safe:
            if _BLOCK_SCALAR.search(literal.rstrip()):
                inside = indent
            else:
                column = _continued_at(literal)
                if column is not None and following[i] > column:
                    inside, safe = column, False     # a plain or quoted scalar that goes on below
                    scalar_line = i + 1
        if safe and _markable(body, literal):
            body = f"{body}  {MARKER}{i + 1}"
            marked += 1
        out.append(body)
    ends = text.split("\n")
    return "\n".join(b + ("\r" if e.endswith("\r") else "") for b, e in zip(out, ends, strict=True)), marked


def _next_indents(literals: list[str]) -> list[int]:
    """For each line, the indentation of the next line with text of its own (-1: none)."""
    out = [-1] * len(literals)
    nxt = -1
    for i in range(len(literals) - 1, -1, -1):
        out[i] = nxt
        stripped = literals[i].strip()
        if stripped and not stripped.startswith("#"):
            nxt = len(literals[i]) - len(literals[i].lstrip(" "))
    return out





_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'"
_SCALAR_ENTRY = re.compile(rf"^(\s*(?:-\s+)*)(?:([^\s#'\"][^:#]*?|{_QUOTED})\s*:\s+)?(\S.*)$")
_KEY = re.compile(rf"(?:{_QUOTED}|[^\s#'\"][^#]*?)\s*:(?:\s|$)")


def _continued_at(literal: str) -> int | None:
    """The column under which a line's scalar would continue (`key: some text` or `- some text`), or None."""
    m = _SCALAR_ENTRY.match(literal.rstrip())
    if not m:
        return None
    value = m.group(3)
    if value.startswith(("#", "&", "!")) or (m.group(2) is None and "-" not in m.group(1)):
        return None
    if m.group(2) is None and _KEY.match(value):
        return None               # `- key: value`: the key of a mapping in a sequence (matched above when set)
    prefix = m.group(1)
    return len(prefix) if m.group(2) is not None else len(prefix.rstrip()) - 1   # the key's column, or the dash's


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


def line_map(rendered: str) -> tuple[list[int | None], set[int]]:
    """For each line of a rendered template, the template line that emitted it (None: not known), and the
    0-based indices of the lines that carry their own marker (their template line is exact). One pass each way;
    the regular expression runs only on the lines that hold a marker."""
    lines = rendered.split("\n")
    own: list[int | None] = [int(m.group(1)) if MARKER_TEXT in line and (m := _MARKER_AT_END.search(line)) else None
                             for line in lines]
    starts = [line.strip() == "---" for line in lines] if "---" in rendered else [False] * len(lines)
    out: list[int | None] = [None] * len(lines)
    following: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        if starts[i]:
            following = None       # a document never takes the marker of the next one
        if own[i] is not None:
            following = own[i]
        out[i] = following
    previous: int | None = None
    for i in range(len(lines)):
        if starts[i]:
            previous = None
        if own[i] is not None:
            previous = own[i]
        if out[i] is None:
            out[i] = previous
    return out, {i for i, n in enumerate(own) if n is not None}


def source_lines(rendered: str) -> list[int | None]:
    """For each line of a rendered template, the template line that emitted it (None: not known)."""
    return line_map(rendered)[0]


def exact_lines(rendered: str) -> set[int]:
    """0-based indices of rendered lines that carry their own marker (their template line is exact)."""
    return line_map(rendered)[1]
