"""Reading Rego files: package, rule heads, `# METADATA` annotations, and the static checks the embedded
evaluator does not do itself (undefined functions, network built-ins).

Nothing here evaluates Rego: this is the part of a policy that prr-lint needs before any input exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

# conftest's rule names: deny, violation, warn, or one of them with a `_suffix`
RESULT_RULE = re.compile(r"^(deny|violation|warn)(_[A-Za-z0-9_]+)?$")
NETWORK_BUILTINS = ("http.send", "net.lookup_ip_addr")
# a network built-in named anywhere in code (not only where `calls` sees a call): at the start of a line, as a
# `with ... as` target, with blanks around the dot; never inside a string or a comment (those are blanked first)
_NETWORK = re.compile(r"(?<![\w.])(http\s*\.\s*send|net\s*\.\s*lookup_\w+)\b")
KEYWORDS = {"if", "not", "some", "every", "in", "contains", "else", "with", "as", "default", "package", "import",
            "true", "false", "null"}

_PACKAGE = re.compile(r"^package\s+([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\s*$", re.M)
_HEAD = re.compile(r"^([A-Za-z_]\w*)\b")
_CALL = re.compile(r"(?<![\w.\]\)])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(")


class PolicySourceError(Exception):
    """A problem in a .rego file, with its place: str() is `file:line:col: message`."""

    def __init__(self, file: str, line: int, col: int, message: str):
        super().__init__(f"{file}:{line}:{col}: {message}")
        self.file, self.line, self.col, self.message = file, line, col, message


@dataclass
class Annotation:
    scope: str                    # package, rule, document, subpackages
    target: str | None            # rule name for rule/document scope
    data: dict
    line: int


@dataclass
class RegoFile:
    path: str                     # as shown to the user (relative to the working directory when possible)
    text: str
    package: str
    package_line: int
    heads: dict = field(default_factory=dict)          # rule/function name -> first line
    annotations: list = field(default_factory=list)
    is_test: bool = False

    @property
    def result_rules(self) -> list[str]:
        return sorted(n for n in self.heads if RESULT_RULE.match(n))

    @property
    def test_rules(self) -> list[str]:
        return [n for n in self.heads if n.startswith("test_")]

    def package_annotation(self) -> dict:
        for a in self.annotations:
            if a.scope in ("package", "subpackages"):
                return a.data
        return {}

    def rule_annotation(self, name: str) -> dict:
        for a in self.annotations:
            if a.scope in ("rule", "document") and a.target == name:
                return a.data
        return {}


def blank_strings_and_comments(text: str) -> str:
    """`text` with the inside of strings and comments replaced by spaces: offsets and lines are kept."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out[i + 1:min(j, n)] = " " * (min(j, n) - i - 1)
            i = j + 1
        elif ch == "`":
            j = text.find("`", i + 1)
            j = n if j < 0 else j
            out[i + 1:j] = ["\n" if c == "\n" else " " for c in text[i + 1:j]]
            i = j + 1
        else:
            i += 1
    return "".join(out)


