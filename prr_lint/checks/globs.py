"""One glob semantics for every path pattern a user writes: gitignore-style, through pathspec.

`exclude`/`include` in the config, waiver `path`s and manifest claims (`spec.deploy`, `spec.alerts`, the
Backstage `prr-lint/*` annotations) all match the same way: `*` stays within a directory, `**` crosses
directories, and a pattern that matches a directory matches every file under it.
"""

from __future__ import annotations

import bisect
import posixpath
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pathspec

GLOB_CHARS = "*?["


def is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in GLOB_CHARS)


@lru_cache(maxsize=4096)
def _spec(pattern: str) -> pathspec.GitIgnoreSpec:
    import pathspec  # here: a run whose manifests claim no glob never imports it

    return pathspec.GitIgnoreSpec.from_lines([pattern])


def matches(pattern: str, rel: str) -> bool:
    """Whether a repository-relative file path matches a gitignore-style pattern."""
    return _spec(pattern).match_file(rel)


def matches_from_root(pattern: str, rel: str) -> bool:
    """As `matches`, with the pattern anchored at the root: a claim is a path from the repository root
    (already resolved against the manifest's directory), so `*.yaml` must not match `a/b/x.yaml`."""
    return matches("/" + pattern.lstrip("/"), rel)


def matches_any_file(pattern: str, repo: Any) -> bool:
    """Whether a claim pattern (as for `matches_from_root`) matches any file the run lists. A file it matches begins
    with the pattern's anchor (glob_anchor), so only those are tried, found in the listing sorted once a run: trying
    every file for each glob claim of every service is quadratic in a monorepo."""
    files = repo.sorted_files
    directory, start = glob_anchor(pattern)
    prefix = f"{directory}/{start}" if directory else start
    for i in range(bisect.bisect_left(files, prefix), len(files)):
        if not files[i].startswith(prefix):
            return False
        if matches_from_root(pattern, files[i]):
            return True
    return False


def glob_anchor(pattern: str) -> tuple[str, str]:
    """(directory, start) of a claim pattern (anchored at the root): every path it matches lies under `directory`
    ("" for the root) and the name that follows there begins with `start`, the literal characters before the first
    glob character. A pattern with an escape or a `..` is not taken apart: ("", "")."""
    body = pattern.lstrip("/")
    cut = min((i for i, ch in enumerate(body) if ch in GLOB_CHARS), default=len(body))
    directory, _, start = body[:cut].rpartition("/")
    if "\\" in body[:cut] or (directory and posixpath.normpath(directory) != directory) or start in (".", ".."):
        return "", ""
    return directory, start.rstrip()      # gitignore drops trailing spaces: a shorter start only tries more

