"""Render results kept between runs, so a warm run does not render an unchanged chart again.

An entry is keyed by everything its render depends on (render_key: the bytes of every file the renderer reads,
the overlays, the prr-lint and renderer versions) and holds what the render answered: the built Documents with
their meta (value origins, ORIGINS), the replaced files, the problems, the notices and the values files the
render judged. It lives in SHARDS signed JSON files of the parse cache by unit (cache.py: same key, same trust
rules: a bad MAC or a foreign file is a miss; never pickle), one entry per chart directory or overlay; a run reads
the shards of the units it renders only, and writes those it changed, once. A render
whose result JSON cannot carry exactly is not kept (it renders again next time).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from .. import __version__
from ..cache import SHARDS, ParseCache, StoredSpans, bucket, spans_text
from ..model import Document
from . import Problem, Rendered

FORMAT = 1


def render_key(*parts: str | bytes | Iterable[tuple[str, bytes]]) -> str:
    """A key over strings, bytes and (name, bytes) pairs, each length-prefixed so no two inputs collide."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"prr-lint render {FORMAT} {__version__}\0".encode())

    def add(raw: bytes) -> None:
        h.update(b"%d\0" % len(raw))
        h.update(raw)

    for part in parts:
        if isinstance(part, str):
            add(part.encode("utf-8", "surrogateescape"))
        elif isinstance(part, bytes):
            add(part)
        else:
            items = sorted(part)
            add(b"%d" % len(items))
            for name, raw in items:
                add(name.encode("utf-8", "surrogateescape"))
                add(raw)
    return h.hexdigest()


# -- Rendered <-> JSON -----------------------------------------------------------------------------------
def _encode_meta(value: Any) -> list:
    if isinstance(value, tuple):
        return ["t", list(value)]
    if isinstance(value, dict) and value and all(isinstance(k, tuple) for k in value):
        return ["p", [[list(k), v] for k, v in value.items()]]      # by path: value origins, ORIGINS
    return ["v", value]


def _decode_meta(tag: str, value: Any) -> Any:
    if tag == "t":
        return tuple(value)
    if tag == "p":
        return {tuple(k): v for k, v in value}
    if tag == "v":
        return value
    raise ValueError(tag)


def _encode(rendered: Rendered, judged: Iterable[str]) -> dict:
    return {"docs": [[d.kind, d.file, d.index, [[k, *_encode_meta(v)] for k, v in d.meta.items()], d.data,
                      spans_text(d.spans)]
                     for d in rendered.docs],
            "replaced": sorted(rendered.replaced),
            "problems": [[p.rule_id, p.file, p.line, p.col, p.message, p.address] for p in rendered.problems],
            "notices": [list(n) for n in rendered.notices],
            "judged": sorted(judged)}


def _no_spans(text: str) -> dict:
    return {}


def _decode(obj: dict, spans_of: Callable[[str], Mapping]) -> tuple[Rendered, set[str]]:
    """A stored result; `spans_of` makes each document's spans from their text (decoded on first use)."""
    out = Rendered()
    for kind, file, index, meta, data, spans in obj["docs"]:
        if not isinstance(spans, str) or not isinstance(file, str) or not isinstance(index, int):
            raise TypeError("document")
        out.docs.append(Document(kind, file, data, spans_of(spans), index,
                                 {k: _decode_meta(tag, v) for k, tag, v in meta}))
    out.replaced = {str(f) for f in obj["replaced"]}
    out.problems = [Problem(str(r), str(f), int(line), int(col), str(m), str(a))
                    for r, f, line, col, m, a in obj["problems"]]
    out.notices = [(str(f), str(m)) for f, m in obj["notices"]]
    return out, {str(f) for f in obj["judged"]}


def _same(a: Rendered, b: Rendered) -> bool:
    """Whether `b`, read back, is `a`: all but the spans, which spans_text writes exactly by construction (paths
    of str and int, four ints each; decoding them all again was a tenth of taking a chart apart)."""
    if (a.replaced, a.problems, a.notices) != (b.replaced, b.problems, b.notices) or len(a.docs) != len(b.docs):
        return False
    return all((x.kind, x.file, x.index, x.meta, x.service, x.data) ==
               (y.kind, y.file, y.index, y.meta, y.service, y.data) for x, y in zip(a.docs, b.docs, strict=True))


