"""The parse cache: documents of files already read, keyed by content, stored as authenticated JSON.

Nothing in it can run code, and nothing in it is trusted without a MAC: every cache file carries an
HMAC-SHA256 under a key that prr-lint created (random, mode 0600) in the user's cache directory. A cache
committed to the checked repository, or written by anyone without the key, fails the MAC and is a miss;
so are truncated, corrupt and other-version files. Nothing here ever raises into a run: a cache that
cannot be read or written is simply not used.

Layout, in one directory per repository (by default `<user cache>/prr-lint/<hash of its real path>/`):
  index-<project>.json        path -> "content key|shard|stamp|document kinds" (one string, split when used)
  journal-<project>.json      path -> entry (or null: gone) changed since the index was written whole
  docs-<project>-ctx.json     content key -> Loaded, for manifests and SLOs (every run reads them all)
  docs-<project>-<shard>.json content key -> Loaded as JSON text, for other files, in SHARDS shards by directory
  render-<renderer>-<shard>-<project>.json  chart or overlay -> [render key, result], in shards (render/cache.py)
  helm-subcharts-<project>.json     Chart.yaml -> [content key, its file:// dependencies] (render/subcharts.py)
  schema-verdicts-<project>.json, promql-facts-<project>.json  what rules worked out (memo.py)
so a cold run writes a few dozen files rather than one per source file, and a warm run on one file reads
the index, the context shard and the shards of one service's directories (and rewrites only those it changed,
and the journal rather than the index while the journal holds at most JOURNAL_MIN entries or 1/16 of them).
An entry in the journal or the index is only ever trusted by its stamp, so one that is stale (two runs that
wrote at once) is a miss, never a wrong result.

The stamp, (mtime_ns, size, ctime_ns, inode) of the file when its content key was computed (with the loader
and size limit the key also depends on), saves reading and hashing unchanged files: the stored key is trusted
only when all of it still matches. A user can set the mtime
back but not the ctime, so an edit that keeps size and mtime still changes the stamp. As in git's "racy"
index, a file changed less than RACY_SECONDS before it was stamped gets no stamp (a later change within the
same timestamp tick could keep all four): it is read and hashed again next time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import posixpath
import secrets
import stat
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeGuard

import orjson

from . import __version__, shared
from .loaders import Loaded
from .loaders.errors import LoadError
from .model import Document, Path, Span

# 6: templates load as a notice, not documents; spans stored as one string per document; 7: an index entry is
# one string; 8: the parse and render caches written by orjson (UTF-8, not ASCII-escaped JSON)
FORMAT = 8
MAGIC = f"prr-lint-cache {FORMAT} {__version__}".encode()
KEY_NAME = "key"
KEY_BYTES = 32
SHARDS = 64
SHARD_NAMES = frozenset(["ctx"] + [f"{i:02d}" for i in range(SHARDS)])
MAX_CACHE_FILE = 512 << 20      # a cache file larger than this is not ours: a miss, not a memory blow-up
CONTEXT_KINDS = ("service", "backstage", "openslo", "sloth", "waivers")
JOURNAL_MIN = 64                 # changed entries kept in the journal before the index is written whole
RACY_SECONDS = 2                 # a file changed this recently is never trusted by its stamp

# never follow a symlink, never block on a FIFO: a cache file that is not a regular file is not ours
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_span = functools.partial(tuple.__new__, Span)   # Span as stored, without re-normalising it


def _h(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:n]


def default_directory(cache_home: str, root: str) -> str:
    """Where a repository's cache lives unless told otherwise: outside the checked tree."""
    return os.path.join(cache_home, "prr-lint", _h(os.path.realpath(root), 24))


