"""Git helpers (gitpython): what a change touched against a base ref, and the commit being checked.

Every function takes the directory prr-lint treats as the repository root and returns paths relative
to it (POSIX), whatever the git top-level is. Problems a user can fix are raised as UsageError.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError
from .escape import one_line

# a hunk header of `git diff --unified=0`: old start,count and new start,count
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
# what starts one file's section of the patch: every pair of the raw listing has exactly one
_SECTION = (b"diff --git ", b"* Unmerged path ")


@dataclass
class ChangeSet:
    """Lines a change added or modified, per file; `None` means every line (a new or untracked file)."""

    base: str                                   # the commit the change is measured from
    lines: dict = field(default_factory=dict)   # rel path -> set of 1-based line numbers, or None
    files: set = field(default_factory=set)     # every path touched, deleted and renamed-from ones too
    warning: str | None = None                  # e.g. a shallow clone without the merge base

    def touches(self, rel: str, line: int) -> bool:
        if rel not in self.lines:
            return False
        wanted = self.lines[rel]
        return wanted is None or line in wanted


def open_repo(root: str):
    """The git repository containing `root`, or None."""
    try:
        import git
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        return None
    from .prestart import hardening

    repo.git.update_environment(**hardening())   # its config is not ours to run (core.fsmonitor)
    return repo


def head_commit(root: str) -> str | None:
    """The commit being checked (HEAD), or None outside git or before the first commit."""
    repo = open_repo(root)
    if repo is None:
        return None
    try:
        return repo.head.commit.hexsha
    except (ValueError, TypeError, Exception):  # unborn HEAD, broken repository
        return None


def _rel(root: str, top: str, path: str) -> str:
    rel = os.path.relpath(os.path.join(top, path), root)
    return rel.replace(os.sep, "/")


def _decode(path: bytes) -> str:
    # the same str os.walk gives for the file (undecodable bytes kept as surrogates)
    return os.fsdecode(path)


def _raw_entries(data: bytes) -> tuple[list, int]:
    """The `--raw -z` listing at the start of `git diff --raw -p -z`: [(status, old, new)] and where the
    patch starts. Paths are NUL-terminated bytes, never quoted: any name survives as it is."""
    entries = []
    pos = 0
    while data.startswith(b":", pos):
        meta_end = data.index(b"\0", pos)
        status = data[pos:meta_end].split(b" ")[-1][:1].decode("ascii")
        first_end = data.index(b"\0", meta_end + 1)
        first = data[meta_end + 1:first_end]
        pos = first_end + 1
        if status in ("R", "C"):    # a rename or copy names its source, then its destination
            second_end = data.index(b"\0", pos)
            entries.append((status, first, data[pos:second_end]))
            pos = second_end + 1
        else:
            entries.append((status, first, first))
    if data.startswith(b"\0", pos):  # the separator between the listing and the patch
        pos += 1
    return entries, pos


def _hunk_lines(patch: bytes) -> list[set[int]]:
    """Per file section of a `--unified=0` patch, in the order of the raw listing: the set of new-side line
    numbers its hunks add or modify. The patch's own path headers are never read: a hunk's counts say how
    many lines it holds, so no content line (`--- x`, `diff --git ...`) can pass for a header."""
    sections: list[set[int]] = []
    lines = patch.split(b"\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith(_SECTION):
            sections.append(set())
            continue
        m = _HUNK.match(line)
        if m is None or not sections:
            continue              # index, mode, rename, ---/+++ and "\ No newline" lines
        old = int(m.group(1)) if m.group(1) is not None else 1
        first = int(m.group(2))
        new = int(m.group(3)) if m.group(3) is not None else 1
        sections[-1].update(range(first, first + new))
        remaining = old + new
        while remaining > 0 and i < len(lines):
            if not lines[i].startswith(b"\\"):
                remaining -= 1
            i += 1
    return sections


def changed_lines(root: str, base_ref: str) -> ChangeSet:
    """Lines added or modified between base_ref...HEAD plus staged and working-tree changes; untracked
    files count as wholly added. Raises UsageError when the ref cannot be resolved (e.g. a shallow clone
    that does not contain the base commit)."""
    import git

    repo = open_repo(root)
    if repo is None:
        raise UsageError(f"--diff-base needs a git repository; {root} is not in one")
    try:
        head = repo.head.commit
    except Exception:
        raise UsageError("--diff-base: the repository has no commits yet") from None
    try:
        base = repo.commit(base_ref)
        base.hexsha  # noqa: B018 - force the object to be read
        base.tree    # noqa: B018
    except Exception:
        hint = " (this is a shallow clone: fetch more history, e.g. `git fetch --deepen=50`, or fetch the base ref)" \
            if os.path.exists(os.path.join(repo.git_dir, "shallow")) else ""
        raise UsageError(f"--diff-base {base_ref}: no such commit in this repository{hint}") from None
    try:
        merge_bases = repo.merge_base(base, head)
    except git.exc.GitCommandError:
        merge_bases = []
    # a shallow clone may hold the base commit but not the fork point: measure from the base itself
    start = merge_bases[0] if merge_bases else base
    top = repo.working_tree_dir
    changes = ChangeSet(start.hexsha)
    if not merge_bases and os.path.exists(os.path.join(repo.git_dir, "shallow")):
        changes.warning = (f"--diff-base {base_ref}: the merge base with HEAD is not in this shallow clone; "
                           f"comparing with {base_ref} itself (fetch more history for an exact diff)")
    # the commit against the working tree: committed, staged and unstaged changes at once. Paths come from
    # the NUL-separated raw listing; the patch gives only line numbers. The user's diff settings (external
    # or relative diffs, submodule logs, prefixes) are overridden so the output has the shape parsed here.
    try:
        out = repo.git(c="diff.relative=false").diff(
            start.hexsha, "--raw", "-p", "-z", "--unified=0", "-M", "--no-color", "--no-ext-diff", "--no-textconv",
            "--submodule=short", stdout_as_string=False, strip_newline_in_stdout=False)
        others = repo.git.ls_files("-z", "--others", "--exclude-standard", "--full-name",
                                   stdout_as_string=False, strip_newline_in_stdout=False)
    except git.exc.GitCommandError as e:
        raise UsageError(f"--diff-base {base_ref}: git diff failed: {one_line(_stderr(e))}") from None
    entries, at = _raw_entries(out)
    sections = _hunk_lines(out[at:])
    # one section per listed pair; were it otherwise, count every line of every changed file as changed:
    # reporting too much is safe, dropping a changed file's findings is not
    exact = len(sections) == len(entries)
    for n, (status, old, new) in enumerate(entries):
        changes.files.add(_rel(root, top, _decode(old)))
        if status == "D":
            continue
        rel = _rel(root, top, _decode(new))
        changes.files.add(rel)
        changes.lines[rel] = sections[n] if exact and status != "U" else None
    for path in others.split(b"\0"):
        if path:
            rel = _rel(root, top, _decode(path))
            changes.files.add(rel)
            changes.lines[rel] = None
    return changes


def _stderr(e) -> str:
    err = e.stderr
    if isinstance(err, bytes):
        err = err.decode("utf-8", "replace")
    return (err or "").strip() or str(e)


# -- file history (runbook freshness) ---------------------------------------------------------------
# Self-contained: one History per run, kept in the run's memo. Every file's last change comes from ONE
# `git log --name-only` walk, read only as far as the files asked about need: a process per file would
# make a run with thousands of runbooks start thousands of processes.

# a commit's header in the walk; a file name can only imitate it in a repository that controls its dates anyway
_LOG_FORMAT = "%x01prr-lint-commit %H %ct"
_LOG_HEADER = re.compile(rb"\x01prr-lint-commit ([0-9a-f]{40,64}) (-?\d+)")
_CHUNK = 1 << 16


@dataclass
class LastChange:
    """When a file last changed, as far as the history at hand can tell."""

    date: object | None           # datetime.date of the last commit touching it (committer date, UTC)
    exact: bool = True            # False: that commit is a shallow-clone boundary, the true change may be older
    pending: bool = False         # uncommitted (new, staged or modified): it is being changed right now


NARROW_LOOKUPS = 8      # paths a narrow run looks up alone before it asks for the status of the whole work tree


class History:
    """Last-commit dates of files, read through gitpython and cached for the run.

    `available` is False outside a git work tree or before the first commit; `shallow` is True in a
    shallow clone, where a file whose last commit is the clone's boundary may really be older.
    """

    def __init__(self, root: str, narrow: bool = False, listed: Iterable[str] | None = None):
        self.root = os.path.abspath(root)
        self.narrow = narrow
        self._listed = listed       # the run's listing (root-relative): its untracked files need no second walk
        self.repo = open_repo(self.root)
        self.top = self.repo.working_tree_dir if self.repo is not None and not self.repo.bare else None
        self.reason = None
        self._dates: dict = {}
        self._pending: set | None = None      # every pending path of the work tree, once asked for
        self._alone: dict[str, bool] = {}     # path -> pending, of the paths looked up alone (narrow runs)
        self._seen: dict = {}           # git path (relative to the top level) -> (sha, committer time)
        # the running `git log` (a git.cmd.Git.AutoInterrupt), read on demand. Any: GitPython types its process
        # and pipes as optional and text-or-bytes, though a walk started with as_process=True always has them
        self._walk: Any = None
        self._buffer = b""
        self._after_header = False
        self._commit: tuple[str, str] | None = None     # (sha, committer time) of the commit whose names are being read
        self._done = False
        self.boundary: set = set()
        if self.top is None:
            self.reason = f"{self.root} is not inside a git work tree"
            return
        try:
            self.repo.head.commit  # noqa: B018 - unborn HEAD raises
        except Exception:
            self.reason = "the git repository has no commits yet"
            self.top = None
            return
        try:
            with open(os.path.join(self.repo.git_dir, "shallow"), encoding="ascii") as fh:
                self.boundary = {line.strip() for line in fh if line.strip()}
        except OSError:
            self.boundary = set()

    @property
    def available(self) -> bool:
        return self.top is not None

    @property
    def shallow(self) -> bool:
        return bool(self.boundary)

    def _git_path(self, rel: str) -> str:
        return os.path.relpath(os.path.join(self.root, rel), self.top).replace(os.sep, "/")

    def _is_pending(self, path: str) -> bool:
        """Whether a path is new, staged or modified. In a narrow run (one file, one directory) each of the first
        NARROW_LOOKUPS paths asked is looked up alone: such a run asks about one service's runbooks (a few ms each),
        and a status of the whole work tree stats and lists every file in it (0.4 s at 44,000 files). Past that,
        or in any other run, the whole work tree is asked for once: a process per runbook would not scale."""
        if self._pending is None:
            if self.narrow:
                known = self._alone.get(path)
                if known is not None:
                    return known
                if len(self._alone) < NARROW_LOOKUPS:
                    known = self._alone[path] = path in self._status("--", f":(literal){path}")
                    return known
            self._pending = self._status()
        return path in self._pending

    def _status(self, *pathspec: str) -> set:
        # the whole work tree with the run's listing at hand: tracked changes from git, and untracked files as the
        # listed ones git does not track (the listing walked the work tree already; a second walk is most of a
        # status: 0.4 s at 44,000 files)
        listed = self._listed if not pathspec and self.top is not None else None
        try:
            out = self.repo.git.status("--porcelain=v1", "-z", "--untracked-files=no" if listed is not None else
                                       "--untracked-files=all", "--no-renames", *pathspec)
            tracked = set(self.repo.git.ls_files("-z", "--cached").split("\0")) if listed is not None else set()
        except Exception:
            return set()
        pending = {entry[3:] for entry in out.split("\0") if len(entry) > 3}
        if listed is not None:
            prefix = os.path.relpath(self.root, self.top).replace(os.sep, "/")
            prefix = "" if prefix == "." else prefix + "/"
            pending.update(path for path in (prefix + rel for rel in listed) if path not in tracked)
        return pending

    def _start(self) -> None:
        # newest commit first, so a path's first appearance is its last change. Names are NUL-terminated
        # bytes (never quoted); renames count as a delete and an add, as for `git log -- path`; a merge lists
        # what it changed against every parent (a conflict resolution), like a path-limited log shows it
        try:
            self._walk = self.repo.git(c="log.showSignature=false").log(
                f"--format={_LOG_FORMAT}", "--name-only", "-z", "--root", "--no-renames", "--cc", "--no-color",
                "--no-ext-diff", "--no-textconv", as_process=True)
        except Exception:
            self._walk = None
            self._done = True

    def _read_until(self, path: str) -> None:
        """Read the walk until `path` shows up or the history ends."""
        if self._walk is None and not self._done:
            self._start()
        while path not in self._seen and not self._done:
            try:
                chunk = self._walk.proc.stdout.read1(_CHUNK)
            except (OSError, ValueError):
                chunk = b""
            if chunk:
                tokens = (self._buffer + chunk).split(b"\0")
                self._buffer = tokens.pop()      # the last token may be cut in two
            else:
                tokens, self._buffer = [self._buffer], b""
                self._finish()
            for token in tokens:
                if self._after_header and token.startswith(b"\n"):
                    token = token[1:]           # a commit's names follow its header after a newline
                m = _LOG_HEADER.fullmatch(token)
                self._after_header = m is not None
                if m is not None:
                    self._commit = (m.group(1).decode("ascii"), m.group(2).decode("ascii"))
                elif token and self._commit is not None:
                    self._seen.setdefault(_decode(token), self._commit)

    def _finish(self) -> None:
        self._done = True
        walk, self._walk = self._walk, None
        if walk is not None:
            try:
                walk.proc.stdout.close()
                walk.proc.wait()
            except Exception:
                pass

    def close(self) -> None:
        """Stop a walk that is not read to its end (the process is also ended when this object goes away)."""
        if self._walk is not None:
            try:
                self._walk.proc.kill()
            except Exception:
                pass
            self._finish()

    def last_change(self, rel: str) -> LastChange | None:
        """The last change of a repository-relative path; None when git history is not available."""
        if not self.available:
            return None
        if rel in self._dates:
            return self._dates[rel]
        import datetime

        path = self._git_path(rel)
        if self._is_pending(path):
            result = LastChange(None, pending=True)
        else:
            self._read_until(path)
            if path not in self._seen:
                result = LastChange(None, pending=True)   # never committed: a new file
            else:
                sha, stamp = self._seen[path]
                try:
                    day = datetime.datetime.fromtimestamp(int(stamp), datetime.UTC).date()
                except (ValueError, OverflowError, OSError):
                    day = None
                result = LastChange(day, exact=sha not in self.boundary)
        self._dates[rel] = result
        return result


def history(root: str, memo: dict | None = None, narrow: bool = False, listed: Iterable[str] | None = None) -> History:
    """The run's History for `root`, created once and kept in `memo` (e.g. Repository.memo). `narrow`: the run
    checks part of the repository (see History._is_pending); `listed`: the files the run listed under `root`, as
    git sees them (tracked, and untracked but not ignored)."""
    if memo is None:
        return History(root, narrow, listed)
    key = ("git-history", os.path.abspath(root))
    if key not in memo:
        memo[key] = History(root, narrow, listed)
    return memo[key]
