"""The repository a run reads: its files and their documents, through the parse cache (cache.py) when on.

The cache lets a pre-commit run on one changed file know every file's kind (and read every manifest)
without parsing the whole monorepo again. Entries are keyed by the file's content: a file whose stamp (mtime,
size, ctime, inode, from the lstat every run makes anyway) is the one stored with its entry is not read at
all; any other is read once, and the same bytes are hashed and, on a miss, parsed.
"""

from __future__ import annotations

import functools
import os
import posixpath
import stat
from collections.abc import Callable, Collection
from typing import Any

from .cache import CONTEXT_KINDS, ParseCache, StoredSpans, content_key, stored_form
from .discover import Refused, check_files, list_files, stamp_files
from .loaders import Loaded, candidate_kind, load_file, read_bytes
from .loaders.errors import LoadError

_CHART_NAMES = ("Chart.yaml", "Chart.yml")


def chart_dirs(files: list[str]) -> set[str]:
    """The directories of the Helm charts among `files` (those holding a Chart.yaml)."""
    return {posixpath.dirname(f) for f in files if f.endswith(_CHART_NAMES) and posixpath.basename(f) in _CHART_NAMES}


DEFAULT_MIN_FILES = 1000     # files to parse from which a run parses in worker processes (parsepool.py)
# candidate files from which a run holds compressed the spans it parses in-process or reads from the render cache
PACKED_SPANS_FROM = DEFAULT_MIN_FILES
_CONTEXT = frozenset(CONTEXT_KINDS)


