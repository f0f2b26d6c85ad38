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

import orjson

if TYPE_CHECKING:
    from .cache import ParseCache

_MEMOS = "run-memos"      # in Repository.memo: kind -> RunMemo
FORMAT = 2                # each entry its own JSON text


class RunMemo:
    """One kind of entries (key -> JSON value, or a value `encode` turns into one when saved) of a run.

    The file holds each entry as its own JSON text, decoded when a rule asks for it: a run on one file asks for
    a handful of the thousands a monorepo's file holds, and decoding them all was most of what reading cost."""

    def __init__(self, store: ParseCache | None, kind: str, encode: Callable[[Any], Any] | None = None):
        self.store = store
        self.local: dict = {}           # what the run derived from the entries (decoded values): not saved
        self._encode = encode
        self._name = store.side_name(kind) if store is not None else ""
        # only strings at this level, so orjson reads it (it would turn an integer beyond 64 bits into a float,
        # and the entries' own text is read by json)
        stored = store.read_side(self._name, orjson.loads) if store is not None else None
        entries = stored.get("entries") if isinstance(stored, dict) and stored.get("format") == FORMAT else None
        self._stored: dict[str, str] = entries if isinstance(entries, dict) else {}
        self._new: dict[str, Any] = {}  # entries worked out this run (values, encoded when saved)
        self._used: set[str] = set()

    def get(self, key: str) -> Any:
        value = self._new.get(key)
        if value is None:
            text = self._stored.get(key)
            if type(text) is not str:
                return None
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                return None
        if value is not None:
            self._used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        if self.store is not None:
            self._new[key] = value
            self._used.add(key)

    def save(self, whole: bool) -> None:
        if self.store is None or not self._used:
            return                  # nothing asked (e.g. the rules that ask were not selected): keep the file
        kept = self._used if whole else self._used | self._stored.keys()
        if not self._new and kept == self._stored.keys():
            return                  # the file holds exactly these entries already
        keep = {}
        try:
            for key in kept:
                text = self._stored.get(key) if key not in self._new else None
                keep[key] = text if type(text) is str else \
                    json.dumps(self._new[key], separators=(",", ":"), default=self._encode)
            payload = orjson.dumps({"format": FORMAT, "entries": keep})
        except (TypeError, ValueError, RecursionError, KeyError):
            return                  # a memo is only ever a saving: what cannot be kept is worked out again
        self.store.write_side(self._name, payload)
        self._stored, self._new = keep, {}


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
