"""What rules worked out about unchanged input, kept between runs: schema verdicts (verdicts.py), PromQL facts
(checks/promql_memo.py). Each kind is one signed side file of the parse cache (cache.py: same key, same trust
rules; a file without our MAC is a miss), read on first use and written at most once per run, by the engine.

Keys are hashes of everything a value depends on, so an entry is never stale, only unused: a run over the
whole project keeps the entries it used (the others belong to input that is gone); a narrower run (a path, a
shard) keeps every entry known.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cache import ParseCache

_MEMOS = "run-memos"      # in Repository.memo: kind -> RunMemo


class RunMemo:
    """One kind of entries (key -> JSON value, or a value `encode` turns into one when saved) of a run."""

    def __init__(self, store: ParseCache | None, kind: str, encode: Callable[[Any], Any] | None = None):
        self.store = store
        self.local: dict = {}           # what the run derived from the entries (decoded values): not saved
        self._encode = encode
        self._name = store.side_name(kind) if store is not None else ""
        stored = store.read_side(self._name) if store is not None else None
        entries = stored.get("entries") if isinstance(stored, dict) else None
        self._stored: dict[str, Any] = entries if isinstance(entries, dict) else {}
        self._entries: dict[str, Any] = dict(self._stored)
        self._used: set[str] = set()

    def get(self, key: str) -> Any:
        value = self._entries.get(key)
        if value is not None:
            self._used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        if self.store is not None:
            self._entries[key] = value
            self._used.add(key)

    def save(self, whole: bool) -> None:
        if self.store is None or not self._used:
            return                  # nothing asked (e.g. the rules that ask were not selected): keep the file
        keep = {k: self._entries[k] for k in self._used} if whole else self._entries
        if keep != self._stored:
            try:
                text = json.dumps({"entries": keep}, separators=(",", ":"), default=self._encode)
            except (TypeError, ValueError, RecursionError):
                return              # a memo is only ever a saving: what cannot be kept is worked out again
            self.store.write_side(self._name, text)
            self._stored = dict(keep)


def run_memo(repo: Any, kind: str, encode: Callable[[Any], Any] | None = None) -> RunMemo:
    """The run's entries of one kind (from the repository's parse cache; none kept without a cache)."""
    memos = repo.memo.setdefault(_MEMOS, {})
    memo = memos.get(kind)
    if memo is None:
        memo = memos[kind] = RunMemo(repo.cache, kind, encode)
    return memo


def save_run_memos(repo: Any, whole: bool) -> None:
    """Write back what the run's rules worked out (the engine calls this once, when the run ends), and let
    go of it: the reporters that run next need none of it."""
    for memo in repo.memo.pop(_MEMOS, {}).values():
        memo.save(whole)
