"""Git processes a run will wait for, started as soon as the command line names the repository.

`git ls-files --others` walks every directory of the work tree (most of a one-file run's wait on a large
monorepo). Started before prr-lint imports its modules, reads its config and caches, git walks on another core
meanwhile; the code that needs the listing takes the process started for its root and arguments, or starts one
itself. A process nobody took is killed when the command ends (`stop`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

# what discover.py asks git for: tracked and untracked-but-not-ignored files (all of .gitignore's rules)
LISTING = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")

_started: dict[tuple[str, tuple[str, ...]], subprocess.Popen] = {}


def git(root: str, args: tuple[str, ...]) -> subprocess.Popen:
    """`git -C root ARGS` with its output in pipes (the C locale: paths and messages as git writes them), never
    running core.fsmonitor (hardened)."""
    return subprocess.Popen(["git", "-C", root, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**hardened(), "LC_ALL": "C"})


def hardening(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables that make a git started with `environ` (default: this process's) ignore core.fsmonitor: a
    `.git/config` that came with the checked tree (an unpacked archive) would otherwise have `git status`,
    `ls-files` or `diff-index` run its program. Through GIT_CONFIG_COUNT (git 2.31+), after any configuration the
    caller passes the same way."""
    env = os.environ if environ is None else environ
    try:
        n = max(0, int(env.get("GIT_CONFIG_COUNT") or 0))
    except ValueError:
        n = 0
    return {f"GIT_CONFIG_KEY_{n}": "core.fsmonitor", f"GIT_CONFIG_VALUE_{n}": "false", "GIT_CONFIG_COUNT": str(n + 1)}


def hardened() -> dict[str, str]:
    """This process's environment with the hardening: for a git started by subprocess."""
    return {**os.environ, **hardening()}


def start(root: str, args: tuple[str, ...] = LISTING) -> None:
    """Start `git ARGS` in `root` for a later `take`; a git that cannot start is left to the taker to find."""
    if (root, args) in _started:
        return
    try:
        _started[(root, args)] = git(root, args)
    except (OSError, subprocess.SubprocessError):
        pass


def take(root: str, args: tuple[str, ...] = LISTING) -> subprocess.Popen | None:
    """The process `start` started for exactly this root and these arguments, once; None if there is none."""
    return _started.pop((root, args), None)


def stop() -> None:
    """Kill and reap the processes nobody took (a usage error, a run that did not list the files)."""
    while _started:
        _, proc = _started.popitem()
        with proc:
            proc.kill()
            proc.communicate()
