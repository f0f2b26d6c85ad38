"""A run's documents and the cyclic garbage collector.

A run reads every document once and keeps it to the end: plain, acyclic data, hundreds of thousands of dicts and
lists in a large repository. Left alone, the collector walks all of them again each time the heap grows by a
quarter while they are read, and at every full collection after (a quarter of a warm run's time at 1,000
services). So while a run loads, only young objects are collected (the garbage of rendering is young); then the
whole heap is collected once and what is left is frozen (gc.freeze): later collections walk only what the rules
and reports make. The next run in the same process unfreezes it first,
so that what the earlier run left behind can be collected.
"""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


def indented_json(value: Any) -> str:
    """json.dumps(value, indent=2), token by token into one buffer: json.dumps with an indent uses the pure-Python
    encoder and keeps a list of every token until it joins them (millions of small strings for the report of a
    large repository, several times the size of the text)."""
    out = io.StringIO()
    write = out.write
    for chunk in json.JSONEncoder(indent=2).iterencode(value):
        write(chunk)
    return out.getvalue()