def content_key(rel: str, how: str, max_size: int, raw: bytes) -> str:
    """What a file's documents depend on: its path, the loader, the size limit and its bytes."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{FORMAT}\0{rel}\0{how}\0{max_size}\0".encode("utf-8", "surrogateescape"))
    h.update(raw)
    return h.hexdigest()


def _inside(root: str, path: str) -> bool:
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


# -- the key -----------------------------------------------------------------------------------
def load_key(key_dir: str) -> bytes | None:
    """The MAC key in `key_dir`, created once (random, 0600, atomically); None if it is not private to us."""
    path = os.path.join(key_dir, KEY_NAME)
    key = _read_key(path)
    if key is not None or os.path.lexists(path):
        return key
    try:
        os.makedirs(key_dir, mode=0o700, exist_ok=True)
        tmp = os.path.join(key_dir, f".{KEY_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)      # never replaces a key another run created meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    except OSError:
        return None
    return _read_key(path)


def _read_key(path: str) -> bytes | None:
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        # a key others can read or write (e.g. one checked out from a repository) is no secret
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077 or st.st_uid != os.getuid() \
                or st.st_size != KEY_BYTES:
            return None
        key = os.read(fd, KEY_BYTES + 1)
        return key if len(key) == KEY_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


# -- Loaded <-> JSON ---------------------------------------------------------------------------
def _encode(loaded: Loaded) -> list:
    err = loaded.error
    # a document's spans are one JSON string inside the entry: reading a shard then makes one str per
    # document, and only the documents a run checks turn it into a dict (see StoredSpans)
    # (a tuple in meta is written as a list and flagged, so that reading the JSON back gives this very value)
    return [loaded.file, loaded.notice, [err.message, err.line, err.col] if err is not None else None,
            [[d.kind, d.file, d.index, [[k, list(v), True] if isinstance(v, tuple) else [k, v, False]
                                        for k, v in d.meta.items()], d.data,
              spans_text(d.spans)] for d in loaded.docs]]


def spans_text(spans: Mapping[Path, Span]) -> str:
    """A document's spans as one JSON string (a Span, a tuple subclass, is written as its four numbers)."""
    return orjson.dumps([list(spans), list(spans.values())], default=tuple).decode()


def _spans(text: str) -> dict[Path, Span]:
    paths, rows = orjson.loads(text)
    return dict(zip(map(tuple, paths), map(_span, rows), strict=True))


# documents whose stored spans are held decoded at once (see StoredSpans): more than a service has; 64 and 256
# decode as often on the generated 1,000-service monorepo (5,669 times), 256 holds about 2 MiB more
DECODED_SPANS = 64
_decoded: deque = deque()


def _packed(text: str) -> str | bytes:
    """Spans' JSON text compressed; as it is when it cannot be UTF-8 (a lone surrogate: orjson never writes one)."""
    try:
        return zlib.compress(text.encode("utf-8"), 1)
    except UnicodeEncodeError:
        return text


def _unpacked(packed: str | bytes) -> str:
    return packed if isinstance(packed, str) else zlib.decompress(packed).decode("utf-8")


def forget_decoded_spans() -> None:
    """Let go of the spans decoded last (a run that is over needs none)."""
    while _decoded:
        _decoded.popleft()._spans = None


class StoredSpans(Mapping[Path, Span]):
    """Spans as the cache stored them, decoded on first use. Documents read only to know who owns what
    (the other services' manifests in a one-file run) never need theirs.

    Only the DECODED_SPANS documents decoded last keep their spans decoded (a few hundred bytes a node, most of a
    large run's documents have findings); an older one decodes its text again when asked. Findings come document
    by document, then service by service, so that is rare. `pack`: the text is held compressed (zlib's fastest
    level: about a third of its size, for some 15 microseconds per document), for the documents a whole run holds
    to its end; not for those a one-file run reads only to know who owns what (every service's manifest: 60 ms at
    4,000 services, to save memory a run that small does not need)."""

    __slots__ = ("_text", "_spans")

    def __init__(self, text: str, pack: bool = True) -> None:
        self._text: str | bytes = _packed(text) if pack else text
        self._spans: dict[Path, Span] | None = None

    def _decoded(self) -> dict[Path, Span]:
        spans = self._spans
        if spans is None:
            try:
                spans = _spans(_unpacked(self._text))
            except (ValueError, TypeError, RecursionError, zlib.error):
                spans = {}        # signed by us, so never expected; findings then point at line 1
            if len(_decoded) >= DECODED_SPANS:
                _decoded.popleft()._spans = None
            _decoded.append(self)
            self._spans = spans
        return spans

    def __getitem__(self, path: Path) -> Span:
        return self._decoded()[path]

    def __iter__(self) -> Iterator[Path]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


