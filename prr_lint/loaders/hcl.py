"""Terraform `.tf` files to plain data plus spans, with tree-sitter-hcl.

The data has the shape of Terraform's JSON syntax: `{"resource": {TYPE: {NAME: body}}}`, nested blocks
as lists of bodies, literals as Python values and every other expression as the string "${...}" (the
convention python-hcl2 uses too; tests/test_hcl_oracle.py checks our values against python-hcl2's).
tree-sitter parses about 20x faster than python-hcl2 and gives every node a position.
"""

from __future__ import annotations

import functools
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


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_MAX_DIGITS = 4000
# the top-level block types of Terraform: never an argument
BLOCK_TYPES = ("resource", "data", "locals", "variable", "output", "module", "provider", "terraform", "moved",
               "import", "check", "removed")


def _point(node) -> tuple[int, int]:
    return node.start_point[0] + 1, node.start_point[1] + 1


# a node never ends before it starts: build the Span tuple without normalising it (one per node of every file)
_new_span = functools.partial(tuple.__new__, Span)


def _span(node) -> Span:
    (l1, c1), (l2, c2) = node.start_point, node.end_point
    return _new_span((l1 + 1, c1 + 1, l2 + 1, c2 + 1))


_ESCAPES = re.compile(r'\\(["\\nrt]|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})')


def _unescape(text: str) -> str:
    def repl(m):
        s = m.group(1)
        if s[0] in "uU":
            try:
                return chr(int(s[1:], 16))
            except (ValueError, OverflowError):
                return m.group(0)
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
            return _unescape(self.inner(node))
        return self.text(node)

    def inner(self, node) -> str:
        """The source text between the quotes of a string (edge spaces are not in template_literal)."""
        kids = node.children
        start = kids[0].end_byte if kids and kids[0].type == "quoted_template_start" else node.start_byte + 1
        end = kids[-1].start_byte if kids and kids[-1].type == "quoted_template_end" else node.end_byte - 1
        return self.src[start:end].decode("utf-8", "replace")

    def source(self, node) -> str:
        """An expression's source text without its comments, as python-hcl2 writes it."""
        raw = self.src[node.start_byte:node.end_byte]
        if b"#" not in raw and b"//" not in raw and b"/*" not in raw:
            return raw.decode("utf-8", "replace")
        comments = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "comment":
                comments.append((n.start_byte, n.end_byte))
            elif n.type not in ("string_lit", "quoted_template", "heredoc_template"):
                stack.extend(n.children)
        if not comments:
            return self.text(node)
        out, pos = [], node.start_byte
        for a, b in sorted(comments):
            out.append(self.src[pos:a])
            pos = b
        out.append(self.src[pos:node.end_byte])
        return b"".join(out).decode("utf-8", "replace")

    def body(self, node, path: tuple, out: dict) -> dict:
        names: dict = {}
        for child in node.named_children:
            if child.type == "attribute":
                name = self.text(child.named_children[0])
                self.claim(names, name, "argument", child)
                out[name] = self.expression(child.named_children[1], path + (name,))
                self.spans[path + (name,)] = _span(child)
            elif child.type == "block":
                self.claim(names, self.text(child.named_children[0]), "block", child)
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
            if labels:
                for key in [btype] + labels[:-1]:
                    nxt = container.get(key)
                    if not isinstance(nxt, dict):
                        nxt = container[key] = {}
                    container = nxt
                    cpath = cpath + (key,)
                    self.spans.setdefault(cpath, _span(node))
                key = labels[-1]
            else:
                key = btype
            bpath = cpath + (key,)
            target = {}
            if isinstance(container.get(key), dict):
                # a repeated top-level block (`moved`, `import`, `provider "aws"` with an alias): a list
                self._rekey(bpath, bpath + (0,))
                container[key] = [container[key], target]
                bpath = bpath + (1,)
            elif isinstance(container.get(key), list):
                bpath = bpath + (len(container[key]),)
                container[key].append(target)
            else:
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

    def _rekey(self, old: tuple, new: tuple) -> None:
        n = len(old)
        for p in [p for p in self.spans if p[:n] == old]:
            self.spans[new + p[n:]] = self.spans.pop(p)
        self.spans[old] = self.spans[new]

    def expression(self, node, path: tuple):
        self.spans[path] = _span(node)
        kind = node.type
        if kind == "expression" and node.child_count == 1:
            return self.expression(node.named_children[0], path)
        if kind == "literal_value":
            return self.expression(node.named_children[0], path)
        if kind == "collection_value":
            return self.expression(node.named_children[0], path)
        if kind == "numeric_lit":
            return self.number(node)
        if kind == "bool_lit":
            return self.text(node) == "true"
        if kind == "null_lit":
            return None
        if kind in ("string_lit", "quoted_template"):
            # `${...}` and `%{...}` inside stay as written (python-hcl2's convention); escapes are decoded
            return _unescape(self.inner(node))
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
                return self.expression(inner, path)
            return self.heredoc(node)
        if kind == "operation" and node.named_child_count == 1:
            return self.expression(node.named_children[0], path)
        if kind == "unary_operation" and node.child_count == 2 and node.children[0].type == "-":
            operand = node.children[1]
            while operand.type in ("expression", "literal_value") and operand.named_child_count == 1:
                operand = operand.named_children[0]
            if operand.type == "numeric_lit":  # a negative number is a literal, not an expression
                value = self.expression(operand, path)
                self.spans[path] = _span(node)
                return -value
        if kind == "variable_expr":
            # a bare name (`string`, an iterator): python-hcl2 writes it without ${}
            return self.text(node)
        return "${" + self.source(node) + "}"

    def number(self, node):
        text = self.text(node)
        if not _NUMBER.fullmatch(text):  # e.g. `0x10`: tree-sitter reads it, Terraform does not
            raise LoadError(f"invalid HCL: {json.dumps(text[:40])} is not a number", *_point(node))
        if len(text) > _MAX_DIGITS:
            # Terraform's numbers are arbitrary-precision; Python's int() refuses over 4300 digits.
            # A rule cannot judge such a value: it stays an expression, like any unknown value
            return "${" + text + "}"
        return float(text) if ("." in text or "e" in text or "E" in text) else int(text)

    def claim(self, names: dict, name: str, what: str, node) -> None:
        """One name, one meaning per body: an argument set twice, or an argument and a block of the same
        name, is an error for Terraform (and the second would silently win, or mix a value into a list of
        bodies)."""
        seen = names.get(name)
        if seen is None:
            names[name] = (what, node.start_point[0] + 1)
            return
        if what == "argument" and seen[0] == "argument":  # Terraform: "Attribute redefined"
            raise LoadError(f"invalid HCL: argument {json.dumps(name)} is already set at line {seen[1]}",
                            *_point(node))
        if seen[0] != what:
            first = "an argument" if seen[0] == "argument" else "a block"
            raise LoadError(f"invalid HCL: {json.dumps(name)} is {first} at line {seen[1]} and "
                            f"{'an argument' if what == 'argument' else 'a block'} here", *_point(node))

    def object_key(self, node) -> str:
        inner = node
        while inner.named_child_count == 1 and inner.type in ("expression", "literal_value", "variable_expr"):
            inner = inner.named_children[0]
        if inner.type == "string_lit":
            return self.label(inner)
        if inner.type == "template_expr" and inner.named_child_count == 1 and \
                inner.named_children[0].type == "quoted_template":
            return _unescape(self.inner(inner.named_children[0]))   # "prefix/${var.x}" = ...
        text = self.source(node)
        # `(expr) = value`: the key is an expression, written "${(expr)}" as python-hcl2 does
        return "${" + text + "}" if text.startswith("(") else text

    def heredoc(self, node) -> str:
        text = self.text(node)
        lines = text.split("\n")
        body = lines[1:-1]
        if lines[0].startswith("<<-"):
            indent = min((len(ln) - len(ln.lstrip()) for ln in body if ln.strip()), default=0)
            body = [ln[indent:] for ln in body]
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


