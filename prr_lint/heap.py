"""A run's documents and the cyclic garbage collector.

A run reads every document once and keeps it to the end: plain, acyclic data, hundreds of thousands of dicts and
lists in a large repository. Left alone, the collector walks all of them again each time the heap grows by a
quarter while they are read, and at every full collection after (a quarter of a warm run's time at 1,000
services). So while a run loads, only young objects are collected (the garbage of rendering is young); then the
whole heap is collected once and what is left is frozen (gc.freeze): later collections walk only what the rules
and reports make. The run gives it back to the collector when it ends (`release`), so that a process that runs
prr-lint again can collect what the earlier run left behind. A small load (a one-file run reads a few manifests)
skips the full collection: only the young generations are collected before the freeze, since the full one would
walk every module and object of the process to find at most the few cycles the load left in the old generation;
so does the load of a run on paths (a one-file run that reads every service's manifest), which ends with the process.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

NO_FULL_COLLECTION = 1 << 30     # collections of the middle generation before a full one: never, in practice
# middle-generation collections during loading (each moves what survived into the old generation) up to which
# a load is small: its survivors are a few ten thousand objects, a whole run at 100 services makes hundreds
SMALL_LOAD = 32


@contextmanager
def loading(whole: bool = True) -> Iterator[None]:
    """`whole`: the load of a whole run, collected in full after a large load; a run on paths (a one-file run that
    reads every service's manifest) holds its objects only until the process ends, so its young generations only."""
    if gc.get_freeze_count():
        gc.unfreeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], NO_FULL_COLLECTION)
    promoted_before = gc.get_stats()[1]["collections"]
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        small = gc.get_stats()[1]["collections"] - promoted_before <= SMALL_LOAD
        gc.collect(1 if small or not whole else 2)   # the young generations always, the old one after a large load
        gc.freeze()
        give_back()       # what loading and rendering freed


def release() -> None:
    """The run's objects back to the collector (the CLI freezes again before it reports)."""
    gc.unfreeze()


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None (another C library, another system)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def give_back() -> bool:
    """Return the C heap's free pages to the system; whether it could. A run frees the parse cache's text of
    every file it parsed (small strings between the documents, so the heap cannot shrink by itself) while
    what it allocates next (rendering, the rules' objects) mostly goes to fresh pages: without this the freed
    pages stay in the process's resident memory to the end."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
