"""Evaluation on an OPA server through opa-python-client: push policies (PUT /v1/policies/<id>), then query the
Data API (POST /v1/data/<package path>) once per package per document.

Every failure (connection refused, timeout, 4xx, 5xx, a policy the server rejects) is a PolicyError with the
reason, so a release gate fails closed.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlsplit

from .errors import PolicyError

POLICY_ID_PREFIX = "prr-lint"


def policy_id(name: str) -> str:
    """The server-side id of a policy file: stable, readable, URL-safe."""
    return POLICY_ID_PREFIX + "/" + quote(name.replace("\\", "/").lstrip("./"), safe="/-_.")


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

    def __init__(self, url: str, timeout: float = 10.0, push: bool = True, token: str | None = None):
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

    def _opa(self):
        if self._client is None:
            from opa_client.opa import OpaClient

            self._client = OpaClient(host=self._host, port=self._port, ssl=self._ssl, timeout=self.timeout,
                                     retries=1, token=self.token)
        return self._client

    def _fail(self, what: str, e: Exception, names: dict | None = None) -> PolicyError:
        import requests

        if isinstance(e, requests.exceptions.Timeout):
            reason = f"no answer within {self.timeout:g}s"
        elif isinstance(e, requests.exceptions.ConnectionError):
            text = str(e)
            reason = "connection refused" if "refused" in text.lower() else f"cannot connect ({type(e).__name__})"
        elif isinstance(e, requests.exceptions.HTTPError) and e.response is not None:
            detail = _server_message(e.response)
            reason = f"HTTP {e.response.status_code}" + (f": {detail}" if detail else "")
        else:
            reason = f"{type(e).__name__}: {getattr(e, 'message', None) or e}"
        err = PolicyError(f"OPA server {self.url}: {what}: {reason}")
        self.broken = err
        return err

    def set_modules(self, modules: list) -> None:
        self.modules = list(modules)

    def prepare(self) -> None:
        """Push every policy not pushed yet (or, with push off, check that the server answers)."""
        import requests
        from opa_client.errors import ConnectionsError, RegoParseError

        if self.broken:
            raise self.broken
        client = self._opa()
        if not self.push:
            if not self._pushed:
                try:
                    response = client._session.get(f"{self.url}/health", timeout=self.timeout)
                    response.raise_for_status()
                except requests.exceptions.RequestException as e:
                    raise self._fail("health check", e) from None
                self._pushed.add("")
            return
        for name, source in self.modules:
            if name in self._pushed:
                continue
            try:
                client.update_policy_from_string(source, policy_id(name), rego_compat=False)
            except RegoParseError as e:
                errors = getattr(e, "errors", None) or []
                first = errors[0] if errors and isinstance(errors[0], dict) else {}
                loc = first.get("location") or {}
                row, col = loc.get("row") or 1, loc.get("col") or 1
                message = f"{first.get('code', 'rego_error')}: {first.get('message') or getattr(e, 'message', e)}"
                self.broken = PolicyError(f"{name}:{row}:{col}: {message}")
                raise self.broken from None
            except (requests.exceptions.RequestException, ConnectionsError) as e:
                raise self._fail(f"push {name}", e) from None
            except ValueError as e:  # a non-JSON error body
                raise self._fail(f"push {name}", e) from None
            self._pushed.add(name)

    def evaluate(self, queries: list[str], input_json: str, compiled: bool = True) -> list:
        import requests

        if self.broken:
            raise self.broken
        self.prepare()
        client = self._opa()
        data = json.loads(input_json)
        out = []
        for q in queries:
            package = re.sub(r"^data\.", "", q)
            try:
                body = client.query_rule(data, package)
            except requests.exceptions.RequestException as e:
                raise self._fail(f"POST /v1/data/{package.replace('.', '/')}", e) from None
            except ValueError as e:
                raise self._fail(f"POST /v1/data/{package.replace('.', '/')}", e) from None
            out.append(body.get("result") if isinstance(body, dict) else None)
        return out

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close_connection()
            except Exception:
                pass
            self._client = None