def _plain(value: Any) -> bool:
    """Only JSON's own types (a tuple equals no list, but True equals 1: compare types too)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


# -- the store ------------------------------------------------------------------------------------------
def shard_of(unit: str) -> str:
    """One of the cache's SHARDS files by unit: a run that renders one chart reads 1/SHARDS of the stored results."""
    return bucket(unit)


class RenderCache:
    """One renderer's entries: unit (a chart directory, an overlay) -> [key, encoded result], in SHARDS signed
    files by unit, each read when a unit of it is first asked for."""

    def __init__(self, store: ParseCache, renderer: str, pack: bool = True):
        self._store = store
        self._renderer = renderer
        self._pack = pack               # stored spans held compressed (see Repository.spans_packed)
        self._shards: dict[str, dict] = {}     # shard -> its entries, as read (and changed)
        self._dirty: set[str] = set()

    def _entries(self, unit: str) -> dict:
        shard = shard_of(unit)
        if shard not in self._shards:
            stored = self._store.read_side(self._name(shard), orjson.loads)
            self._shards[shard] = stored if isinstance(stored, dict) else {}
        return self._shards[shard]

    def _name(self, shard: str) -> str:
        return self._store.side_name(f"render-{self._renderer}-{shard}")

    def get(self, unit: str, key: str) -> tuple[Rendered, set[str]] | None:
        """The stored result of `unit` if it was made from exactly this key, else None (a miss)."""
        entry = self._entries(unit).get(unit)
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != key or not isinstance(entry[1], dict):
            return None
        try:
            found = _decode(entry[1], functools.partial(StoredSpans, pack=self._pack))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            return None
        return found

    def put(self, unit: str, key: str, rendered: Rendered, judged: Iterable[str]) -> None:
        """Keep a fresh result, if JSON carries it exactly (checked by a round trip)."""
        try:
            obj = orjson.loads(orjson.dumps(_encode(rendered, judged)))
            if not _same(rendered, _decode(obj, _no_spans)[0]):
                return
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError):
            return
        self._entries(unit)[unit] = [key, obj]
        self._dirty.add(shard_of(unit))

    def get_json(self, unit: str, key: str) -> Any:
        """A plain JSON result (a renderer's raw build output) stored by put_json, or None."""
        entry = self._entries(unit).get(unit)
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != key or not isinstance(entry[1], dict) \
                or "json" not in entry[1]:
            return None
        return entry[1]["json"]

    def put_json(self, unit: str, key: str, value: Any) -> None:
        try:
            # a copy: the caller may change its objects (kustomize's are mapped in place) before save()
            copy = orjson.loads(orjson.dumps(value)) if _plain(value) else None
        except (ValueError, TypeError, RecursionError, OverflowError):
            return
        if copy is not None and copy == value:
            self._entries(unit)[unit] = [key, {"json": copy}]
            self._dirty.add(shard_of(unit))

    def save(self, units: Iterable[str] | Mapping[str, Any]) -> None:
        """Write the shards this run changed, without the entries of units (e.g. chart directories) no longer
        there: a shard read this run is pruned, and one that holds no unit still there is removed unread (a run
        on one chart reads no other shard)."""
        live = set(units)
        for shard, entries in self._shards.items():
            gone = [u for u in entries if u not in live]
            for unit in gone:
                del entries[unit]
            if shard in self._dirty or gone:
                try:
                    payload = orjson.dumps(entries)
                except TypeError:         # put() lets in only what orjson carries: never expected
                    continue
                self._store.write_side(self._name(shard), payload)
        self._dirty.clear()
        held = {shard_of(unit) for unit in live}
        for n in range(SHARDS):
            if f"{n:02d}" not in held and f"{n:02d}" not in self._shards:
                self._store.remove_side(self._name(f"{n:02d}"))
        self._store.remove_side(self._store.side_name(f"render-{self._renderer}"))    # the one file of before
