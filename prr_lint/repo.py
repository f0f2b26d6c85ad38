"""The repository a run reads: its files and their documents, through the parse cache (cache.py) when on.

The cache lets a pre-commit run on one changed file know every file's kind (and read every manifest)
without parsing the whole monorepo again. Entries are keyed by the file's content: each file is read once,
and the same bytes are hashed and, on a miss, parsed.
"""

from __future__ import annotations

import os
import posixpath

from .cache import CONTEXT_KINDS, ParseCache, content_key
from .discover import list_files, stat_file
from .loaders import Loaded, candidate_kind, load_file, read_bytes
from .loaders.errors import LoadError


class Repository:
    def __init__(self, root: str, include=(), exclude=(), max_file_size=5 << 20, cache: ParseCache | None = None,
                 project: str = ""):
        self.root = root
        self.project = project    # the directory of .prr-lint.yaml: only files under it belong to the run
        self.max_file_size = max_file_size
        self.files = list_files(root, [project], list(include), list(exclude))
        self.file_set = set(self.files)
        self.dirs = {posixpath.dirname(f) for f in self.files}
        self.chart_dirs = {posixpath.dirname(f) for f in self.files if posixpath.basename(f) in ("Chart.yaml", "Chart.yml")}
        # the files prr-lint reads: by name first, then one lstat each (existence, symlinks)
        self.stats: dict = {}
        self.candidates = {}
        for rel in self.files:
            how = candidate_kind(rel, self.chart_dirs)
            if how is not None:
                st = stat_file(root, rel)
                if st is not None:
                    self.candidates[rel] = how
                    self.stats[rel] = st
        self._loaded: dict = {}
        self.memo: dict = {}      # per-run memo for rule helpers (module variables, markdown headings)
        self._cache = cache
        self._keys: dict = {}     # content keys of files whose kinds came from the cache index

    # -- files -------------------------------------------------------------------------------
    def abspath(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def exists(self, rel: str) -> bool:
        rel = rel.rstrip("/")
        return rel in ("", ".") or rel in self.file_set or rel in self.dirs or os.path.exists(self.abspath(rel))

    def read(self, rel: str) -> str | None:
        try:
            with open(self.abspath(rel), encoding="utf-8", errors="replace") as fh:
                return fh.read(self.max_file_size)
        except OSError:
            return None

    # -- documents ---------------------------------------------------------------------------
    def kinds(self, rel: str) -> tuple:
        """Document kinds in a file, from the cache index when its content is unchanged."""
        if self._cache is not None and rel not in self._loaded and rel in self.candidates:
            raw, key = self._read(rel)
            kinds = self._cache.kinds(rel, key) if key is not None else None
            if kinds is not None:
                self._keys[rel] = key
                return kinds
            self._loaded[rel] = self._parse(rel, raw, key)   # a miss: parse the bytes just read
        loaded = self.load(rel)
        return tuple(sorted({d.kind for d in loaded.docs}))

    def load(self, rel: str) -> Loaded:
        if rel in self._loaded:
            return self._loaded[rel]
        if rel not in self.candidates:
            result = Loaded(rel)
        elif self._cache is None:
            result = load_file(self.root, rel, self.candidates[rel], self.chart_dirs, self.max_file_size)
        else:
            key = self._keys.pop(rel, None)
            result = self._cache.get(rel, key) if key is not None else None
            if result is None:
                result = self._parse(rel, *self._read(rel))
        self._loaded[rel] = result
        return result

    def _read(self, rel: str) -> tuple:
        """(bytes, content key) of a candidate file, or (None, None) when it cannot be read."""
        try:
            raw = read_bytes(self.abspath(rel), self.max_file_size)
        except LoadError:
            return None, None
        return raw, content_key(rel, self.candidates[rel], self.max_file_size, raw)

    def _parse(self, rel: str, raw: bytes | None, key: str | None) -> Loaded:
        how = self.candidates[rel]
        if key is None:   # unreadable: the error, never cached
            return load_file(self.root, rel, how, self.chart_dirs, self.max_file_size)
        cached = self._cache.get(rel, key)
        if cached is not None:
            return cached
        result = load_file(self.root, rel, how, self.chart_dirs, self.max_file_size, raw)
        self._cache.put(rel, key, result)
        return result

    def save_cache(self) -> None:
        if self._cache is not None:
            self._cache.save(self.candidates)


__all__ = ["Repository", "LoadError", "CONTEXT_KINDS"]
