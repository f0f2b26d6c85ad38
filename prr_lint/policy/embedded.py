"""Embedded evaluation with regopy (rego-cpp) in a worker process, stopped at a per-document deadline and at the
run's budget.

The worker gets an empty environment and `/` as its working directory: `opa.runtime().env` would otherwise hand
every environment variable of the CI job (its secrets) to the policies, and so to the findings."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

from .errors import PolicyError, PolicyTimeout

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")


class _Worker:
    def __init__(self):
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        # -I: ignore PYTHON* variables and the user's site; the import path comes from this process instead
        self.proc = subprocess.Popen(
            [sys.executable, "-I", WORKER, str(child_read), str(child_write), json.dumps(sys.path)],
            pass_fds=(child_read, child_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, close_fds=True, env={}, cwd="/",
        )
        os.close(child_read)
        os.close(child_write)
        self.read_fd = parent_read
        self.out = os.fdopen(parent_write, "wb", buffering=0)
        self.buffer = bytearray()

    def send(self, *lines: bytes) -> None:
        try:
            self.out.write(b"".join(line + b"\n" for line in lines))
        except (BrokenPipeError, OSError) as e:
            raise PolicyError(f"embedded policy evaluator stopped unexpectedly: {e}") from None

    def receive(self, deadline: float | None) -> dict | None:
        """The next reply, or None when the deadline passes first."""
        while b"\n" not in self.buffer:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                try:
                    code = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    code = None
                how = f"crashed ({signal.Signals(-code).name})" if isinstance(code, int) and code < 0 else \
                    f"stopped unexpectedly (exit status {code})"
                raise PolicyError(f"embedded policy evaluator (rego-cpp) {how}; a known cause is `with input as` "
                                  "in a test over a rule that calls a built-in: replace input key by key "
                                  "(`with input.spec as ...`), or evaluate on an OPA server (--opa-url)")
            self.buffer += chunk
        line, _, rest = self.buffer.partition(b"\n")
        self.buffer = bytearray(rest)
        return json.loads(line)

    def close(self) -> None:
        try:
            self.out.close()
        except OSError:
            pass
        try:
            os.close(self.read_fd)
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class EmbeddedEvaluator:
    """Evaluates queries over compiled modules; the worker is started lazily and restarted after a timeout."""

    name = "embedded"

    def __init__(self, timeout: float = 10.0, strict: bool = False, budget: float | None = None):
        self.timeout = timeout
        self.strict = strict
        self.budget = budget           # seconds for the whole run (None: no limit), from the first use
        self._ends: float | None = None
        self.broken: PolicyError | None = None  # the budget is spent: nothing more is evaluated
        self.modules: list = []        # (name, source)
        self._worker: _Worker | None = None
        self._loaded = 0               # how many modules the current worker has

    def set_modules(self, modules: list) -> None:
        if [m[0] for m in modules[:self._loaded]] != [m[0] for m in self.modules[:self._loaded]]:
            self.close()
        self.modules = list(modules)

    def _deadline(self, seconds: float) -> tuple[float, bool]:
        """(monotonic deadline, whether it is the run's budget): `seconds` from now, within the budget."""
        now = time.monotonic()
        if self.budget is not None and self._ends is None:
            self._ends = now + self.budget
        if self._ends is not None and self._ends < now + seconds:
            return self._ends, True
        return now + seconds, False

    def _spent(self) -> PolicyError:
        """Stop the worker and every later evaluation: one slow policy must not cost a timeout per document."""
        self.close()
        self.broken = PolicyTimeout(f"policy evaluation stopped: the run's budget of {self.budget:g}s "
                                    "(--policy-budget) is spent; this document and the later ones were not evaluated")
        return self.broken

    def _ensure(self) -> _Worker:
        if self.broken is not None:
            raise self.broken
        if self._worker is None or self._worker.proc.poll() is not None:
            if self._worker is not None:
                self._worker.close()
            self._worker = _Worker()
            self._loaded = 0
        if self._loaded < len(self.modules):
            todo = self.modules[self._loaded:]
            self._worker.send(json.dumps({"op": "load", "modules": todo, "strict": self.strict}).encode())
            deadline, by_budget = self._deadline(max(self.timeout, 30.0))
            reply = self._worker.receive(deadline)
            if reply is None:
                if by_budget:
                    raise self._spent()
                self.close()
                raise PolicyError("embedded policy evaluator did not load the policies in time")
            if "error" in reply:
                self.close()
                err = reply["error"]
                raise PolicyError(err["message"], file=err.get("file"), offset=err.get("offset"))
            self._loaded = len(self.modules)
        return self._worker

    def prepare(self) -> None:
        self._ensure()

    def evaluate(self, queries: list[str], input_json: str, compiled: bool = True) -> list:
        """One value per query (None when undefined); raises PolicyTimeout or PolicyError. `compiled`: the
        queries are package paths (`data.a.b`) evaluated on a bundle compiled once; else ad-hoc queries."""
        worker = self._ensure()
        worker.send(json.dumps({"op": "eval", "queries": queries, "entrypoints": compiled}).encode(),
                    input_json.encode())
        deadline, by_budget = self._deadline(self.timeout)
        reply = worker.receive(deadline)
        if reply is None:
            if by_budget:
                raise self._spent()
            self.close()  # the only way to stop a running evaluation: the next one starts a fresh worker
            raise PolicyTimeout(f"policy evaluation did not finish within {self.timeout:g}s and was stopped "
                                "(raise --policy-timeout, or fix the policy)")
        if "error" in reply:
            raise PolicyError(reply["error"])
        return reply["results"]

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None
            self._loaded = 0

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
