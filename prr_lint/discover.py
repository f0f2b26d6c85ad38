"""Which files a run looks at: the repository root, .gitignore, include/exclude globs, symlinks."""

from __future__ import annotations

import os
import stat
import subprocess

import pathspec

SKIP_DIRS = {".git", ".hg", ".svn", ".terraform", "node_modules", ".prr-lint-cache", "__pycache__", ".venv"}


class UsageError(Exception):
    """A problem with how prr-lint was called or configured: exit 2 with one line."""


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


def _git_files(root: str) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, as git sees them (all of .gitignore's rules)."""
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=True, timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def _walk(root: str, start: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(start):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            out.append(name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/"))
    return out


def inside(root: str, path: str) -> bool:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def list_files(root: str, scope: list[str], include: list[str], exclude: list[str], use_git: bool = True) -> list[str]:
    """Repository-relative POSIX paths of files under `scope` (relative dirs/files), sorted; not yet
    checked to exist (see stat_file: only the files prr-lint reads are looked at)."""
    files = _git_files(root) if use_git and os.path.isdir(os.path.join(root, ".git")) else None
    if files is None:
        files = _walk(root, root) if any(s in ("", ".") for s in scope) else \
            [f for s in scope for f in (_walk(root, os.path.join(root, s)) if os.path.isdir(os.path.join(root, s)) else [s])]
    exclude_spec = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None
    include_spec = pathspec.GitIgnoreSpec.from_lines(include) if include else None
    prefixes = [s.rstrip("/") for s in scope if s not in ("", ".")]
    # globs are written relative to the project (the directory of .prr-lint.yaml)
    cut = len(prefixes[0]) + 1 if len(prefixes) == 1 else 0
    out = []
    for rel in files:
        if prefixes and not any(rel == p or rel.startswith(p + "/") for p in prefixes):
            continue
        if any(part in SKIP_DIRS for part in rel.split("/")[:-1]):
            continue
        local = rel[cut:]
        if exclude_spec and exclude_spec.match_file(local):
            continue
        if include_spec and not include_spec.match_file(local):
            continue
        out.append(rel)
    return sorted(set(out))


def stat_file(root: str, rel: str):
    """(mtime_ns, size) of a regular file inside the root, else None: a tracked file may be deleted in the
    work tree, and a symlink must never lead out of the repository. One lstat for ordinary files."""
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            if not inside(root, full):
                return None
            st = os.stat(full)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if stat.S_ISREG(st.st_mode) else None
