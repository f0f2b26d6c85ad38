"""The embedded evaluator's worker process: one regopy interpreter, modules compiled once, one query per request.

It runs in its own process so that a policy that runs too long can be stopped (killed) by the parent at a
deadline, and with an empty environment so that `opa.runtime().env` reveals nothing of the host. Protocol on the
pipes given as argv (read fd, write fd), one JSON object per line:

  {"op": "load", "modules": [[name, source], ...], "strict": false}   -> {"ok": true} | {"error": ...}
  {"op": "eval", "queries": ["data.main", ...], "entrypoints": true} + one line of input JSON
      -> {"results": [<value>|null, ...]} | {"error": ...}
      with "entrypoints", the packages are compiled once into a bundle and each query runs on it

A null result means "undefined". The library writes diagnostics to stdout; stdout is /dev/null here.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence

_ERROR = re.compile(r"\(error (\d+):")
_ERRMSG = re.compile(r"\(errormsg (\d+):")


def parse_error_text(text: str) -> tuple[str | None, int | None, str]:
    """(file, byte offset, message) from a rego-cpp error s-expression such as
    `(error 15:policy/bad.rego|57|2 (errormsg 27:Invalid assignment operator) ...)`."""
    file = offset = None
    m = _ERROR.search(text)
    if m:
        n = int(m.group(1))
        file = text[m.end():m.end() + n]
        rest = text[m.end() + n:]
        o = re.match(r"\|(\d+)\|", rest)
        offset = int(o.group(1)) if o else None
    m = _ERRMSG.search(text)
    message = text[m.end():m.end() + int(m.group(1))] if m \
        else text.strip().splitlines()[0] if text.strip() else "error"
    return file or None, offset, message


def _node_errors(impl) -> list[str]:
    """Messages of a rego-errorseq output node: `code: message` for each error."""
    from regopy.rego_shared import rego_node_get, rego_node_size, rego_node_value

    out = []

    def value(node):
        try:
            return rego_node_value(node)
        except Exception:
            return ""

    for i in range(rego_node_size(impl)):
        err = rego_node_get(impl, i)
        parts = [value(rego_node_get(err, j)) for j in range(rego_node_size(err))]
        parts = [p for p in parts if p]
        if len(parts) >= 2:
            out.append(f"{parts[-1]}: {parts[0]}")
        elif parts:
            out.append(parts[0])
    return out or ["evaluation error"]


class Session:
    def __init__(self):
        from regopy import Interpreter, LogLevel

        self.rego = Interpreter()
        self.rego.log_level = LogLevel.NONE
        self._bundle = None

    def load(self, modules: list, strict: bool) -> dict:
        from regopy import RegoError

        self.rego.strict_built_in_errors = bool(strict)
        for name, source in modules:
            try:
                self.rego.add_module(name, source)
                self._bundle = None
            except RegoError as e:
                file, offset, message = parse_error_text(str(e))
                return {"error": {"file": file or name, "offset": offset, "message": message}}
        return {"ok": True}

    def bundle(self, entrypoints: tuple):
        """A compiled bundle with these entrypoints (`pkg/path`), built once: a query on a bundle skips the
        compilation that an ad-hoc query repeats (about 20x faster per document)."""
        from regopy import RegoError

        if self._bundle is None or self._bundle[0] != entrypoints:
            try:
                bundle = self.rego.build(None, list(entrypoints))
            except RegoError as e:
                raise RuntimeError(parse_error_text(str(e))[2]) from None
            if not bundle.ok():
                raise RuntimeError("; ".join(_node_errors(bundle.node()._impl)))
            self._bundle = (entrypoints, bundle)
        return self._bundle[1]

    def query(self, query: str, bundle=None):
        """("ok", value) | ("undefined", None) | ("error", message)."""
        from regopy.rego_shared import (
            RegoError,
            rego_bundle_query_entrypoint,
            rego_free_output,
            rego_output_node,
            rego_output_ok,
            rego_output_string,
            rego_query,
        )

        try:
            if bundle is not None:
                impl = rego_bundle_query_entrypoint(self.rego._impl, bundle._impl, query)
            else:
                impl = rego_query(self.rego._impl, query)
        except RegoError as e:
            return "error", parse_error_text(str(e))[2]
        try:
            if not rego_output_ok(impl):
                return "error", "; ".join(_node_errors(rego_output_node(impl)))
            text = rego_output_string(impl)
            if text == "undefined":
                return "undefined", None
            out = json.loads(text)
            first = out[0] if isinstance(out, list) else out
            exprs = first.get("expressions") if isinstance(first, dict) else None
            if not exprs:
                return "undefined", None
            return "ok", exprs[0]
        except (ValueError, RegoError) as e:
            return "error", f"cannot read the result: {e}"
        finally:
            rego_free_output(impl)

    def evaluate(self, queries: Sequence[str], input_text: str, entrypoints: bool = False) -> dict:
        from regopy import RegoError

        try:
            self.rego.set_input_term(input_text)
        except RegoError as e:
            return {"error": f"invalid input: {parse_error_text(str(e))[2]}"}
        bundle = None
        if entrypoints:
            names = tuple(q[len("data."):].replace(".", "/") for q in queries)
            try:
                bundle = self.bundle(names)
            except RuntimeError as e:
                return {"error": f"cannot compile the policies: {e}"}
            queries = names
        results = []
        for q in queries:
            status, value = self.query(q, bundle)
            if status == "error":
                return {"error": f"{q}: {value}"}
            results.append(value)
        return {"results": results}


def main(argv: list[str]) -> int:
    read_fd, write_fd = int(argv[0]), int(argv[1])
    if len(argv) > 2:  # where the parent found regopy (e.g. PYTHONPATH, which -I ignores); never a relative entry
        sys.path.extend(p for p in json.loads(argv[2]) if isinstance(p, str) and os.path.isabs(p) and p not in sys.path)
    # rego-cpp's opa.runtime() reads the process environment: policies see none of it (the interpreter
    # itself may have added a variable such as LC_CTYPE at start-up)
    os.environ.clear()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the library prints diagnostics to stdout
    inp = os.fdopen(read_fd, "r", encoding="utf-8")
    out = os.fdopen(write_fd, "w", encoding="utf-8")
    session = Session()
    for line in inp:
        if not line.strip():
            continue
        request = json.loads(line)
        op = request.get("op")
        if op == "load":
            reply = session.load(request["modules"], request.get("strict", False))
        elif op == "eval":
            input_text = inp.readline()
            reply = session.evaluate(request["queries"], input_text.strip() or "{}", request.get("entrypoints", False))
        else:
            reply = {"error": f"unknown request {op!r}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