class Repository:
    def __init__(self, root: str, include=(), exclude=(), max_file_size=5 << 20, cache: ParseCache | None = None,
                 project: str = "", parse_workers: int | None = 0, parse_pool_min: int = DEFAULT_MIN_FILES,
                 listing: tuple[list[str], dict] | None = None, lstats: dict | None = None):
        self.root = root
        # worker processes for large parses (see prefetch; None: one per CPU); fewer than 2 never start a pool
        self.parse_workers = parse_workers
        self.parse_pool_min = parse_pool_min
        self._started: Any = None     # parse workers started ahead (parsepool.Started), for prefetch
        self.project = project    # the directory of .prr-lint.yaml: only files under it belong to the run
        self.max_file_size = max_file_size
        self.real_root = os.path.realpath(root)
        problems: dict = {}
        if listing is not None:   # (files, problems) listed already by the caller (replay.py lists before a run)
            self.files, problems = list(listing[0]), dict(listing[1])
        elif cache is not None:
            # while git walks the work tree: the manifests' shard (every run reads it) is decoded, and the files
            # the cache index knows (the last run's candidates) are stamped, before this run reads any of them
            stamped: dict = {}

            def meanwhile() -> None:
                cache.read_context()
                stamped.update(stamp_files(root, list(cache.index)))

            self.files = list_files(root, [project], list(include), list(exclude), problems=problems,
                                    meanwhile=meanwhile)
            lstats = {**stamped, **(lstats or {})}
        else:
            self.files = list_files(root, [project], list(include), list(exclude), problems=problems)
        self.file_set = set(self.files)
        self.chart_dirs = chart_dirs(self.files)
        # the files prr-lint reads: by name first, then one lstat each (existence, symlinks)
        named = {}
        for rel in self.files:
            how = candidate_kind(rel, self.chart_dirs)
            if how is not None:
                named[rel] = how
        # (mtime_ns, size, ctime_ns, inode) of each candidate: lets the cache trust a stored content hash
        # (lstats: the caller's stamps of listed files, taken this run; replay.py stamps every one)
        self.stats, refused = check_files(root, list(named), lstats)
        self.candidates = {rel: how for rel, how in named.items() if rel in self.stats}
        # files (and unreadable directories) that are there but never opened: each a PRR000 or a notice
        self.refused: dict = {rel: Refused(message) for rel, message in problems.items()}
        self.refused.update(refused)
        for rel in self.refused:
            self.candidates.setdefault(rel, "refused")
        self._loaded: dict = {}
        self.memo: dict = {}      # per-run memo for rule helpers (module variables, markdown headings)
        self._cache = cache
        self._keys: dict = {}     # content keys of files whose kinds came from the cache index
        self._read_keys: dict[str, str] = {}    # content keys of the bytes this run read (replay.py keeps them)
        # (content key, kinds) of the files whose stamp is the one the cache stored: neither read nor hashed
        self._real: dict[str, str | None] = {}     # real() answers of this run
        self._realpaths: dict[str, str] = {}       # path -> its realpath, inside the root or not (_resolved)
        # real path -> st_mode of what it is (None: missing), from the lstat _resolved made or one stat: rules ask
        # whether the same runbooks and claimed directories exist many times a run
        self._modes: dict[str, int | None] = {}
        self._known: dict = cache.unchanged(self.stats, self.candidates, max_file_size) if cache is not None else {}

    # -- files -------------------------------------------------------------------------------
    @functools.cached_property
    def dirs(self) -> set:
        return {posixpath.dirname(f) for f in self.files}

    @functools.cached_property
    def sorted_files(self) -> list[str]:
        """The listed files in order, made once a run: the files under a directory are one range of it (bisect)."""
        return sorted(self.files)

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
        if norm in self._real:    # rules ask about the same runbooks and procedures many times a run
            return self._real[norm]
        full = self.real_root if norm == "." else self._resolved(norm)
        inside = full == self.real_root or full.startswith(self.real_root.rstrip(os.sep) + os.sep)
        self._real[norm] = full if inside else None
        return self._real[norm]

    def _resolved(self, norm: str) -> str:
        """os.path.realpath(root/norm) for a normalised path without `..`, with one lstat per path prefix
        a run meets (realpath itself lstats every component from `/` on every call): a directory's real
        path is found once, and an entry that is no symlink is its real directory joined with its name."""
        full, prefix = self.real_root, ""
        for name in norm.split("/"):
            prefix = f"{prefix}/{name}" if prefix else name
            known = self._realpaths.get(prefix)
            if known is None:
                joined = os.path.join(full, name)
                try:
                    mode: int | None = os.lstat(joined).st_mode
                except (OSError, ValueError):
                    mode = None         # missing: realpath keeps the rest of the path as written
                link = mode is not None and stat.S_ISLNK(mode)
                known = self._realpaths[prefix] = os.path.realpath(joined) if link else joined
                if not link:
                    self._modes.setdefault(joined, mode)    # no symlink: what os.stat would say of it
            full = known
        return full

    def outside(self, rel: str) -> bool:
        return self.real(rel.rstrip("/") or ".") is None

    def _mode(self, rel: str) -> int | None:
        """st_mode of what a path inside the root leads to (symlinks followed), None when missing or outside."""
        real = self.real(rel.rstrip("/") or ".")
        if real is None:
            return None
        if real not in self._modes:
            try:
                self._modes[real] = os.stat(real).st_mode
            except (OSError, ValueError):
                self._modes[real] = None
        return self._modes[real]

    def exists(self, rel: str) -> bool:
        """Anything inside the root (after symlinks); `read` is what refuses a FIFO or a device."""
        return self._mode(rel) is not None

    def is_dir(self, rel: str) -> bool:
        mode = self._mode(rel)
        return mode is not None and stat.S_ISDIR(mode)

    def read(self, rel: str) -> str | None:
        return self.read_text(rel)[0]

    def read_text(self, rel: str) -> tuple:
        """(text, None) of a regular file inside the root and within max_file_size, else (None, why not).
        Only a regular file is opened, without following a last symlink and without blocking."""
        real = self.real(rel)
        if real is None:
            return None, "is outside the repository"
        try:
            # a missing file is stat-ed again: the error's own words are the answer
            if not stat.S_ISREG(self._modes.get(real) or os.stat(real).st_mode):
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
        """Document kinds in a file, from the cache index when its content is unchanged."""
        if rel in self.refused:
            return ()
        if self._cache is not None and rel not in self._loaded and rel in self.candidates:
            known = self._known.get(rel)
            if known is not None:
                self._keys[rel] = known[0]
                return known[1]
            raw, key = self._read(rel)
            kinds = self._cache.kinds(rel, key) if key is not None else None
            if kinds is not None:
                self._keys[rel] = key
                self._cache.stamp(rel, key, self._stamp(rel))
                return kinds
            self._loaded[rel] = self._parse(rel, raw, key)   # a miss: parse the bytes just read
        loaded = self.load(rel)
        return tuple(sorted({d.kind for d in loaded.docs}))

    def known_key(self, rel: str) -> str | None:
        """The content key of a file whose stamp is the one the cache index stored (unchanged since a run read
        it), without reading it; None for any other file, or without a cache."""
        known = self._known.get(rel)
        return known[0] if known is not None else None

    def content_keys(self) -> dict[str, str]:
        """{rel: content key} of every candidate whose content this run read or trusted by its stamp."""
        keys = {rel: known[0] for rel, known in self._known.items()}
        keys.update(self._read_keys)
        return keys

    def context_files(self) -> set[str]:
        """Candidates holding a manifest, SLOs or waivers (what says who owns what): known from the cache index
        for unchanged files; any other file is read, and parsed when its content is new."""
        known = self._known
        out = {rel for rel, (_, kinds) in known.items() if not _CONTEXT.isdisjoint(kinds)}
        unknown = [rel for rel in self.candidates if rel not in known]
        self.prefetch(unknown)
        for rel in unknown:
            if not _CONTEXT.isdisjoint(self.kinds(rel)):
                out.add(rel)
        return out

    def start_pool(self, rels: list[str]) -> None:
        """Start the parse pool's workers now when prefetch(rels) will use them (at least parse_pool_min files the
        cache has never seen), so that they start while the run does other work first."""
        if self.parse_workers is not None and self.parse_workers < 2 or self._started is not None:
            return
        index = self._cache.index if self._cache is not None else {}
        unseen = sum(1 for rel in rels if rel not in self._loaded and rel not in index and rel in self.candidates
                     and rel not in self.refused)
        if unseen < self.parse_pool_min:
            return
        from .parsepool import Started, worker_count

        workers = worker_count(self.parse_workers)
        if workers >= 2:
            self._started = Started(self.root, self.chart_dirs, self.max_file_size, workers)

    def prefetch(self, rels: list[str], first: Collection[str] = (), then: Callable[[], None] | None = None) -> None:
        """Parse ahead the files among `rels` that are not loaded and whose documents the cache does not hold:
        in worker processes when there are at least parse_pool_min of them, else not yet (load parses them).
        `then` is called once: as soon as the files of `first` are loaded (the pool parses them before the others),
        else when prefetch ends (so it may parse them itself)."""
        started, self._started = self._started, None
        waiting = [then] if then is not None else []
        try:
            self._prefetch(rels, started, first, waiting)
        finally:
            if started is not None:
                started.stop()          # the workers parse_files did not take
        if waiting:
            waiting.pop()()

    def _prefetch(self, rels: list[str], started, first: Collection[str], waiting: list) -> None:
        if self.parse_workers is not None and self.parse_workers < 2:
            return
        todo = [rel for rel in rels if rel not in self._loaded and rel not in self._known and rel in self.candidates
                and rel not in self.refused]
        if len(todo) < self.parse_pool_min:
            return
        from .parsepool import PoolUnavailable, parse_files, worker_count

        workers = worker_count(self.parse_workers)
        if workers < 2:
            return
        if self._cache is not None:     # content already cached (a moved checkout, a restored cache): no parse
            misses = []
            for rel in todo:
                if rel not in self._cache.index:    # never cached: no need to read it here (a worker will)
                    misses.append((rel, None, None))
                    continue
                raw, key = self._read(rel)
                cached = self._cache.get(rel, key) if key is not None else None
                if cached is not None:
                    self._cache.stamp(rel, key, self._stamp(rel))
                    self._loaded[rel] = cached
                elif key is not None:
                    misses.append((rel, raw, key))
            if len(misses) < self.parse_pool_min:
                for rel, raw, key in misses:    # parse them now, with the bytes already read
                    self._loaded[rel] = self._parse(rel, *((raw, key) if key is not None else self._read(rel)))
                return
            todo = [rel for rel, _, _ in misses]
        from .render import meanwhile  # charts begun early are taken apart while the workers parse

        # each path as the listing's own string: a worker's answer brings two copies of it, let go here
        asked = {rel: rel for rel in todo}
        wanted = {rel for rel in first if rel in asked}
        todo = [rel for rel in todo if rel in wanted] + [rel for rel in todo if rel not in wanted]
        if not wanted and waiting:
            waiting.pop()()
        try:
            for parsed in meanwhile(self, parse_files(self.root, [(rel, self.candidates[rel]) for rel in todo],
                                                      self.chart_dirs, self.max_file_size, workers,
                                                      started=started)):
                if wanted:
                    wanted.discard(parsed.rel)
                    if not wanted and waiting:
                        waiting.pop()()
                listed = asked.get(parsed.rel)
                if listed is None or parsed.loaded is None:
                    continue            # JSON could not carry it: load parses it in-process
                self._loaded[listed] = _as_listed(parsed.loaded, listed)
                if parsed.key is not None:
                    self._read_keys[listed] = parsed.key
                if self._cache is not None and parsed.key is not None and parsed.text is not None:
                    self._cache.put(listed, parsed.key, parsed.loaded, self._stamp(listed), parsed.text)
        except PoolUnavailable:
            pass                        # what the pool did not parse, load parses in-process

    def load(self, rel: str, lazy: bool = False) -> Loaded:
        """A file's documents. `lazy`: spans from the cache are decoded on first use, for a file read only
        for what it says (ownership), whose findings the run does not report."""
        if rel in self._loaded:
            return self._loaded[rel]
        refused = self.refused.get(rel)
        if refused is not None:
            result = Loaded(rel, error=LoadError(refused.message)) if refused.error \
                else Loaded(rel, notice=refused.message)
        elif rel not in self.candidates:
            result = Loaded(rel)
        elif self._cache is None:
            result = load_file(self.root, rel, self.candidates[rel], self.chart_dirs, self.max_file_size)
        else:
            key = self._keys.pop(rel, None)
            if key is None:
                known = self._known.get(rel)
                key = known[0] if known is not None else None
            cached = self._cache.get(rel, key, lazy) if key is not None else None
            result = cached if cached is not None else self._parse(rel, *self._read(rel))
        self._loaded[rel] = result
        return result

    def _stamp(self, rel: str) -> tuple | None:
        """What must be unchanged for a stored content key to hold without reading: the file's lstat
        (mtime, size, ctime, inode) and what else goes into the key (loader, size limit)."""
        st = self.stats.get(rel)
        return (*st, self.candidates[rel], self.max_file_size) if st is not None and len(st) == 4 else None

    def _read(self, rel: str) -> tuple:
        """(bytes, content key) of a candidate file, or (None, None) when it cannot be read."""
        try:
            raw = read_bytes(self.abspath(rel), self.max_file_size)
        except LoadError:
            return None, None
        key = self._read_keys[rel] = content_key(rel, self.candidates[rel], self.max_file_size, raw)
        return raw, key

    def _parse(self, rel: str, raw: bytes | None, key: str | None) -> Loaded:
        how = self.candidates[rel]
        if key is None:   # unreadable: the error, never cached
            return load_file(self.root, rel, how, self.chart_dirs, self.max_file_size)
        assert self._cache is not None      # a key is only computed when the cache is on
        # the stamp was taken before the read: a change in between makes it stale, never the key
        cached = self._cache.get(rel, key)
        if cached is not None:
            self._cache.stamp(rel, key, self._stamp(rel))
            return cached
        result = load_file(self.root, rel, how, self.chart_dirs, self.max_file_size, raw)
        stored = stored_form(result)
        if stored is not None:
            self._cache.put(rel, key, result, self._stamp(rel), stored[0])
            # spans held as the cache holds them (decoded when a finding needs them), as a parse worker's
            # documents come: a file parsed here costs no more memory for the rest of the run. Compressed in a
            # run of as many files as a parse pool takes; below that they are a few MB at most, and zlib releases
            # the GIL: with charts rendering in threads meanwhile, each compression waited for it to come back
            # (64 us a file on the generated 100-service monorepo, 14 % of its parse)
            for doc, spans in zip(result.docs, stored[1], strict=True):
                doc.spans = StoredSpans(spans, self.spans_packed)
        return result

    @property
    def spans_packed(self) -> bool:
        """Whether documents made this run hold their spans compressed: in a run as large as a parse pool takes."""
        return len(self.candidates) >= PACKED_SPANS_FROM

    @property
    def cache(self) -> ParseCache | None:
        """The parse cache of this run (None: --no-cache, or no private key); renderers keep results in it."""
        return self._cache

    def let_go(self) -> None:
        """Forget the documents read and the rules' memos (the run is over); what it read stays known."""
        self._loaded.clear()
        self.memo.clear()

    def save_cache(self) -> None:
        if self._cache is not None:
            self._cache.save(self.candidates)


def _as_listed(loaded: Loaded, rel: str) -> Loaded:
    """`loaded` (and its documents of that file) holding `rel`, an equal string, for its path."""
    loaded.file = rel
    for doc in loaded.docs:
        if doc.file == rel:
            doc.file = rel
    return loaded


__all__ = ["Repository", "LoadError", "CONTEXT_KINDS"]
