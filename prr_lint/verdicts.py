"""Schema verdicts kept between runs, so a warm run does not validate an unchanged manifest again.

Only "valid" is kept: a document with errors is validated again for its messages. A verdict is keyed by the
schema's content, the jsonschema version and format checkers, and the document's data in a type-exact JSON form
(a document JSON cannot carry exactly, e.g. with a tuple or a non-string key, is always validated). The keys
live in one signed side file of the parse cache (memo.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

import orjson

from . import __version__
from .fastschema import known_valid, plain_json
from .memo import RunMemo, run_memo
from .schemas import load_schema, schema_errors

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

FORMAT = 1
MEMO_KEY = "schema-verdicts"      # the side file


@functools.cache
def _salt(schema_name: str) -> bytes:
    """What a verdict depends on besides the document: the schema and the validator that applies it."""
    from importlib.metadata import version

    import jsonschema

    checkers = sorted(jsonschema.FormatChecker().checkers)
    text = json.dumps([FORMAT, __version__, version("jsonschema"), checkers, schema_name,
                       load_schema(schema_name)], sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8", "surrogateescape")


def verdict_key(instance: Any, schema_name: str) -> str | None:
    """The key of a document's verdict against a schema; None when JSON cannot carry the document exactly."""
    return keyed(instance, _salt(schema_name))


def keyed(instance: Any, salt: bytes) -> str | None:
    """A hash of `salt` (what a verdict depends on besides the document) and the document in its exact JSON
    form; None when JSON cannot carry the document exactly (a date, an int key, a tuple, NaN)."""
    try:
        if not plain_json(instance):
            return None
        # orjson: a twentieth of json.dumps's time (a warm run keys every manifest); what it refuses (an integer
        # past 64 bits, a lone surrogate, nesting past 254 levels) is validated every time
        text = orjson.dumps(instance)
    except (orjson.JSONEncodeError, RecursionError):
        return None
    h = hashlib.blake2b(salt, digest_size=20)
    h.update(b"\0")
    h.update(text)
    return h.hexdigest()


class SchemaVerdicts:
    """The valid verdicts of a run (memo.py keeps them between runs)."""

    def __init__(self, memo: RunMemo):
        self._memo = memo

    def errors(self, instance: Any, schema_name: str) -> list[ValidationError]:
        """schema_errors(instance, schema_name), without validating a document already known valid."""
        key = verdict_key(instance, schema_name) if self._memo.store is not None else None
        if key is not None and self._memo.get(key) is not None:
            return []
        # a document jsonschema-rs finds valid is valid (fastschema.py): jsonschema runs for the others' messages
        errors = [] if known_valid(instance, schema_name) else schema_errors(instance, schema_name)
        if not errors and key is not None:
            self._memo.put(key, 1)
        return errors


def verdicts_of(repo: Any) -> SchemaVerdicts:
    """The run's verdicts, kept with its run memo."""
    memo = run_memo(repo, MEMO_KEY)
    verdicts = memo.local.get(MEMO_KEY)
    if verdicts is None:
        verdicts = memo.local[MEMO_KEY] = SchemaVerdicts(memo)
    return verdicts
