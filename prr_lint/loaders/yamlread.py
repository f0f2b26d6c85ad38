"""YAML (and JSON) to plain data plus spans, using libyaml's composer for speed.

ruamel.yaml stays the tool for writing YAML that must keep its comments; for reading, PyYAML's C
composer gives every node its line and column about 25x faster (see bench/README.md).
"""

from __future__ import annotations

import datetime
import functools
import sys
from functools import cache

import yaml

from ..model import Span
from ..shared import SHORT
from .errors import LoadError

_Loader: type[yaml.CSafeLoader] | type[yaml.SafeLoader]
try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing: slower but correct
    _Loader = yaml.SafeLoader

MAX_DEPTH = 200
MAX_NODES_PER_BYTE = 50      # an alias bomb expands far beyond its size; real files stay well under
MIN_NODE_BUDGET = 200_000

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


_PROBE_DEPTH = 100_000


@cache
def _parser_limits_depth() -> bool:
    """Whether libyaml refuses deep nesting itself (0.2.5 and later stop at 1000 levels). An older one
    would hand PyYAML's recursive C composer a tree deep enough to overflow the C stack."""
    if _Loader is not getattr(yaml, "CSafeLoader", None):
        return True  # the pure-Python composer raises RecursionError, which load_file reports
    loader = _Loader("[" * _PROBE_DEPTH)
    try:
        while loader.check_event():
            loader.get_event()
    except yaml.YAMLError as e:
        return "nesting depth" in str(e)
    finally:
        loader.dispose()
    return False  # pragma: no cover - depends on the libyaml PyYAML was built with


def _check_depth(text: str) -> None:
    """For a libyaml without its own limit: the real depth, from the parser's events (libyaml's parser
    keeps its own stack, so events are safe at any depth), before the recursive composer sees it.
    Quotes, comments and block scalars are the parser's business, so a `[` inside a string never counts."""
    if text.count("[") + text.count("{") + text.count("-") + text.count(":") + text.count("?") <= MAX_DEPTH:
        return  # cannot be deeper than the number of collection indicators
    loader = _Loader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(event.start_mark)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # a syntax error: the real parse reports it at its place
    finally:
        loader.dispose()


