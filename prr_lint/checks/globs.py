"""One glob semantics for every path pattern a user writes: gitignore-style, through pathspec.

`exclude`/`include` in the config, waiver `path`s and manifest claims (`spec.deploy`, `spec.alerts`, the
Backstage `prr-lint/*` annotations) all match the same way: `*` stays within a directory, `**` crosses
directories, and a pattern that matches a directory matches every file under it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

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
