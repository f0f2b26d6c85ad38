"""A run's documents and the cyclic garbage collector.

A run reads every document once and keeps it to the end: plain, acyclic data, hundreds of thousands of dicts and
lists in a large repository. Left alone, the collector walks all of them again each time the heap grows by a
quarter while they are read, and at every full collection after (a quarter of a warm run's time at 1,000
services). So while a run loads, only young objects are collected (the garbage of rendering is young); then the
whole heap is collected once and what is left is frozen (gc.freeze): later collections walk only what the rules
and reports make. The run gives it back to the collector when it ends (`release`), so that a process that runs
prr-lint again can collect what the earlier run left behind.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

NO_FULL_COLLECTION = 1 << 30     # collections of the middle generation before a full one: never, in practice


@contextmanager
def loading() -> Iterator[None]:
    if gc.get_freeze_count():
        gc.unfreeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], NO_FULL_COLLECTION)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()      # nothing unreachable is frozen
        gc.freeze()


def release() -> None:
    """The run's objects back to the collector (the CLI freezes again before it reports)."""
    gc.unfreeze()
