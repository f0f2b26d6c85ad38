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
        if type(item) is dict:
            for key, value in item.items():     # only values are replaced: the dict keeps its size
                kind = type(value)
                if kind is str:
                    if len(value) <= SHORT:
                        item[key] = _intern(value)
                elif kind is dict or kind is list:
                    stack.append(value)
        elif type(item) is list:
            for i, value in enumerate(item):
                kind = type(value)
                if kind is str:
                    if len(value) <= SHORT:
                        item[i] = _intern(value)
                elif kind is dict or kind is list:
                    stack.append(value)
    return node
