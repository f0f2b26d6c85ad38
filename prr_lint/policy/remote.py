"""Evaluation on an OPA server through opa-python-client: push policies (PUT /v1/policies/<id>), then query the
Data API (POST /v1/data/<package path>) once per package per document.

Every failure (connection refused, timeout, 4xx, 5xx, a redirect, an answer that is not JSON, a policy the
server rejects) is a PolicyError with the reason, so a release gate fails closed.

Every request is bounded twice: by the per-request timeout and by the run's deadline (all requests together).
A socket timeout alone is not a bound (it restarts on every byte a server drips), so each request runs in a
thread that is waited for at most that long, then abandoned, and the server is not used again in the run.
A redirect is never followed: it could send the documents and the bearer token to another host.
"""

from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import quote, urlsplit

from ..escape import one_line
from .errors import PolicyError, PolicyTimeout

GRACE = 0.25  # lets the client's own timeout report first when both expire together
MAX_ANSWER = 16 * 1024 * 1024  # a decision for one document is small; a server that streams more is not OPA

POLICY_ID_PREFIX = "prr-lint"


def policy_id(name: str) -> str:
    """The server-side id of a policy file: stable, readable, URL-safe."""
    return POLICY_ID_PREFIX + "/" + quote(name.replace("\\", "/").lstrip("./"), safe="/-_.")


def _refuse_redirect(response, *args, **kwargs):
    """A requests response hook: runs before requests would follow a redirect, and stops it."""
    if 300 <= response.status_code < 400:
        import requests

        raise requests.exceptions.InvalidURL(
            f"answered with a redirect (HTTP {response.status_code}), which is never followed: give the server's "
            "own URL")


def _bounded_body(response, *args, **kwargs):
    """A requests response hook: runs before requests reads the body, and reads at most MAX_ANSWER bytes of it,
    so a server that answers without end cannot fill the runner's memory."""
    import requests

    if response.raw is None or response._content is not False:   # already read (a mocked or cached answer)
        return
    body = response.raw.read(MAX_ANSWER + 1, decode_content=True)
    if len(body) > MAX_ANSWER:
        response.close()
        raise requests.exceptions.ContentDecodingError(f"answered with more than {MAX_ANSWER // (1024 * 1024)} MiB")
    response._content = body
    response._content_consumed = True


def _server_message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip().splitlines()[0][:200] if (response.text or "").strip() else ""
    if isinstance(body, dict):
        msg = body.get("message") or ""
        errors = body.get("errors") or []
        if errors and isinstance(errors[0], dict):
            first = errors[0]
            loc = first.get("location") or {}
            where = f"{loc.get('file')}:{loc.get('row')}:{loc.get('col')}: " if loc.get("file") else ""
            return f"{where}{first.get('code', '')}: {first.get('message', '')}".strip()
        return f"{body.get('code', '')}: {msg}".strip(": ")
    return str(body)[:200]


