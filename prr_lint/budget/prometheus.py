"""A Prometheus HTTP API client for instant queries, bounded and fail-closed.

Every answer that is not plainly one number is a PrometheusError with a one-line reason: a connection or TLS
failure, a timeout, HTTP 401/403/404/5xx, a redirect (never followed: it could carry the credentials
elsewhere), a body that is not JSON (an auth proxy's login page), a query error, `warnings` (a partial answer,
as Thanos gives), or more than one series. "No data" (no series, NaN) is not an error here: the caller decides.

Each request runs in a thread waited for at most the per-request timeout and the remaining overall deadline
(a socket timeout alone restarts on every byte a server drips); the body is read up to MAX_BODY bytes.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ..errors import UsageError
from ..escape import one_line

MAX_BODY = 1024 * 1024       # an instant query for one series answers in a few hundred bytes
GRACE = 0.25                 # lets requests' own timeout report first when both expire together
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
ENV = "PRR_PROMETHEUS_"
_CREDENTIAL_HEADER = re.compile(r"auth|token|key|secret|cookie|password|session", re.IGNORECASE)


class PrometheusError(Exception):
    """Prometheus could not give a usable answer: the gate cannot decide."""

    def __init__(self, message: str, warnings: list | None = None):
        super().__init__(message)
        self.warnings = warnings or []      # the answer's `warnings`, when that is why


@dataclass
class Settings:
    url: str                                  # scheme://host[:port][/path prefix], without credentials
    token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    headers: dict = field(default_factory=dict)
    timeout: float = 10.0                     # per request (also sent as Prometheus' `timeout=`)
    deadline: float = 60.0                    # every request of the run together

    @property
    def auth(self) -> str:
        return "bearer token" if self.token else "basic auth" if self.username else "none"


def _secret(environ, name: str) -> str | None:
    """NAME from the environment, or the content of the file NAME_FILE names (a mounted secret)."""
    value = environ.get(ENV + name)
    path = environ.get(ENV + name + "_FILE")
    if value and path:
        raise UsageError(f"{ENV}{name} and {ENV}{name}_FILE are both set: give one")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                value = fh.read().strip()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"{ENV}{name}_FILE: cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
        if not value:
            raise UsageError(f"{ENV}{name}_FILE: {path} is empty")
    return value or None


def _headers(text: str) -> dict:
    """`Name: value` pairs, one a line or separated by `;` (e.g. `X-Scope-OrgID: tenant-a`)."""
    out = {}
    for item in text.replace(";", "\n").splitlines():
        if not item.strip():
            continue
        name, sep, value = item.partition(":")
        name = name.strip()
        if not sep or not name or any(c in name for c in " \t") or not value.strip():
            raise UsageError(f"{ENV}HEADERS: expected `Name: value` items, got {one_line(item.strip())!r}")
        out[name] = value.strip()
    return out


def settings_from(url: str, environ, timeout: float = 10.0, deadline: float = 60.0) -> Settings:
    """The server and its credentials, from the command line and the environment (`environ`) only, never a
    config file: a pull request could point the credentials at its own server."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--prometheus-url {one_line(url)}: expected http(s)://host[:port][/path]")
    if parts.username or parts.password:
        raise UsageError("--prometheus-url: credentials in the URL are not accepted (they would show in logs): "
                         f"use {ENV}TOKEN(_FILE) or {ENV}USERNAME and {ENV}PASSWORD(_FILE)")
    if parts.query or parts.fragment:
        raise UsageError(f"--prometheus-url {one_line(url)}: give the server's URL without a query")
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    s = Settings(base, timeout=timeout, deadline=deadline)
    s.token = _secret(environ, "TOKEN")
    s.username = environ.get(ENV + "USERNAME") or None
    s.password = _secret(environ, "PASSWORD")
    if s.token and (s.username or s.password):
        raise UsageError(f"{ENV}TOKEN and basic auth ({ENV}USERNAME/PASSWORD) are both set: give one")
    if bool(s.username) != bool(s.password):
        raise UsageError(f"basic auth needs both {ENV}USERNAME and {ENV}PASSWORD (or {ENV}PASSWORD_FILE)")
    s.headers = _headers(environ.get(ENV + "HEADERS", ""))
    for key in ("CA_FILE", "CERT_FILE", "KEY_FILE"):
        path = environ.get(ENV + key) or None
        if path and not os.path.isfile(path):
            raise UsageError(f"{ENV}{key}: {path}: no such file")
        setattr(s, key.lower(), path)
    if s.key_file and not s.cert_file:
        raise UsageError(f"{ENV}KEY_FILE needs {ENV}CERT_FILE")
    # a tenant header (X-Scope-OrgID) is routing, not a secret; one named like a credential is
    secret_headers = [h for h in s.headers if _CREDENTIAL_HEADER.search(h)]
    sends_secret = s.token or s.username or secret_headers or s.cert_file
    if parts.scheme == "http" and sends_secret and parts.hostname not in LOCAL_HOSTS:
        raise UsageError(f"--prometheus-url {base}: credentials are never sent over plain http to another host "
                         "than localhost: use https")
    return s


@dataclass
class Answer:
    value: float | None          # None: no data (no series, NaN)
    series: int