def _decode(obj, lazy: bool = False, pack: bool = False) -> Loaded:
    file, notice, err, docs = obj
    out = Loaded(file, notice=notice)
    if err is not None:
        out.error = LoadError(err[0], err[1], err[2])
    for kind, dfile, index, meta, data, spans in docs:
        if not isinstance(spans, str):
            raise TypeError("spans")
        # the file's own name where it is the document's (it is, but for a built object): one string, not two
        out.docs.append(Document(kind, file if dfile == file else dfile, data,
                                 StoredSpans(spans, pack) if lazy else _spans(spans), index,
                                 {k: tuple(v) if t else v for k, v, t in meta}))
    return out


def encode_loaded(loaded: Loaded) -> str | None:
    """JSON text of a Loaded, or None when JSON cannot carry it exactly (then it is not cached).
    Exact means that the text reads back equal to the plain values it was made of: a tuple, a key that is not a
    string or a NaN would not. Spans are exact by construction (paths of str and int, four ints each)."""
    stored = stored_form(loaded)
    return stored[0] if stored is not None else None


def stored_form(loaded: Loaded) -> tuple[str, list[str]] | None:
    """(encode_loaded's text, each document's spans text), or None when JSON cannot carry the Loaded exactly."""
    try:
        encoded = _encode(loaded)
        text = orjson.dumps(encoded)
        return (text.decode(), [doc[5] for doc in encoded[3]]) if orjson.loads(text) == encoded else None
    except (ValueError, TypeError, RecursionError, OverflowError):
        return None


def decode_loaded(obj, lazy: bool = False, pack: bool = False) -> Loaded | None:
    """The Loaded of a cache entry, or None when it is malformed. `lazy`: spans are decoded on first use (and
    a malformed one is then empty, not a miss): for documents whose findings the run does not report; `pack`:
    their text held compressed (see StoredSpans)."""
    try:
        return _decode(obj, lazy, pack)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return None


# -- authenticated files -----------------------------------------------------------------------
def _signer(key: bytes, name: str) -> hmac.HMAC:
    # the file's name is part of what is signed: a valid file copied to another name is foreign
    # (the payload is fed on its own: a copy of it joined to the rest would be tens of MB for a large run)
    return hmac.new(key, MAGIC + b"\n" + name.encode() + b"\n", hashlib.sha256)


def _mac(key: bytes, name: str, payload: bytes | memoryview) -> bytes:
    mac = _signer(key, name)
    mac.update(payload)
    return mac.hexdigest().encode()


