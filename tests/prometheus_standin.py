"""A stand-in Prometheus HTTP API for the failure modes a real server does not produce on demand: an auth
proxy's 401 or login page, a redirect, 5xx, `warnings` (Thanos partial responses), several series, a huge or
non-JSON answer, a server that hangs. `answer` is (status, content type, body bytes, extra headers), or a
function of the request path that returns one."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ONE_SERIES = {"status": "success", "data": {"resultType": "vector",
                                            "result": [{"metric": {}, "value": [1795435230, "0.5"]}]}}


def json_answer(body: dict, status: int = 200) -> tuple:
    return status, "application/json", json.dumps(body).encode(), {}


class Standin:
    def __init__(self, answer: tuple | None = None, delay: float = 0.0, tls: tuple | None = None,
                 drip: float = 0.0):
        self.answer = answer or json_answer(ONE_SERIES)
        self.delay = delay            # before the status line
        self.drip = drip              # between the bytes of the body, after the headers
        self.requests: list = []            # (path with query, headers)
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                state.requests.append((self.path, dict(self.headers)))
                if state.delay:
                    time.sleep(state.delay)
                answer = state.answer(self.path) if callable(state.answer) else state.answer
                status, ctype, body, headers = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if state.drip:
                        for i in range(len(body)):
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(state.drip)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls:   # (certificate file, key file): serve https
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