def line_col(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _metadata_blocks(lines: list[str]) -> list[tuple[int, str, int]]:
    """(line of `# METADATA`, the block's YAML text, index of the first line after the block)."""
    out: list[tuple[int, str, int]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "# METADATA":
            start = i
            body = []
            i += 1
            while i < len(lines) and lines[i].lstrip().startswith("#"):
                stripped = lines[i].lstrip()[1:]
                body.append(stripped[1:] if stripped.startswith(" ") else stripped)
                i += 1
            out.append((start + 1, "\n".join(body), i))
        else:
            i += 1
    return out


def parse(path: str, text: str) -> RegoFile:
    blank = blank_strings_and_comments(text)
    m = _PACKAGE.search(blank)
    if m is None:
        raise PolicySourceError(path, 1, 1, "rego_parse_error: no package declaration")
    package = text[m.start(1):m.end(1)]
    package_line = line_col(text, m.start())[0]
    lines = text.split("\n")
    blank_lines = blank.split("\n")
    heads: dict = {}
    for n, line in enumerate(blank_lines, 1):
        h = _HEAD.match(line)
        if h and h.group(1) not in KEYWORDS:
            heads.setdefault(h.group(1), n)
    annotations = []
    for line_no, body, after in _metadata_blocks(lines):
        try:
            data = yaml.safe_load(body) if body.strip() else {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = line_no + 1 + (mark.line if mark else 0)
            raise PolicySourceError(path, where, 1, f"rego_parse_error: invalid METADATA YAML: "
                                    f"{getattr(e, 'problem', None) or e}") from None
        if not isinstance(data, dict):
            raise PolicySourceError(path, line_no, 1, "rego_parse_error: METADATA must be a YAML mapping")
        # what the block annotates: the next non-blank line
        j = after
        while j < len(blank_lines) and not blank_lines[j].strip():
            j += 1
        nxt = blank_lines[j] if j < len(blank_lines) else ""
        if nxt.startswith("package"):
            scope, target = data.get("scope", "package"), None
        else:
            h = _HEAD.match(nxt)
            scope, target = data.get("scope", "rule"), (h.group(1) if h else None)
        annotations.append(Annotation(str(scope), target, data, line_no))
    return RegoFile(path, text, package, package_line, heads, annotations,
                    is_test=path.endswith("_test.rego"))


def calls(f: RegoFile) -> list[tuple[str, int, int]]:
    """(called name, line, col) of every call expression in a file."""
    blank = blank_strings_and_comments(f.text)
    out = []
    for m in _CALL.finditer(blank):
        name = m.group(1)
        if name in KEYWORDS:
            continue
        # a rule or function head at the start of a line is a definition, not a call
        start_of_line = blank.rfind("\n", 0, m.start()) + 1
        if m.start() == start_of_line:
            continue
        line, col = line_col(f.text, m.start())
        out.append((name, line, col))
    return out


def network_uses(f: RegoFile) -> list[tuple[str, int, int]]:
    """(built-in, line, col) of every network built-in the code of a file names."""
    blank = blank_strings_and_comments(f.text)
    return [(re.sub(r"\s+", "", m.group(1)), *line_col(f.text, m.start())) for m in _NETWORK.finditer(blank)]


def check_calls(files: list[RegoFile], is_builtin, allow_net: bool, embedded: bool) -> None:
    """Raise PolicySourceError for a network built-in without allow_net (before any policy is pushed to a
    server), for one in embedded mode (rego-cpp has none), and for a call to a function that is neither a
    built-in nor defined by the policies (the embedded evaluator would silently make it undefined)."""
    for f in files:
        for name, line, col in network_uses(f):
            if not allow_net:
                raise PolicySourceError(f.path, line, col, f"rego_type_error: {name}: network built-in refused "
                                                           "(pass --allow-net to allow it on an OPA server)")
            if embedded:
                raise PolicySourceError(f.path, line, col, f"rego_type_error: {name}: not available in the embedded "
                                                           "evaluator; evaluate on an OPA server with --opa-url")
    defined = {name for f in files for name in f.heads}
    imports = {m.group(2) or m.group(1).rsplit(".", 1)[-1]
               for f in files for m in re.finditer(r"^import\s+([\w.]+)(?:\s+as\s+(\w+))?", f.text, re.M)}
    for f in files:
        for name, line, col in calls(f):
            last = name.rsplit(".", 1)[-1]
            if name in NETWORK_BUILTINS or name.startswith("net.lookup"):
                continue  # checked above
            if not embedded:
                continue
            if is_builtin(name) or last in defined:
                continue
            if "." in name and name.split(".", 1)[0] in imports | {"data"} and last in defined:
                continue
            raise PolicySourceError(f.path, line, col, f"rego_type_error: undefined function {name}")