def read_signed(key: bytes, directory: str, name: str, loads: Callable[[bytes], Any] = json.loads):
    """The JSON payload of `name` if it is ours (MAC, version) and whole, else None. `loads`: orjson's for the
    files orjson wrote (the parse and render caches); json's for those json.dumps wrote, as orjson would read
    an integer beyond 64 bits as a float."""
    try:
        fd = os.open(os.path.join(directory, name), _READ_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            blob = fh.read(MAX_CACHE_FILE + 1)
    except OSError:
        return None
    # header lines found by index and the payload checked in place: one copy of it, not three
    first = blob.find(b"\n")
    second = blob.find(b"\n", first + 1) if first >= 0 else -1
    if len(blob) > MAX_CACHE_FILE or second < 0 or blob[:first] != MAGIC or \
            not hmac.compare_digest(blob[first + 1:second], _mac(key, name, memoryview(blob)[second + 1:])):
        return None
    payload = blob[second + 1:]
    del blob
    try:
        return loads(payload)
    except (ValueError, RecursionError):
        return None


PIECE = 1 << 20      # characters of a signed payload encoded at once: a large one is never copied whole


def write_signed(key: bytes, directory: str, name: str, payload: str | bytes | Iterable[str | bytes]) -> bool:
    """Write atomically (temporary file + rename): a concurrent run sees the old file or the new one. `payload`
    is the JSON text (str, or UTF-8 bytes), or its parts in order (made as they are written, so it is never held
    whole: the MAC goes in its place in the header at the end). False when not written, also when making a part
    fails."""
    path = os.path.join(directory, name)
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        mac = _signer(key, name)
        with open(tmp, "xb") as fh:
            fh.write(MAGIC + b"\n" + b"0" * mac.digest_size * 2 + b"\n")
            for part in [payload] if isinstance(payload, (str, bytes)) else payload:
                for start in range(0, len(part), PIECE):
                    piece = part[start:start + PIECE]
                    # UTF-8 a piece at a time is the whole text's UTF-8 (code points are encoded one by one)
                    data = piece if isinstance(piece, bytes) else piece.encode("utf-8")
                    mac.update(data)
                    fh.write(data)
            fh.seek(len(MAGIC) + 1)
            fh.write(mac.hexdigest().encode())
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True


def _ensure_directory(directory: str) -> bool:
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        ignore = os.path.join(directory, ".gitignore")
        if not os.path.exists(ignore):      # in case --cache-dir points inside a work tree
            with open(ignore, "w", encoding="utf-8") as fh:
                fh.write("# created by prr-lint\n*\n")
    except OSError:
        return False
    return True


# -- the cache ---------------------------------------------------------------------------------
def bucket(name: str) -> str:
    """One of SHARDS shard names ("00".."63") for `name`, the same on every run."""
    return f"{int(_h(name, 8), 16) % SHARDS:02d}"


def shard_of(rel: str) -> str:
    """One of SHARDS files, by directory: a directory's files (a service's k8s/, infra/, ...) share one,
    so a one-file run reads a few shards, and a cold run writes SHARDS files, not one per source file."""
    return bucket(posixpath.dirname(rel))


def open_cache(directory: str, key_dir: str, project: str = "", root: str | None = None) -> ParseCache | None:
    """The cache in `directory`, or None (and the run goes uncached) when there is no private key.
    A key inside the checked tree could have come with it: never use one."""
    if root is not None and _inside(root, key_dir):
        return None
    key = load_key(key_dir)
    return ParseCache(directory, key, project) if key is not None else None


# An index entry is [content key, document kinds, shard, stamp] while a run uses it, and one string in the index
# file: decoding the index then makes one string per file, not four lists, and a run splits only the strings
# of the files it looks at (unchanged() compares a stamp's text without splitting it).
_SEP = "|"


def _compact(entry: list) -> str | list:
    """The one-string form of an entry; the entry itself when a part holds a separator (read back as a list)."""
    key, kinds, shard, stamp = entry
    stamp_text = ",".join(map(str, stamp)) if stamp is not None else "-"
    parts = [key, shard, stamp_text, ",".join(kinds)]
    if any(_SEP in p for p in parts) or any("," in k or not k for k in kinds) or \
            (stamp is not None and (len(stamp) != 6 or "," in str(stamp[4]))):
        return entry
    return _SEP.join(parts)


def _expand(text: str) -> list | None:
    """The entry a one-string form stands for; None when it is not one (a miss)."""
    parts = text.split(_SEP)
    if len(parts) != 4:
        return None
    key, shard, stamp_text, kinds = parts
    stamp: list | None = None
    if stamp_text != "-":
        fields = stamp_text.split(",")
        if len(fields) != 6:
            return None
        try:
            stamp = [int(fields[0]), int(fields[1]), int(fields[2]), int(fields[3]), fields[4], int(fields[5])]
        except ValueError:
            return None
    return [key, kinds.split(",") if kinds else [], shard, stamp]


def _key_and_shard(entry: object) -> tuple:
    """(content key, shard) of an entry in either form, without expanding a string."""
    if type(entry) is str:
        parts = entry.split(_SEP, 2)
        return (parts[0], parts[1]) if len(parts) == 3 else (None, None)
    if type(entry) is list and len(entry) == 4:
        return entry[0], entry[2]
    return None, None


class ParseCache:
    def __init__(self, directory: str, key: bytes, project: str = ""):
        self.directory = directory
        self._key = key
        self._tag = _h(project, 12)
        self.index_name = f"index-{self._tag}.json"
        self.journal_name = f"journal-{self._tag}.json"
        stored = read_signed(key, directory, self.index_name, orjson.loads)
        entries = stored.get("entries") if isinstance(stored, dict) else None
        self.index: dict = entries if isinstance(entries, dict) else {}
        self._has_index = isinstance(entries, dict)
        # the entries changed since the index was last written whole (None: the file is gone): a run that
        # changed a few files rewrites this small file, not an index of every file in the repository
        stored = read_signed(key, directory, self.journal_name, orjson.loads) if self._has_index else None
        journal = stored.get("entries") if isinstance(stored, dict) else None
        self._journal: dict = journal if isinstance(journal, dict) else {}
        for rel, entry in self._journal.items():
            if entry is None:
                self.index.pop(rel, None)
            else:
                self.index[rel] = entry
        self._changed: set = set()     # paths whose entry this run wrote
        self._shards: dict = {}        # shard -> {key: a Loaded as stored: its JSON text, parsed in "ctx"}
        self._new: dict = {}           # shard -> {key: JSON text} parsed this run
        self.dirty = False

    def side_name(self, kind: str) -> str:
        """The name of another signed file of this project's cache (render/cache.py keeps render results)."""
        return f"{kind}-{self._tag}.json"

    def read_side(self, name: str, loads: Callable[[bytes], Any] = json.loads):
        return read_signed(self._key, self.directory, name, loads)

    def write_side(self, name: str, payload: str | bytes) -> None:
        if _ensure_directory(self.directory):
            write_signed(self._key, self.directory, name, payload)

    def remove_side(self, name: str) -> None:
        try:
            os.unlink(os.path.join(self.directory, name))
        except OSError:
            pass

    def _shard_name(self, shard: str) -> str:
        return f"docs-{self._tag}-{shard}.json"

    def read_context(self) -> None:
        """Read the shard of manifests and SLOs now (every run decodes it): e.g. while git lists the files."""
        self._shard("ctx")

    def _shard(self, shard: str) -> dict:
        if shard not in self._shards:
            stored = read_signed(self._key, self.directory, self._shard_name(shard), orjson.loads)
            self._shards[shard] = stored if isinstance(stored, dict) else {}
        return self._shards[shard]

    @staticmethod
    def _valid(entry: object) -> TypeGuard[list[Any]]:
        return isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], str) \
            and isinstance(entry[1], list) and isinstance(entry[2], str) and entry[2] in SHARD_NAMES \
            and (entry[3] is None or isinstance(entry[3], list))

    @staticmethod
    def _stamp(stamp) -> list | None:
        """The stamp as stored, or None when it cannot be trusted later (missing, or changed too recently)."""
        if not isinstance(stamp, tuple) or len(stamp) != 6:
            return None
        return list(stamp) if stamp[2] < time.time_ns() - RACY_SECONDS * 10**9 else None

    def unchanged(self, stats: dict, hows: dict, max_size: int) -> dict:
        """{rel: (content key, document kinds)} of every file whose stamp (its `stats` entry, loader and size
        limit, as Repository._stamp makes it) is the one stored: one pass over the index, no call per file.
        An entry stored as one string is compared by its stamp's text; equal kinds share one tuple."""
        names = SHARD_NAMES
        kinds_of: dict = {}
        out = {}
        for rel, entry in self.index.items():
            st = stats.get(rel)
            if st is None:
                continue
            if type(entry) is str:
                parts = entry.split(_SEP)
                if len(parts) == 4 and parts[2] == f"{st[0]},{st[1]},{st[2]},{st[3]},{hows.get(rel)},{max_size}" \
                        and parts[1] in names:
                    kinds = kinds_of.get(parts[3])
                    if kinds is None:
                        kinds = kinds_of[parts[3]] = tuple(parts[3].split(",")) if parts[3] else ()
                    out[rel] = (parts[0], kinds)
            elif type(entry) is list and len(entry) == 4 and type(entry[3]) is list \
                    and entry[3] == [*st, hows.get(rel), max_size] and type(entry[0]) is str \
                    and type(entry[1]) is list and type(entry[2]) is str and entry[2] in names:
                out[rel] = (entry[0], tuple(entry[1]))
        return out

    def stamp(self, rel: str, key: str, stamp) -> None:
        """Remember the stamp of a file whose content was just read and found to have this key."""
        entry = self._entry(rel, key)
        value = self._stamp(stamp)
        if entry is not None and entry[3] != value:
            entry[3] = value
            self._changed.add(rel)
            self.dirty = True

    def _entry(self, rel: str, key: str):
        entry = self.index.get(rel)
        if type(entry) is str:          # expanded once, when a run first looks at this file
            entry = _expand(entry)
            if entry is None:
                del self.index[rel]
            else:
                self.index[rel] = entry
        return entry if self._valid(entry) and entry[0] == key else None

    def kinds(self, rel: str, key: str):
        """Document kinds of a file whose content has this key, if the index knows it."""
        entry = self._entry(rel, key)
        return tuple(entry[1]) if entry is not None else None

    def get(self, rel: str, key: str, lazy: bool = False) -> Loaded | None:
        entry = self._entry(rel, key)
        if entry is None:
            return None
        obj = self._shard(entry[2]).get(key)
        if isinstance(obj, str):    # an entry is stored as its own JSON text: decoded only when asked for
            try:
                obj = shared.share_values(orjson.loads(obj))    # short values shared with other files
            except (ValueError, RecursionError):
                obj = None
        loaded = decode_loaded(obj, lazy) if obj is not None else None
        return loaded if loaded is not None and loaded.file == rel else None

    def put(self, rel: str, key: str, loaded: Loaded, stamp=None, text: str | None = None) -> None:
        """Store a file's documents; `text`: their encode_loaded form when already made (by a parse worker)."""
        text = text if text is not None else encode_loaded(loaded)
        if text is None:
            return
        kinds = sorted({d.kind for d in loaded.docs})
        # manifests and SLOs are read on every run (they say who owns what): they share one shard
        shard = "ctx" if any(k in CONTEXT_KINDS for k in kinds) else shard_of(rel)
        self.index[rel] = [key, kinds, shard, self._stamp(stamp)]
        self._new.setdefault(shard, {})[key] = text
        self._changed.add(rel)
        self.dirty = True

    def save(self, files) -> None:
        """Write what this run parsed; `files` are the candidates still in the tree (others are dropped)."""
        if not self.dirty or not _ensure_directory(self.directory):
            return                              # a read-only place still lints, just without a cache
        files = set(files)
        gone = [rel for rel in self.index if rel not in files]
        for rel in gone:
            del self.index[rel]
        live: dict = {shard: set() for shard in self._new}
        for entry in self.index.values():
            key, shard = _key_and_shard(entry)
            if shard in live:
                live[shard].add(key)
        for shard, new in self._new.items():
            keep = live.get(shard, set())
            old = self._shard(shard)
            # entries as JSON text: what this run parsed, plus what is still live from the shard on disk
            parts = {k: t for k, t in new.items() if k in keep}
            for k, obj in old.items():
                if k in keep and k not in parts:
                    parts[k] = obj if isinstance(obj, str) else orjson.dumps(obj).decode()
            # in a shard of directories each entry's text is stored as a JSON string: reading the shard then scans
            # strings, and only the entries a run asks for are parsed (a one-file run needs a few of each shard of
            # its directories); the manifests' shard is parsed whole, as every run needs all of it
            payload = "{" + ",".join(f"{json.dumps(k)}:{t if shard == 'ctx' else orjson.dumps(t).decode()}"
                                     for k, t in parts.items()) + "}"
            write_signed(self._key, self.directory, self._shard_name(shard), payload)
        journal = dict(self._journal)
        journal.update({rel: _compact(self.index[rel]) for rel in self._changed if rel in self.index})
        journal.update(dict.fromkeys(gone))
        if self._has_index and len(journal) <= max(JOURNAL_MIN, len(self.index) // 16):
            write_signed(self._key, self.directory, self.journal_name,
                         orjson.dumps({"entries": journal}))
        else:
            # a string is written back as read (whoever looks at it checks it); a list only when it is valid
            self.index = {rel: e if isinstance(e, str) else _compact(e) for rel, e in self.index.items()
                          if isinstance(e, str) or self._valid(e)}
            write_signed(self._key, self.directory, self.index_name,
                         orjson.dumps({"entries": self.index}))
            write_signed(self._key, self.directory, self.journal_name, orjson.dumps({"entries": {}}))
            journal = {}
        self._journal, self._changed, self._has_index = journal, set(), True
        # what was parsed is on disk now: not held for the rest of the run (a later read or save reads the shard)
        for shard in self._new:
            self._shards.pop(shard, None)
        self._new = {}
        self.dirty = False
