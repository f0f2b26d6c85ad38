"""One string object for each repeated key and short value of the documents a run reads.

A large run holds every document to the end, and the same keys (`apiVersion`, `metadata`, label keys) and short
values (`apps/v1`, `Deployment`, `256Mi`) come back in every service's files. JSON decoding shares a key only
within one call, so each batch of files read from a parse worker held its own copies: interned, they are one
string each for the whole run (about a tenth of the documents' memory at 1,000 services).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

SHORT = 64          # characters up to which a value is shared: names, kinds, versions, quantities; not prose

_intern = sys.intern


def mapping(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's dict with its keys and short string values interned (json's object_pairs_hook)."""
    return {_intern(k): _intern(v) if type(v) is str and len(v) <= SHORT else v for k, v in pairs}
