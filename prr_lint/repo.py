"""The repository a run reads: its files, their documents, and a content-hash cache of parsed documents.

The cache lets a pre-commit run on one changed file know every file's kind (and read every manifest)
without parsing the whole monorepo again. Entries are keyed by path + content hash + prr-lint version;
a stat (mtime, size) match skips even the hashing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import posixpath

from . import __version__
from .discover import list_files, stat_file
from .loaders import Loaded, candidate_kind, load_file, read_bytes
from .loaders.errors import LoadError

CACHE_FORMAT = 2
CONTEXT_KINDS = ("service", "backstage", "openslo", "sloth", "waivers")


class Repository:
    def __init__(self, root: str, include=(), exclude=(), max_file_size=5 << 20, cache_dir: str | None = None,
                 project: str = ""):
        self.root = root
        self.project = project    # the directory of .prr-lint.yaml: only files under it belong to the run
        self.max_file_size = max_file_size
        self.files = list_files(root, [project], list(include), list(exclude))
        self.file_set = set(self.files)
        self.dirs = {posixpath.dirname(f) for f in self.files}
        self.chart_dirs = {posixpath.dirname(f) for f in self.files if posixpath.basename(f) in ("Chart.yaml", "Chart.yml")}
        # the files prr-lint reads: by name first, then one lstat each (existence, symlinks, cache key)
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
        self._cache = _Cache(os.path.join(root, project, cache_dir), self.stats) if cache_dir else None

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
        """Document kinds in a file, from the cache index when the file is unchanged."""
        if self._cache is not None:
            entry = self._cache.entry(self.root, rel)
            if entry is not None:
                return entry[1]
        loaded = self.load(rel)
        return tuple(sorted({d.kind for d in loaded.docs}))

    def load(self, rel: str) -> Loaded:
        if rel in self._loaded:
            return self._loaded[rel]
        how = self.candidates.get(rel)
        if how is None:
            result = Loaded(rel)
        elif self._cache is not None:
            result = self._cache.load(self, rel, how)
        else:
            result = load_file(self.root, rel, how, self.chart_dirs, self.max_file_size)
        self._loaded[rel] = result
        return result

    def save_cache(self) -> None:
        if self._cache is not None:
            self._cache.save()


class _Cache:
    def __init__(self, directory: str, stats: dict):
        self.directory = directory
        self.index_path = os.path.join(directory, "index.pickle")
        self.index: dict = {}
        self.dirty = False
        self._stats: dict = dict(stats)
        try:
            with open(self.index_path, "rb") as fh:
                stored = pickle.load(fh)
            if stored.get("format") == (CACHE_FORMAT, __version__):
                self.index = stored["entries"]
        except (OSError, pickle.PickleError, EOFError, AttributeError, KeyError, TypeError, ValueError, ImportError):
            self.index = {}

    def _stat(self, root: str, rel: str):
        if rel not in self._stats:
            try:
                st = os.stat(os.path.join(root, rel))
                self._stats[rel] = (st.st_mtime_ns, st.st_size)
            except OSError:
                self._stats[rel] = None
        return self._stats[rel]

    def entry(self, root: str, rel: str):
        """(key, kinds) of an unchanged file, else None."""
        entry = self.index.get(rel)
        if entry and entry[0] == self._stat(root, rel):
            return entry[1], entry[2]
        return None

    def load(self, repo: Repository, rel: str, how: str) -> Loaded:
        entry = self.entry(repo.root, rel)
        if entry is not None:
            inline = self.index[rel][3] if len(self.index[rel]) > 3 else None
            cached = inline if inline is not None else self._read(entry[0])
            if cached is not None:
                return cached
        try:
            raw = read_bytes(repo.abspath(rel), repo.max_file_size)
        except LoadError:
            return load_file(repo.root, rel, how, repo.chart_dirs, repo.max_file_size)  # the error, uncached
        key = hashlib.blake2b(rel.encode() + b"\0" + raw, digest_size=16).hexdigest()
        result = self._read(key)
        if result is None:
            result = load_file(repo.root, rel, how, repo.chart_dirs, repo.max_file_size, raw)
            self._write(key, result)
        kinds = tuple(sorted({d.kind for d in result.docs}))
        # manifests are read on every run (they say who owns what): keep them in the index itself
        inline = result if any(k in CONTEXT_KINDS for k in kinds) else None
        self.index[rel] = (self._stat(repo.root, rel), key, kinds, inline)
        self.dirty = True
        return result

    def _file(self, key: str) -> str:
        return os.path.join(self.directory, "docs", key[:2], key + ".pickle")

    def _read(self, key: str) -> Loaded | None:
        try:
            with open(self._file(key), "rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None

    def _write(self, key: str, result: Loaded) -> None:
        path = self._file(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only checkout still lints, just without a cache

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
            ignore = os.path.join(self.directory, ".gitignore")
            if not os.path.exists(ignore):
                with open(ignore, "w") as fh:
                    fh.write("# created by prr-lint\n*\n")
            tmp = f"{self.index_path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                pickle.dump({"format": (CACHE_FORMAT, __version__), "entries": self.index}, fh,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.index_path)
        except OSError:
            pass


__all__ = ["Repository", "LoadError", "CONTEXT_KINDS"]
