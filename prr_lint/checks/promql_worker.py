"""The PromQL parser's worker process: parses one expression per request and says whether it parses.

promql-parser is Rust and recursive: an expression deep or long enough overflows its stack and the process
dies (SIGSEGV) with no exception to catch. Expressions near the size limits are parsed here first, in a
thread with half the usual stack, so that one that kills the parser kills only this process; the parent
parses in-process only what this worker parsed (with twice the stack to spare).

Protocol on stdin/stdout, one JSON object per line: {"expr": "...", "functions": {name: [types, variadic]}}
-> {"error": null | "message"}; `functions` are those beyond PromQL the parent registered (metricsql.py).
"""

from __future__ import annotations

import json
import sys
import threading

STACK = 4 * 1024 * 1024


def _parse(expr: str) -> str | None:
    from prr_lint.checks.promql import parse_here

    return parse_here(expr).error


def _parse_into(box: list, expr: str) -> None:
    box.append(_parse(expr))


def main() -> None:
    threading.stack_size(STACK)
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        expr = request["expr"]
        functions = request.get("functions") or {}
        if functions:
            from prr_lint.checks.metricsql import register

            register({name: (tuple(sig[0]), bool(sig[1])) for name, sig in functions.items()})
        box: list = []
        worker = threading.Thread(target=_parse_into, args=(box, expr))
        worker.start()
        worker.join()
        out.write(json.dumps({"error": box[0] if box else "parser failed"}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
