"""Terraform `.tf` files to plain data plus spans, with tree-sitter-hcl.

The data has the shape of Terraform's JSON syntax: `{"resource": {TYPE: {NAME: body}}}`, nested blocks
as lists of bodies, literals as Python values and every other expression as the string "${...}" (the
convention python-hcl2 uses too; tests/test_hcl_oracle.py checks our values against python-hcl2's).
tree-sitter parses about 20x faster than python-hcl2 and gives every node a position.
"""

from __future__ import annotations

import json
import re

from ..model import Span
from .errors import LoadError

_parser = None


def _get_parser():
    global _parser
    if _parser is None:
        import tree_sitter
        import tree_sitter_hcl

        _parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
    return _parser


def _span(node) -> Span:
    (l1, c1), (l2, c2) = node.start_point, node.end_point
    return Span(l1 + 1, c1 + 1, l2 + 1, c2 + 1)


_ESCAPES = re.compile(r'\\(["\\nrt]|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})')


def _unescape(text: str) -> str:
    def repl(m):
        s = m.group(1)
        if s[0] in "uU":
            return chr(int(s[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t"}.get(s, s)

    return _ESCAPES.sub(repl, text) if "\\" in text else text


class _Converter:
    def __init__(self, src: bytes):
        self.src = src
        self.spans: dict = {}

    def text(self, node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def label(self, node) -> str:
        if node.type == "string_lit":
            return "".join(self.text(c) for c in node.named_children if c.type == "template_literal")
        return self.text(node)

    def body(self, node, path: tuple, out: dict) -> dict:
        for child in node.named_children:
            if child.type == "attribute":
                name = self.text(child.named_children[0])
                out[name] = self.expression(child.named_children[1], path + (name,))
                self.spans[path + (name,)] = _span(child)
            elif child.type == "block":
                self.block(child, path, out)
        return out

    def block(self, node, path: tuple, out: dict, top: bool = False) -> None:
        kids = node.named_children
        btype = self.text(kids[0])
        labels = [self.label(k) for k in kids[1:] if k.type in ("string_lit", "identifier")]
        body_node = next((k for k in kids if k.type == "body"), None)
        if top and btype == "locals":
            # every `locals` block of a file shares one namespace
            target = out.setdefault("locals", {})
            self.spans.setdefault(path + ("locals",), _span(node))
            if body_node is not None:
                self.body(body_node, path + ("locals",), target)
            return
        if top:
            # top-level blocks are keyed by their labels: resource.TYPE.NAME
            container, cpath = out, path
            for key in [btype] + labels[:-1]:
                container = container.setdefault(key, {})
                cpath = cpath + (key,)
                self.spans.setdefault(cpath, _span(node))
            key = labels[-1] if labels else btype
            if not labels:
                container, cpath, key = out, path, btype
            bpath = cpath + (key,)
            target = {}
            container[key] = target
        else:
            # nested blocks repeat: a list of bodies, labelled ones as {label: body}
            lst = out.setdefault(btype, [])
            bpath = path + (btype, len(lst))
            self.spans.setdefault(path + (btype,), _span(node))
            target = {}
            if labels:
                lst.append({labels[0]: target})
                self.spans[bpath] = _span(node)
                bpath = bpath + (labels[0],)
            else:
                lst.append(target)
        self.spans[bpath] = _span(node)
        if body_node is not None:
            self.body(body_node, bpath, target)

    def expression(self, node, path: tuple):
        self.spans[path] = _span(node)
        kind = node.type
        if kind == "expression" and node.named_child_count == 1:
            return self.expression(node.named_children[0], path)
        if kind == "literal_value":
            return self.expression(node.named_children[0], path)
        if kind == "collection_value":
            return self.expression(node.named_children[0], path)
        if kind == "numeric_lit":
            text = self.text(node)
            try:
                return int(text)
            except ValueError:
                return float(text)
        if kind == "bool_lit":
            return self.text(node) == "true"
        if kind == "null_lit":
            return None
        if kind == "string_lit":
            parts = node.named_children
            if all(p.type in ("quoted_template_start", "quoted_template_end", "template_literal") for p in parts):
                return _unescape("".join(self.text(p) for p in parts if p.type == "template_literal"))
            # a string with ${...} inside keeps its source text, as python-hcl2 does
            return self.text(node)[1:-1]
        if kind == "tuple":
            items = [c for c in node.named_children if c.type == "expression"]
            return [self.expression(c, path + (i,)) for i, c in enumerate(items)]
        if kind == "object":
            out = {}
            for elem in node.named_children:
                if elem.type != "object_elem":
                    continue
                key_node, value_node = elem.named_children[0], elem.named_children[-1]
                key = self.object_key(key_node)
                out[key] = self.expression(value_node, path + (key,))
                self.spans[path + (key,)] = _span(elem)
            return out
        if kind == "template_expr":
            inner = node.named_children[0] if node.named_child_count else node
            if inner.type == "quoted_template":
                return _unescape(self.text(inner)[1:-1])
            return self.heredoc(node)
        return "${" + self.text(node) + "}"

    def object_key(self, node) -> str:
        inner = node
        while inner.named_child_count == 1 and inner.type in ("expression", "literal_value", "variable_expr"):
            inner = inner.named_children[0]
        if inner.type == "string_lit":
            return self.label(inner)
        text = self.text(node)
        return text[1:-1] if text.startswith("(") and text.endswith(")") else text

    def heredoc(self, node) -> str:
        text = self.text(node)
        lines = text.split("\n")
        body = lines[1:-1]
        if lines[0].startswith("<<-"):
            indent = min((len(l) - len(l.lstrip()) for l in body if l.strip()), default=0)
            body = [l[indent:] for l in body]
        return "\n".join(body) + ("\n" if body else "")


def _first_error(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return node


def load_hcl(text: str) -> tuple[dict, dict]:
    src = text.encode("utf-8")
    tree = _get_parser().parse(src)
    root = tree.root_node
    if root.has_error:
        bad = _first_error(root)
        near = src[bad.start_byte:bad.end_byte].decode("utf-8", "replace").split("\n")[0][:40]
        what = f"missing {bad.type}" if bad.is_missing else f"unexpected {json.dumps(near)}" if near else "syntax error"
        raise LoadError(f"invalid HCL: {what}", bad.start_point[0] + 1, bad.start_point[1] + 1)
    conv = _Converter(src)
    data: dict = {}
    conv.spans[()] = _span(root)
    body = next((c for c in root.named_children if c.type == "body"), None)
    if body is not None:
        for child in body.named_children:
            if child.type == "block":
                conv.block(child, (), data, top=True)
            elif child.type == "attribute":  # .tfvars style
                name = conv.text(child.named_children[0])
                data[name] = conv.expression(child.named_children[1], (name,))
                conv.spans[(name,)] = _span(child)
    return data, conv.spans
