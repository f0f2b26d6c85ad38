"""Which files a run looks at: the repository root, .gitignore, include/exclude globs, symlinks."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable

from . import prestart

READ_EXT = (".yaml", ".yml", ".tf", ".json")   # names prr-lint may read (see loaders.candidate_kind)
SKIP_DIRS = {".git", ".hg", ".svn", ".terraform", "node_modules", ".prr-lint-cache", "__pycache__", ".venv"}
# a path with a SKIP_DIRS directory in it: one regex search per listed file, not a Python step per part
_SKIPPED = re.compile("(?:^|/)(?:" + "|".join(re.escape(d) for d in sorted(SKIP_DIRS)) + ")/")
# the same over a whole listing joined by NULs: one search tells that no path needs a look of its own
_SKIPPED_IN_LISTING = re.compile("(?:^|[/\0])(?:" + "|".join(re.escape(d) for d in sorted(SKIP_DIRS)) + ")/")


def git_toplevel(path: str) -> str | None:
    path = os.path.abspath(path)
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    probe = directory
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent


def _git_files(root: str, problems: dict, meanwhile: Callable[[], None] | None = None) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, as git sees them (all of .gitignore's rules). `meanwhile`
    runs while git walks the work tree (on another core)."""
    proc = prestart.take(root)      # started when the command line named the root (cli.py), else now
    if proc is None:
        try:
            proc = prestart.git(root, prestart.LISTING)
        except (OSError, subprocess.SubprocessError):
            return None
    with proc:
        try:
            if meanwhile is not None:
                meanwhile()
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None
        except BaseException:
            proc.kill()
            raise
    if proc.returncode != 0:
        return None
    # git skips a directory it cannot open with only a warning: its files would go unchecked unnoticed
    for line in err.decode("utf-8", "surrogateescape").splitlines():
        m = _GIT_UNREADABLE.search(line)
        if m:
            problems[printable(m.group(1).rstrip("/"))] = \
                f"directory cannot be read ({m.group(2)}); its files are not checked"
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


_GIT_UNREADABLE = re.compile(r"could not open directory '(.*)': (.*)$")


