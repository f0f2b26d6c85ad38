"""One string object for each repeated key and short value of the documents a run reads.

A large run holds every document to the end, and the same keys (`apiVersion`, `metadata`, label keys) and short
values (`apps/v1`, `Deployment`, `256Mi`) come back in every service's files. orjson shares short keys across
calls (its key cache); the short values of what it decodes are made one string each for the whole run here
(about a tenth of the documents' memory at 1,000 services).
"""

from __future__ import annotations

import sys
from typing import Any

SHORT = 64          # characters up to which a value is shared: names, kinds, versions, quantities; not prose

_intern = sys.intern


def share_values(node: Any) -> Any:
    """`node` (decoded JSON) with its short string values, in mappings and lists, replaced by interned ones in
    place; returns it."""
    stack = [node]
    while stack:
        item = stack.pop()
        kind = type(item)
        # only values are replaced: a dict keeps its size while its items are walked
        slots = item.items() if kind is dict else enumerate(item) if kind is list else ()
        for slot, value in slots:
            if type(value) is str:
                if len(value) <= SHORT:
                    item[slot] = _intern(value)
            elif type(value) is dict or type(value) is list:
                stack.append(value)
    return node
