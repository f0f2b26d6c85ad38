"""A small stand-in for an OPA server, for the tests: no OPA binary can be installed on the test machines.

It implements the parts of OPA's REST API that prr-lint's client uses, with OPA's request and response shapes:

  GET    /health                       200 {}
  GET    /v1/policies                  {"result": [{"id", "raw"}, ...]}
  PUT    /v1/policies/<id>             text/plain Rego; 200 {} or 400 {"code": "invalid_parameter", "errors": [...]}
  DELETE /v1/policies/<id>             200 {}
  POST   /v1/data/<path>               {"input": ...} -> {"result": <value>} or {} when undefined

and evaluates with regopy (the same engine as prr-lint's embedded mode, so it shares its Rego coverage).
Failure modes for tests: `fail_status` answers every data request with that status; `delay` sleeps before
answering; `reject_push` answers a policy PUT with OPA's parse-error shape.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class StandinState:
    def __init__(self):
        self.policies: dict = {}          # id -> source
        self.lock = threading.Lock()
        self.fail_status: int | None = None
        self.delay: float = 0.0
        self.requests: list = []          # (method, path)
        self.authorization: list = []     # the Authorization header of each request (None when absent)
        self.version = 0
        self._compiled = None             # (version, interpreter): modules compiled once per policy set

    def evaluate(self, path: str, input_value) -> tuple[int, dict]:
        from regopy import Interpreter, LogLevel, RegoError

        with self.lock:
            try:
                if self._compiled is None or self._compiled[0] != self.version:
                    rego = Interpreter()
                    rego.log_level = LogLevel.NONE
                    for pid, source in sorted(self.policies.items()):
                        rego.add_module(pid, source)
                    self._compiled = (self.version, rego)
                return self._query(self._compiled[1], path, input_value)
            except RegoError as e:
                return 500, {"code": "internal_error", "message": str(e).splitlines()[0]}

    def _query(self, rego, path, input_value):
        from regopy import RegoError

        try:
            rego.set_input_term(json.dumps(input_value if input_value is not None else {}))
            query = "data" + "".join(f".{p}" for p in path.split("/") if p)
            out = rego.query(query)
        except RegoError as e:
            return 500, {"code": "internal_error", "message": str(e).splitlines()[0]}
        if not out.ok():
            return 500, {"code": "internal_error", "message": "evaluation failed"}
        if not out.results or not out.results[0].expressions:
            return 200, {}
        return 200, {"result": out.results[0].expressions[0]}

    def compile_errors(self, pid: str, source: str) -> list:
        from regopy import Interpreter, LogLevel, RegoError

        rego = Interpreter()
        rego.log_level = LogLevel.NONE
        try:
            rego.add_module(pid, source)
        except RegoError as e:
            text = str(e)
            m = re.search(r"\(error (\d+):", text)
            offset = None
            if m:
                rest = text[m.end() + int(m.group(1)):]
                o = re.match(r"\|(\d+)\|", rest)
                offset = int(o.group(1)) if o else None
            msg = re.search(r"\(errormsg (\d+):", text)
            message = text[msg.end():msg.end() + int(msg.group(1))] if msg else "parse error"
            row = source.count("\n", 0, offset) + 1 if offset is not None else 1
            col = offset - (source.rfind("\n", 0, offset) + 1) + 1 if offset is not None else 1
            return [{"code": "rego_parse_error", "message": message,
                     "location": {"file": pid, "row": row, "col": col}}]
        return []


def _handler(state: StandinState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body in one write (no small-packet delays on keep-alive connections)

        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _pause(self):
            if state.delay:
                threading.Event().wait(state.delay)

        def do_GET(self):
            path = urlsplit(self.path).path
            state.requests.append(("GET", path))
            state.authorization.append(self.headers.get("Authorization"))
            if path == "/health":
                return self._send(200, {})
            if path.rstrip("/") == "/v1/policies":
                with state.lock:
                    items = [{"id": k, "raw": v} for k, v in sorted(state.policies.items())]
                return self._send(200, {"result": items})
            return self._send(404, {"code": "resource_not_found", "message": f"{path} not found"})

        def do_PUT(self):
            path = urlsplit(self.path).path
            body = self._body()
            state.requests.append(("PUT", path))
            state.authorization.append(self.headers.get("Authorization"))
            if not path.startswith("/v1/policies/"):
                return self._send(404, {"code": "resource_not_found", "message": f"{path} not found"})
            pid = unquote(path[len("/v1/policies/"):])
            source = body.decode("utf-8", errors="replace")
            errors = state.compile_errors(pid, source)
            if errors:
                return self._send(400, {"code": "invalid_parameter", "message": "error(s) occurred while compiling "
                                        "module(s)", "errors": errors})
            with state.lock:
                state.policies[pid] = source
                state.version += 1
            return self._send(200, {})

        def do_DELETE(self):
            path = urlsplit(self.path).path
            state.requests.append(("DELETE", path))
            state.authorization.append(self.headers.get("Authorization"))
            pid = unquote(path[len("/v1/policies/"):])
            with state.lock:
                state.policies.pop(pid, None)
                state.version += 1
            return self._send(200, {})

        def do_POST(self):
            path = urlsplit(self.path).path
            body = self._body()
            state.requests.append(("POST", path))
            state.authorization.append(self.headers.get("Authorization"))
            self._pause()
            if not path.startswith("/v1/data"):
                return self._send(404, {"code": "resource_not_found", "message": f"{path} not found"})
            if state.fail_status:
                return self._send(state.fail_status, {"code": "internal_error", "message": "stand-in failure"})
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return self._send(400, {"code": "invalid_parameter", "message": "body is not JSON"})
            status, result = state.evaluate(path[len("/v1/data"):], payload.get("input"))
            return self._send(status, result)

    return Handler


class OpaStandin:
    """with OpaStandin() as opa: opa.url ..."""

    def __init__(self):
        self.state = StandinState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