# tree-sitter-hcl does not read an exponent without a fraction (`1e3`); HCL does. Such a file is parsed
# again with `1.0e3` written instead (same value; columns after it on that line move by two).
_BARE_EXPONENT = re.compile(rb"(?<![\w.$])(\d+)([eE][+-]?\d+)(?![\w.])")


def load_hcl(text: str) -> tuple[dict, dict]:
    src = text.encode("utf-8")
    tree = _get_parser().parse(src)
    root = tree.root_node
    if root.has_error and _BARE_EXPONENT.search(src):
        fixed = _BARE_EXPONENT.sub(rb"\1.0\2", src)
        retry = _get_parser().parse(fixed)
        if not retry.root_node.has_error:
            src, tree, root = fixed, retry, retry.root_node
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
        names: dict = {}
        for child in body.named_children:
            if child.type == "block":
                conv.claim(names, conv.text(child.named_children[0]), "block", child)
                conv.block(child, (), data, top=True)
            elif child.type == "attribute":  # .tfvars style
                name = conv.text(child.named_children[0])
                if name in BLOCK_TYPES:  # `resource = 5`: rules would read a number as the resource map
                    raise LoadError(f"invalid HCL: {json.dumps(name)} is a block type, not an argument",
                                    *_point(child))
                conv.claim(names, name, "argument", child)
                data[name] = conv.expression(child.named_children[1], (name,))
                conv.spans[(name,)] = _span(child)
    return data, conv.spans
