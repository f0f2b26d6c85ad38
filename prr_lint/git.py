"""Git helpers (gitpython): what a change touched against a base ref, and the commit being checked.

Every function takes the directory prr-lint treats as the repository root and returns paths relative
to it (POSIX), whatever the git top-level is. Problems a user can fix are raised as UsageError.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .discover import UsageError

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass
class ChangeSet:
    """Lines a change added or modified, per file; `None` means every line (a new or untracked file)."""

    base: str                                   # the commit the change is measured from
    lines: dict = field(default_factory=dict)   # rel path -> set of 1-based line numbers, or None
    files: set = field(default_factory=set)     # every path touched, deleted and renamed-from ones too

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
        return git.Repo(root, search_parent_directories=True)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        return None


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


def _unquote(path: str) -> str:
    path = path.rstrip("\t")
    if len(path) >= 2 and path[0] == '"' and path[-1] == '"':
        path = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
    return path


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
    try:
        out = repo.git(c="core.quotepath=off").diff(start.hexsha, "--no-color", "--no-ext-diff", "--unified=0",
                                                     "-M", "--src-prefix=a/", "--dst-prefix=b/")
    except git.exc.GitCommandError as e:
        raise UsageError(f"--diff-base {base_ref}: git diff failed: {e.stderr.strip() or e}") from None
    current = None
    for line in out.splitlines():
        if line.startswith("--- "):
            old = _unquote(line[4:])
            if old != "/dev/null":
                changes.files.add(_rel(root, top, old[2:] if old.startswith("a/") else old))
            current = None
        elif line.startswith("+++ "):
            new = _unquote(line[4:])
            if new == "/dev/null":
                current = None
            else:
                current = _rel(root, top, new[2:] if new.startswith("b/") else new)
                changes.files.add(current)
                changes.lines.setdefault(current, set())
        elif current is not None and (m := _HUNK.match(line)):
            first, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
            if changes.lines[current] is not None:
                changes.lines[current].update(range(first, first + count))
    for path in repo.untracked_files:
        rel = _rel(root, top, path)
        changes.files.add(rel)
        changes.lines[rel] = None
    return changes