class Client:
    def __init__(self, settings: Settings):
        self.s = settings
        self.sent: list = []                 # every query as sent: (expr, time)
        self._ends: float | None = None
        self.broken: PrometheusError | None = None
        self._session = None

    def _fail(self, reason: str, warnings: list | None = None) -> PrometheusError:
        self.broken = PrometheusError(one_line(f"Prometheus {self.s.url}: {reason}"), warnings)
        return self.broken

    def _http(self):
        if self._session is None:
            import requests

            session = requests.Session()
            # the CI job's proxy settings (HTTPS_PROXY, NO_PROXY) apply, but no .netrc credentials are added
            session.trust_env = False
            session.proxies.update(requests.utils.get_environ_proxies(self.s.url))
            session.headers.update({"Accept": "application/json", "User-Agent": "prr-lint budget gate"})
            session.headers.update(self.s.headers)
            if self.s.token:
                session.headers["Authorization"] = f"Bearer {self.s.token}"
            elif self.s.username:
                session.auth = (self.s.username, self.s.password or "")
            if self.s.ca_file:
                session.verify = self.s.ca_file
            if self.s.cert_file:
                session.cert = (self.s.cert_file, self.s.key_file) if self.s.key_file else self.s.cert_file
            self._session = session
        return self._session

    def query(self, expr: str, at: float) -> Answer:
        """The instant query `expr` at unix time `at`: one number, or no data."""
        if self.broken:
            raise self.broken
        now = time.monotonic()
        if self._ends is None:
            self._ends = now + self.s.deadline
        remaining = self._ends - now
        limit = min(self.s.timeout, remaining)
        late = (f"no complete answer before the overall deadline ({self.s.deadline:g}s, --prometheus-deadline)"
                if remaining < self.s.timeout else f"no answer within {self.s.timeout:g}s (--prometheus-timeout)")
        if limit <= 0:
            raise self._fail(late)
        self.sent.append((expr, at))
        box: dict = {}

        def run():
            try:
                box["value"] = self._get(expr, at, limit)
            except BaseException as e:  # noqa: BLE001 -- handed to the caller's thread
                box["error"] = e

        worker = threading.Thread(target=run, name="prr-lint-prometheus", daemon=True)
        worker.start()
        worker.join(limit + GRACE)
        if worker.is_alive():            # a server that hangs or drips: abandon it for the rest of the run
            raise self._fail(late)
        error = box.get("error")
        if error is not None:
            raise self._fail(self._reason(error, late))
        status, ctype, body = box["value"]
        return self._answer(status, ctype, body)

    def _get(self, expr: str, at: float, limit: float) -> tuple:
        # Prometheus 2.x reads `timeout` as a duration without fractions: whole milliseconds
        params = {"query": expr, "time": f"{at:.3f}", "timeout": f"{max(int(limit * 1000), 1)}ms"}
        with self._http().get(self.s.url + "/api/v1/query", params=params, timeout=limit, stream=True,
                              allow_redirects=False) as response:
            body = response.raw.read(MAX_BODY + 1, decode_content=True)
            return response.status_code, response.headers.get("Content-Type", ""), body

    def _reason(self, e: BaseException, late: str) -> str:
        import requests
        import urllib3

        if isinstance(e, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)):
            return late   # the body read directly from urllib3 times out with its own exception
        if isinstance(e, requests.exceptions.TooManyRedirects):
            return "answered with a redirect, which is never followed: give the server's own URL"
        if isinstance(e, requests.exceptions.SSLError):
            return f"TLS failed ({_first_line(e)})"
        if isinstance(e, requests.exceptions.ConnectionError):
            text = str(e)
            return "connection refused" if "refused" in text.lower() else f"cannot connect ({_first_line(e)})"
        return f"{type(e).__name__}: {_first_line(e)}"

    def _answer(self, status: int, ctype: str, body: bytes) -> Answer:
        if len(body) > MAX_BODY:
            raise self._fail(f"answer larger than {MAX_BODY} bytes (not one series)")
        if 300 <= status < 400:
            raise self._fail(f"answered with a redirect (HTTP {status}), which is never followed: give the "
                             "server's own URL")
        data = None
        if "json" in ctype.lower():
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                data = None
        if status in (401, 403):
            raise self._fail(f"HTTP {status}: not authorized (check {ENV}TOKEN or basic auth)")
        if isinstance(data, dict) and data.get("status") == "error" and status in (400, 422):
            raise self._fail(f"query error: {data.get('errorType', '')}: {data.get('error', '')}")
        if status != 200:
            detail = f": {data.get('error')}" if isinstance(data, dict) and data.get("error") else ""
            raise self._fail(f"HTTP {status}{detail}")
        if not isinstance(data, dict):
            what = ctype.split(";")[0].strip() or "no content type"
            raise self._fail(f"answered with {what}, not a JSON API answer (a login page or proxy?)")
        if data.get("status") != "success":
            raise self._fail(f"query error: {data.get('errorType', '')}: {data.get('error', 'no status')}")
        warnings = data.get("warnings")
        if warnings:
            listed = [str(w) for w in warnings] if isinstance(warnings, list) else [str(warnings)]
            raise self._fail(f"answer came with warnings (partial data): {listed[0]}", listed)
        return _value(self, data.get("data"))


def _value(client: Client, data) -> Answer:
    if not isinstance(data, dict):
        raise client._fail("answer has no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return Answer(_number(client, result[1]), 1)
    if kind != "vector" or not isinstance(result, list):
        raise client._fail(f"answered a {one_line(kind)}, expected an instant vector or scalar")
    if not result:
        return Answer(None, 0)
    if len(result) > 1:
        raise client._fail(f"{len(result)} series where one is expected (aggregate the query, e.g. with sum())")
    sample = result[0].get("value") if isinstance(result[0], dict) else None
    if not isinstance(sample, list) or len(sample) != 2:
        raise client._fail("malformed sample in the answer")
    return Answer(_number(client, sample[1]), 1)


def _number(client: Client, text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise client._fail(f"sample value {one_line(text)!r} is not a number") from None
    return value if math.isfinite(value) else None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__
