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
import stat

from . import __version__
from .discover import Refused, check_file, list_files
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
        self.real_root = os.path.realpath(root)
        problems: dict = {}
        self.files = list_files(root, [project], list(include), list(exclude), problems=problems)
        self.file_set = set(self.files)
        self.dirs = {posixpath.dirname(f) for f in self.files}
        self.chart_dirs = {posixpath.dirname(f) for f in self.files if posixpath.basename(f) in ("Chart.yaml", "Chart.yml")}
        # the files prr-lint reads: by name first, then one lstat each (existence, symlinks, cache key)
        self.stats: dict = {}
        self.candidates = {}
        # files (and unreadable directories) that are there but never opened: each a PRR000 or a notice
        self.refused: dict = {rel: Refused(message) for rel, message in problems.items()}
        for rel in self.files:
            how = candidate_kind(rel, self.chart_dirs)
            if how is not None:
                st, refused = check_file(root, rel)
                if st is not None:
                    self.candidates[rel] = how
                    self.stats[rel] = st
                elif refused is not None:
                    self.refused[rel] = refused
        for rel in self.refused:
            self.candidates.setdefault(rel, "refused")
        self._loaded: dict = {}
        self.memo: dict = {}      # per-run memo for rule helpers (module variables, markdown headings)
        self._cache = _Cache(os.path.join(root, project, cache_dir), self.stats) if cache_dir else None

    # -- files -------------------------------------------------------------------------------
    def abspath(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def real(self, rel: str) -> str | None:
        """The real path (symlinks resolved) of a repository path that stays inside the root, else None.
        An absolute path, a `..` or a symlink out of the checkout is never read, nor even tested to exist:
        whether /etc/x exists is not the pull request's business."""
        if not isinstance(rel, str) or "\0" in rel or rel.startswith("/") or os.path.isabs(rel):
            return None
        norm = posixpath.normpath(rel) if rel else "."
        if norm == ".." or norm.startswith("../"):
            return None
        try:
            full = os.path.realpath(os.path.join(self.root, norm))
        except (OSError, ValueError):
            return None
        return full if full == self.real_root or full.startswith(self.real_root.rstrip(os.sep) + os.sep) else None

    def outside(self, rel: str) -> bool:
        return self.real(rel.rstrip("/") or ".") is None

    def _stat(self, rel: str):
        real = self.real(rel.rstrip("/") or ".")
        try:
            return os.stat(real) if real is not None else None
        except (OSError, ValueError):
            return None

    def exists(self, rel: str) -> bool:
        """Anything inside the root (after symlinks); `read` is what refuses a FIFO or a device."""
        return self._stat(rel) is not None

    def is_dir(self, rel: str) -> bool:
        st = self._stat(rel)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def read(self, rel: str) -> str | None:
        return self.read_text(rel)[0]

    def read_text(self, rel: str) -> tuple:
        """(text, None) of a regular file inside the root and within max_file_size, else (None, why not).
        Only a regular file is opened, without following a last symlink and without blocking."""
        real = self.real(rel)
        if real is None:
            return None, "is outside the repository"
        try:
            if not stat.S_ISREG(os.stat(real).st_mode):
                return None, "is not a regular file"
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    return None, "is not a regular file"
                raw = fh.read(self.max_file_size + 1)
        except (OSError, ValueError) as e:
            return None, f"cannot be read ({getattr(e, 'strerror', None) or e})"
        if len(raw) > self.max_file_size:
            return None, f"is larger than max_file_size ({self.max_file_size} bytes)"
        return raw.decode("utf-8", errors="replace"), None

    # -- documents ---------------------------------------------------------------------------
    def kinds(self, rel: str) -> tuple:
        """Document kinds in a file, from the cache index when the file is unchanged."""
        if rel in self.refused:
            return ()
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
        refused = self.refused.get(rel)
        if refused is not None:
            result = Loaded(rel, error=LoadError(refused.message)) if refused.error else Loaded(rel, notice=refused.message)
        elif how is None:
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