def _too_deep(mark) -> LoadError:
    return LoadError(f"document is nested deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1)


def _reader_position(text: str, position: int) -> tuple[int, int]:
    """Line and column of a reader error: libyaml counts UTF-8 bytes, PyYAML's own reader characters."""
    if _Loader is getattr(yaml, "CSafeLoader", None):
        before = text.encode("utf-8")[:position].decode("utf-8", "ignore")
    else:  # pragma: no cover - libyaml missing
        before = text[:position]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


# a YAML node's end mark never precedes its start: build the Span tuple without normalising it again
# (a quarter of a million spans in a large monorepo's first run)
_new_span = functools.partial(tuple.__new__, Span)
_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
_intern = sys.intern     # keys and short values repeat across a run's documents: one string each (see shared.py)


def _short(value: str) -> str:
    return _intern(value) if len(value) <= SHORT else value
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


class _MergeKey(Exception):
    """A merge key in a text that _convert_document read as having none."""


def _convert_document(loader, root, lines: list[str], budget: int, shared: bool) -> tuple[object, dict, list, int]:
    """(data, spans, duplicate keys, budget left) of one composed document, in one pass over its nodes.

    `shared`: the text has anchors or merge keys, so a node may be met twice (an alias) and a mapping may
    take keys from another (`<<`); without them each mapping is read once and a repeated key is a duplicate
    (a merge key met anyway, written as a `!!merge` tag, raises _MergeKey: the caller reads it shared).
    It runs for every node of every YAML file, so it keeps to local names and calls few functions.
    """
    spans: dict = {}
    duplicates: list = []
    seen: set = set()
    bool_values = loader.bool_values
    nlines = len(lines)
    new_span = _new_span

    def span(start, end) -> Span:
        line, col = end.line, end.column
        # a block collection ends at column 0 of the next line: pull it back to the last character
        if col == 0 and line > start.line:
            line -= 1
            col = len(lines[line]) if line < nlines else 0
        # end column is exclusive and 1-based, like SARIF's endColumn
        return new_span((start.line + 1, start.column + 1, line + 1, col + 1))

    def duplicate(path: tuple, key: str, first_line: int, key_node) -> None:
        # plain data (JSON-friendly, for the parse cache); PRR008 reports it
        duplicates.append({"path": list(path), "key": key, "first": first_line,
                           "line": key_node.start_mark.line + 1, "col": key_node.start_mark.column + 1})

    def scalar(node):
        tag, text = node.tag, node.value
        if tag == _STR:
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL and text.lower() in bool_values:
            return bool_values[text.lower()]
        # YAML 1.1: a leading 0 is octal, and `_`, `0x`, `0b`, `1:30` and too many digits are the constructor's
        if tag == _INT and len(text) < 19 and text.isdigit() and text.isascii() and (text[0] != "0" or text == "0"):
            return int(text)
        try:
            value = loader.construct_object(node, deep=True)
        # e.g. 2026-13-40: keep the text, the schema says what is wrong. PyYAML's constructors fail in other ways
        # on text a tag forces on them (`!!bool x`, `!!timestamp x`, `!!int +`)
        except (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError, yaml.YAMLError):
            return text
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        if isinstance(value, bytes):
            return text
        return value

    def convert(node, path: tuple, node_span: Span):
        nonlocal budget
        budget -= 1
        if budget < 0:
            raise LoadError("document expands to too many nodes (YAML alias bomb?)", node.start_mark.line + 1,
                            node.start_mark.column + 1)
        if len(path) > MAX_DEPTH:
            raise LoadError(f"document is nested deeper than {MAX_DEPTH} levels", node.start_mark.line + 1,
                            node.start_mark.column + 1)
        spans[path] = node_span
        cls = type(node)
        if cls is _ScalarNode:
            return node.value if node.tag == _STR else scalar(node)
        if cls is _SequenceNode:
            return [convert(item, path + (i,), span(item.start_mark, item.end_mark))
                    for i, item in enumerate(node.value)]
        if cls is _MappingNode:
            return mapping(node, path)
        raise LoadError(f"unsupported YAML node {node!r}", node.start_mark.line + 1)  # pragma: no cover

    def too_deep(node) -> None:
        """A collection at the depth limit cannot hold anything: refused at its first child, as convert would."""
        first = node.value[0] if type(node) is _SequenceNode else \
            node.value[0][0] if type(node.value[0][0]) is not _ScalarNode else node.value[0][1]
        raise LoadError(f"document is nested deeper than {MAX_DEPTH} levels", first.start_mark.line + 1,
                        first.start_mark.column + 1)

    def plain(node, path: tuple):
        """A collection of a text without anchors or merge keys: the same result as convert, with fewer calls
        (scalars inline; no node budget: without aliases a text has at most about one node per character)."""
        if len(path) >= MAX_DEPTH and node.value:
            too_deep(node)
        if type(node) is _SequenceNode:
            items = []
            for i, item in enumerate(node.value):
                item_path = path + (i,)
                spans[item_path] = span(item.start_mark, item.end_mark)
                if type(item) is _ScalarNode:
                    items.append(item.value if item.tag == _STR else scalar(item))
                else:
                    items.append(plain(item, item_path))
            return items
        out: dict = {}
        written: set | None = None   # scalar keys so far, once a complex key could collide with one
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:    # `!!merge` written out, without `<<`: the careful path merges it
                raise _MergeKey
            if type(key_node) is _ScalarNode:
                key = _intern(key_node.value)
                if key in out and (written is None or key in written):
                    first = next(k.start_mark.line + 1 for k, _ in node.value
                                 if type(k) is _ScalarNode and k.value == key)
                    duplicate(path, key, first, key_node)
                if written is not None:
                    written.add(key)
            else:
                if written is None:
                    written = set(out)
                key_path = path + ("<key>",)
                spans[key_path] = span(key_node.start_mark, key_node.end_mark)
                key = str(plain(key_node, key_path))
            value_path = path + (key,)
            spans[value_path] = span(key_node.start_mark, value_node.end_mark)
            if type(value_node) is _ScalarNode:
                out[key] = _short(value_node.value) if value_node.tag == _STR else scalar(value_node)
            else:
                out[key] = plain(value_node, value_path)
        return out

    def mapping(node, path: tuple) -> dict:
        # keys written in this mapping, with the line of the first of each: a key a merge (`<<`) brings
        # and the mapping overrides is how merges work, not a duplicate
        explicit: dict[yaml.Node, int] = {}
        first: dict[str, int] = {}
        if node not in seen:  # an aliased mapping is met again, already flattened: once is enough
            seen.add(node)
            for k, _ in node.value:
                if k.tag != _MERGE and isinstance(k, _ScalarNode):
                    explicit[k] = first.setdefault(k.value, k.start_mark.line + 1)
        if any(k.tag == _MERGE for k, _ in node.value):
            loader.flatten_mapping(node)
        out, written = {}, set()
        for key_node, value_node in node.value:
            # keys are read as written: YAML 1.1 would turn `on:` into True
            if isinstance(key_node, _ScalarNode):
                key = _intern(key_node.value)
            else:
                key = str(convert(key_node, path + ("<key>",), span(key_node.start_mark, key_node.end_mark)))
            if key_node in explicit:
                if key in written:
                    duplicate(path, key, explicit[key_node], key_node)
                written.add(key)
            out[key] = convert(value_node, path + (key,), span(key_node.start_mark, value_node.end_mark))
        return out

    root_span = span(root.start_mark, root.end_mark)
    if shared:
        data = convert(root, (), root_span)
    else:
        budget -= 1
        spans[()] = root_span
        data = (root.value if root.tag == _STR else scalar(root)) if type(root) is _ScalarNode else plain(root, ())
    return data, spans, duplicates, budget


def load_yaml(text: str, duplicates: list | None = None) -> list[tuple[object, dict, int]]:
    """Every document of a YAML stream as (data, spans, start line). Raises LoadError.
    `duplicates` gets, per document, the keys written twice in one mapping (the last one wins)."""
    if not _parser_limits_depth():
        _check_depth(text)
    loader = _Loader(text)
    lines = text.splitlines()
    budget = max(MIN_NODE_BUDGET, MAX_NODES_PER_BYTE * len(text))
    # without an anchor no node is met twice, and without `<<` no mapping merges another
    shared = "&" in text or "<<" in text
    out = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            try:
                data, spans, dups, budget = _convert_document(loader, node, lines, budget, shared)
            except _MergeKey:
                shared = True
                data, spans, dups, budget = _convert_document(loader, node, lines, budget, shared)
            out.append((data, spans, node.start_mark.line + 1))
            if duplicates is not None:
                duplicates.append(dups)
    except yaml.reader.ReaderError as e:  # a raw control character: at its own line and column
        line, col = _reader_position(text, e.position)
        raise LoadError(f"invalid YAML: {_character(e.character)}: {e.reason}", line, col) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if e.problem and "nesting depth" in e.problem:  # libyaml's own limit
            raise _too_deep(mark) from None
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


def _character(value) -> str:
    code = value if isinstance(value, int) else ord(value) if isinstance(value, str) and len(value) == 1 else None
    return f"character U+{code:04X}" if code is not None else "unacceptable character"
