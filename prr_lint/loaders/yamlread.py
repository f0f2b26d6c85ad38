"""YAML (and JSON) to plain data plus spans, using libyaml's composer for speed.

ruamel.yaml stays the tool for writing YAML that must keep its comments; for reading, PyYAML's C
composer gives every node its line and column about 25x faster (see bench/README.md).
"""

from __future__ import annotations

import datetime

import yaml

from ..model import Span
from .errors import LoadError

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing: slower but correct
    _Loader = yaml.SafeLoader

MAX_DEPTH = 200
MAX_NODES_PER_BYTE = 50      # an alias bomb expands far beyond its size; real files stay well under
MIN_NODE_BUDGET = 200_000

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _flow_depth(text: str) -> int:
    """Bracket depth, quote-naive: libyaml overflows its C stack on very deep flow nesting."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be deeper than the number of openers
    depth = best = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > best:
                best = depth
        elif ch in "]}":
            depth -= 1
    return best


class _Converter:
    def __init__(self, loader, lines: list[str], budget: int):
        self.loader = loader
        self.lines = lines
        self.budget = budget
        self.spans: dict = {}

    def span(self, start, end) -> Span:
        line, col = end.line, end.column
        # a block collection ends at column 0 of the next line: pull it back to the last character
        if col == 0 and line > start.line:
            line -= 1
            col = len(self.lines[line]) if line < len(self.lines) else 0
        # end column is exclusive and 1-based, like SARIF's endColumn
        return Span(start.line + 1, start.column + 1, line + 1, col + 1)

    def convert(self, node, path: tuple, entry_span: Span | None = None):
        self.budget -= 1
        if self.budget < 0:
            raise LoadError("document expands to too many nodes (YAML alias bomb?)", node.start_mark.line + 1,
                            node.start_mark.column + 1)
        if len(path) > MAX_DEPTH:
            raise LoadError(f"document is nested deeper than {MAX_DEPTH} levels", node.start_mark.line + 1,
                            node.start_mark.column + 1)
        self.spans[path] = entry_span or self.span(node.start_mark, node.end_mark)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            try:
                value = self.loader.construct_object(node, deep=True)
            except (ValueError, TypeError, OverflowError, yaml.YAMLError):
                return node.value  # e.g. 2026-13-40: keep the text, the schema says what is wrong
            if isinstance(value, (datetime.date, datetime.datetime)):
                return value.isoformat()
            if isinstance(value, bytes):
                return node.value
            return value
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
                self.loader.flatten_mapping(node)
            out = {}
            for key_node, value_node in node.value:
                # keys are read as written: YAML 1.1 would turn `on:` into True
                if isinstance(key_node, yaml.ScalarNode):
                    key = key_node.value
                else:
                    key = str(self.convert(key_node, path + ("<key>",)))
                out[key] = self.convert(value_node, path + (key,),
                                        self.span(key_node.start_mark, value_node.end_mark))
            return out
        raise LoadError(f"unsupported YAML node {node!r}", node.start_mark.line + 1)  # pragma: no cover


def load_yaml(text: str) -> list[tuple[object, dict, int]]:
    """Every document of a YAML stream as (data, spans, start line). Raises LoadError."""
    if _flow_depth(text) > MAX_DEPTH:
        raise LoadError(f"document is nested deeper than {MAX_DEPTH} levels", 1, 1)
    loader = _Loader(text)
    lines = text.splitlines()
    budget = max(MIN_NODE_BUDGET, MAX_NODES_PER_BYTE * len(text))
    out = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            conv = _Converter(loader, lines, budget)
            data = conv.convert(node, ())
            budget = conv.budget
            out.append((data, conv.spans, node.start_mark.line + 1))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if mark is not None and mark.line >= len(lines) and e.context_mark is not None:
            mark = e.context_mark  # "unexpected end of stream": point where the unclosed thing started
        msg = " ".join(p for p in (e.context, e.problem) if p) or str(e)
        raise LoadError(f"invalid YAML: {msg}", mark.line + 1 if mark else 1, mark.column + 1 if mark else 1) from None
    except yaml.YAMLError as e:
        raise LoadError(f"invalid YAML: {e}", 1, 1) from None
    except (ValueError, TypeError, OverflowError) as e:  # bad timestamps and the like from the constructor
        raise LoadError(f"invalid YAML value: {e}", 1, 1) from None
    finally:
        loader.dispose()
    return out
