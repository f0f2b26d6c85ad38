"""Where a run's time went (`check --timing`): its stages in order, and the rules that took longest.

A rule's time is the sum over its calls (one per document or service it targets), measured around the call
only: a custom Python rule or a Rego policy that makes a large repository slow shows up at the top.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from .escape import line_start

TOP_RULES = 15      # rules listed; the rest are summed on one line


class Timing:
    def __init__(self, started: float | None = None) -> None:
        self.started = time.perf_counter() if started is None else started
        self.stages: dict[str, float] = {}
        self.rules: dict[str, list] = {}      # rule id -> [seconds, calls]
        self.replayed = False
        self._inner: list[float] = []       # per open stage: the time of the stages opened inside it

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a block as `name`; a stage inside another is not counted twice (the outer one excludes it)."""
        start = time.perf_counter()
        self.stages.setdefault(name, 0.0)       # listed in the order they begin
        self._inner.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            inner = self._inner.pop()
            self.stages[name] = self.stages.get(name, 0.0) + elapsed - inner
            if self._inner:
                self._inner[-1] += elapsed

    def since_start(self, name: str) -> None:
        """Record as `name` the time from the start not yet given to a stage (start-up: imports, config, rules)."""
        self.stages[name] = max(0.0, time.perf_counter() - self.started - sum(self.stages.values()))

    def rule(self, rule_id: str, seconds: float) -> None:
        spent = self.rules.get(rule_id)
        if spent is None:
            self.rules[rule_id] = [seconds, 1]
        else:
            spent[0] += seconds
            spent[1] += 1

    def lines(self, total: float | None = None) -> list[str]:
        total = time.perf_counter() - self.started if total is None else total
        out = ["prr-lint timing (seconds)"]
        out += [f"  {name:<22}{seconds:8.3f}" for name, seconds in self.stages.items()]
        out.append(f"  {'total':<22}{total:8.3f}")
        if self.replayed:
            out.append("  the result was replayed: no rule ran (PRR_LINT_NO_REPLAY=1 runs them)")
        if self.rules:
            ranked = sorted(self.rules.items(), key=lambda item: (-item[1][0], item[0]))
            out.append(f"  {'rule':<22}{'seconds':>8}{'calls':>8}")
            for rule_id, (seconds, calls) in ranked[:TOP_RULES]:
                out.append(f"  {line_start(rule_id):<22}{seconds:8.3f}{calls:8d}")
            rest = ranked[TOP_RULES:]
            if rest:
                out.append(f"  {f'{len(rest)} more':<22}{sum(s for _, (s, _) in rest):8.3f}"
                           f"{sum(c for _, (_, c) in rest):8d}")
        return out


def timed(timing: Timing | None, name: str) -> AbstractContextManager[None]:
    """`timing.stage(name)`, or nothing when the run is not timed."""
    return timing.stage(name) if timing is not None else nullcontext()