def printable(rel: str) -> str:
    """A path read with surrogateescape, with any byte that is not UTF-8 shown as `\\xNN`."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _walk(root: str, start: str, problems: dict) -> list[str]:
    out = []

    def unreadable(err: OSError) -> None:
        rel = os.path.relpath(err.filename, root).replace(os.sep, "/") if err.filename else "."
        problems[printable(rel)] = f"directory cannot be read ({err.strerror}); its files are not checked"

    for dirpath, dirnames, filenames in os.walk(start, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            out.append(name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/"))
    return out


def inside(root: str, path: str) -> bool:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def list_files(root: str, scope: list[str], include: list[str], exclude: list[str], use_git: bool = True,
               problems: dict | None = None, meanwhile: Callable[[], None] | None = None) -> list[str]:
    """Repository-relative POSIX paths of files under `scope` (relative dirs/files), sorted; not yet
    checked to exist (see stat_file: only the files prr-lint reads are looked at). `problems` receives
    {printable path: why it is not checked} for unreadable directories and names that are not UTF-8.
    `meanwhile` is called once, while git lists the files when it does."""
    problems = {} if problems is None else problems
    found: dict = {}
    files = _git_files(root, found, meanwhile) if use_git and os.path.isdir(os.path.join(root, ".git")) else None
    if files is None:
        found.clear()
        files = _walk(root, root, found) if any(s in ("", ".") for s in scope) else \
            [f for s in scope
             for f in (_walk(root, os.path.join(root, s), found) if os.path.isdir(os.path.join(root, s)) else [s])]
    if include or exclude:
        import pathspec  # only for patterns: a run without any does not pay its import

    exclude_spec = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None
    include_spec = pathspec.GitIgnoreSpec.from_lines(include) if include else None
    prefixes = [s.rstrip("/") for s in scope if s not in ("", ".")]
    if not (include or exclude or prefixes or found):
        joined = "\0".join(files)
        if joined.isascii() and _SKIPPED_IN_LISTING.search(joined) is None:
            return sorted(set(files))       # every path is kept as it is (the common case): no step per path
    # globs are written relative to the project (the directory of .prr-lint.yaml)
    cut = len(prefixes[0]) + 1 if len(prefixes) == 1 else 0
    out = []
    for rel in list(files) + [d + "/" for d in found]:
        if prefixes and not any(rel == p or rel.startswith(p + "/") or p.startswith(rel.rstrip("/") + "/")
                                for p in prefixes):
            continue
        if _SKIPPED.search(rel):
            continue
        local = rel[cut:]
        if exclude_spec and exclude_spec.match_file(local):
            continue
        if include_spec and not rel.endswith("/") and not include_spec.match_file(local):
            continue
        if rel.endswith("/"):
            problems[rel.rstrip("/")] = found[rel.rstrip("/")]
        elif not rel.isascii() and has_surrogates(rel):     # most names are ASCII: no call for them
            if not rel.endswith(READ_EXT):
                continue
            # a name git gives as bytes that are not UTF-8: no reporter can print it, so it is never opened
            problems[printable(rel)] = "file name is not valid UTF-8; not checked"
        else:
            out.append(rel)
    return sorted(set(out))


def has_surrogates(rel: str) -> bool:
    # most names are ASCII: one C-level test instead of a Python step per character of every path
    return not rel.isascii() and any("\udc80" <= ch <= "\udcff" for ch in rel)


def stat_file(root: str, rel: str):
    """(mtime_ns, size, ctime_ns, inode) of a regular file inside the root, else None: a tracked file may be
    deleted in the work tree, and a symlink must never lead out of the repository. One lstat for ordinary files."""
    return check_file(root, rel)[0]


def stamp(st: os.stat_result) -> list[int]:
    """[mtime_ns, size, ctime_ns, inode, mode]: what tells a file changed (a list: as replay.py stores it)."""
    return [st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino, st.st_mode]


def stamp_files(root: str, rels: list[str]) -> dict:
    """{rel: stamp} of the paths lstat finds (check_files takes these)."""
    prefix, lstat = os.path.join(root, ""), os.lstat
    out = {}
    for rel in rels:
        try:
            out[rel] = stamp(lstat(prefix + rel))
        except (OSError, ValueError):
            continue
    return out


def check_files(root: str, rels: list[str], lstats: dict | None = None) -> tuple[dict, dict]:
    """check_file for many files: ({rel: stat} of regular files, {rel: Refused}). An ordinary file costs one
    lstat and no Python call; only the rest (symlinks, special files, a file gone) take check_file's way.
    `lstats`: (mtime_ns, size, ctime_ns, inode, mode) of files lstat-ed already in this run (by replay.py, or
    while git listed the files), not asked again."""
    prefix, lstat, is_regular = os.path.join(root, ""), os.lstat, stat.S_ISREG
    known = lstats or {}
    stats: dict = {}
    refused: dict = {}
    for rel in rels:
        stamp = known.get(rel)
        if stamp is not None and is_regular(stamp[4]):
            stats[rel] = (stamp[0], stamp[1], stamp[2], stamp[3])
            continue
        try:
            st = lstat(prefix + rel)
        except (OSError, ValueError):
            st = None
        if st is not None and is_regular(st.st_mode):
            stats[rel] = (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino)
            continue
        found, why = check_file(root, rel)
        if found is not None:
            stats[rel] = found
        elif why is not None:
            refused[rel] = why
    return stats, refused


def check_file(root: str, rel: str) -> tuple:
    """(stat, None) of a regular file inside the root, else (None, why not): None for a file that is
    simply gone (deleted in the work tree), `Refused` for one that is there but must not be opened (a FIFO
    blocks the run forever, a device never ends, a symlink may lead anywhere). Never opens the file."""
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            if not inside(root, full):
                return None, Refused("symlink leads outside the repository; not checked", error=False)
            st = os.stat(full)
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except OSError as e:
        return None, Refused(f"cannot read file: {e.strerror}; not checked")
    if stat.S_ISREG(st.st_mode):
        # the parse cache trusts a stored content hash only when all four are unchanged
        return (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino), None
    return None, Refused(f"not a regular file ({file_type(st.st_mode)}); not checked")


class Refused:
    """Why a file is not opened: a PRR000 finding (`error`) or a notice."""

    def __init__(self, message: str, error: bool = True):
        self.message = message
        self.error = error


def file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"