class OpaServerEvaluator:
    name = "opa"

    def __init__(self, url: str, timeout: float = 10.0, push: bool = True, token: str | None = None,
                 deadline: float = 30.0):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PolicyError(f"--opa-url {url}: expected http(s)://host[:port]")
        if parts.path not in ("", "/"):
            raise PolicyError(f"--opa-url {url}: give the server's root URL, without a path")
        self.url = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout
        self.push = push
        self.token = token
        self.modules: list = []
        self._pushed: set = set()
        self._client = None
        self._host, self._port, self._ssl = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), \
            parts.scheme == "https"
        self.broken: PolicyError | None = None
        self.deadline = deadline       # seconds for every request of the run together
        self._ends: float | None = None  # monotonic end of the run's deadline, from the first request

    def _opa(self):
        if self._client is None:
            from opa_client.opa import OpaClient

            self._client = OpaClient(host=self._host, port=self._port, ssl=self._ssl, timeout=self.timeout,
                                     retries=1, token=self.token)
            self._client._session.hooks["response"].extend([_refuse_redirect, _bounded_body])
            self._client._session.max_redirects = 0
        return self._client

    def _call(self, what: str, request):
        """request(client) within the per-request timeout and the run's deadline; every failure but a policy the
        server rejects (RegoParseError, for the caller to place) is a PolicyError that marks the server broken."""
        import requests
        from opa_client.errors import ConnectionsError, RegoParseError

        now = time.monotonic()
        if self._ends is None:
            self._ends = now + self.deadline
        remaining = self._ends - now
        limit = min(self.timeout, remaining)
        late = (f"no complete answer before the run's deadline ({self.deadline:g}s, --opa-timeout)"
                if remaining < self.timeout else f"no answer within {self.timeout:g}s")
        if limit <= 0:
            raise self._broken(PolicyTimeout(f"OPA server {self.url}: {what}: {late}"))
        client = self._opa()
        client.timeout = limit
        box: dict = {}

        def run():
            try:
                box["value"] = request(client)
            except BaseException as e:  # noqa: BLE001 -- handed to the caller's thread
                box["error"] = e

        worker = threading.Thread(target=run, name="prr-lint-opa", daemon=True)
        worker.start()
        worker.join(limit + GRACE)
        if worker.is_alive():  # e.g. a server that drips a byte at a time: abandon the request and the server
            raise self._broken(PolicyTimeout(f"OPA server {self.url}: {what}: {late}"))
        e = box.get("error")
        if e is None:
            return box.get("value")
        if isinstance(e, RegoParseError):
            raise e
        if isinstance(e, (requests.exceptions.RequestException, ConnectionsError, ValueError)):
            raise self._fail(what, e, late) from None
        raise self._broken(PolicyError(one_line(f"OPA server {self.url}: {what}: {type(e).__name__}: {e}")))

    def _broken(self, error: PolicyError) -> PolicyError:
        self.broken = error
        return error

    def _fail(self, what: str, e: Exception, late: str = "") -> PolicyError:
        import requests

        if isinstance(e, requests.exceptions.Timeout):
            reason = late or f"no answer within {self.timeout:g}s"
        elif isinstance(e, requests.exceptions.InvalidURL) and "redirect" in str(e):
            reason = str(e)
        elif isinstance(e, requests.exceptions.ContentDecodingError):
            reason = str(e)
        elif isinstance(e, ValueError) and not isinstance(e, requests.exceptions.HTTPError):
            reason = "answered with a body that is not JSON"
        elif isinstance(e, requests.exceptions.ConnectionError):
            text = str(e)
            reason = "connection refused" if "refused" in text.lower() else f"cannot connect ({type(e).__name__})"
        elif isinstance(e, requests.exceptions.HTTPError) and e.response is not None:
            detail = _server_message(e.response)
            reason = f"HTTP {e.response.status_code}" + (f": {detail}" if detail else "")
        else:
            reason = f"{type(e).__name__}: {getattr(e, 'message', None) or e}"
        return self._broken(PolicyError(one_line(f"OPA server {self.url}: {what}: {reason}")))

    def set_modules(self, modules: list) -> None:
        self.modules = list(modules)

    def prepare(self) -> None:
        """Push every policy not pushed yet (or, with push off, check that the server answers)."""
        from opa_client.errors import RegoParseError

        if self.broken:
            raise self.broken
        if not self.push:
            if not self._pushed:
                def health(client):
                    client._session.get(f"{self.url}/health", timeout=client.timeout).raise_for_status()

                self._call("health check", health)
                self._pushed.add("")
            return
        for name, source in self.modules:
            if name in self._pushed:
                continue
            try:
                self._call(f"push {name}", lambda client, source=source, name=name: client.update_policy_from_string(
                    source, policy_id(name), rego_compat=False))
            except RegoParseError as e:
                errors = getattr(e, "errors", None) or []
                first = errors[0] if errors and isinstance(errors[0], dict) else {}
                loc = first.get("location") or {}
                row, col = loc.get("row") or 1, loc.get("col") or 1
                message = f"{first.get('code', 'rego_error')}: {first.get('message') or getattr(e, 'message', e)}"
                raise self._broken(PolicyError(one_line(f"{name}:{row}:{col}: {message}"))) from None
            self._pushed.add(name)

    def evaluate(self, queries: list[str], input_json: str, compiled: bool = True) -> list:
        if self.broken:
            raise self.broken
        self.prepare()
        data = json.loads(input_json)
        out = []
        for q in queries:
            package = re.sub(r"^data\.", "", q)
            body = self._call(f"POST /v1/data/{package.replace('.', '/')}",
                              lambda client, package=package: client.query_rule(data, package))
            out.append(body.get("result") if isinstance(body, dict) else None)
        return out

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close_connection()
            except Exception:
                pass
            self._client = None
