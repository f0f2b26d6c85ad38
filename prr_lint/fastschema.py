"""A fast "valid" for the documents PRR001 validates (service manifests, waiver files): jsonschema-rs says it.

jsonschema (schemas.py) makes the messages; it takes about 1 ms a manifest, most of the rules' time on a first
run, and nearly every manifest is valid. jsonschema-rs (Rust) tells valid from invalid in microseconds, and
only a document it finds invalid is validated again by jsonschema, for the messages. For that to give what
jsonschema alone gives, a document jsonschema-rs finds valid must be valid for jsonschema too. That holds for
the schemas in EXACT, reviewed for it:
- formats are checked by jsonschema's own FormatChecker (handed to jsonschema-rs as its format functions);
- their patterns are ASCII character classes anchored by `^` and `$`, which match in Rust at least what they
  match in Python (where `$` also matches before a final newline): never more;
- their `oneOf` choices differ by type, and they have no `not`, so a stricter pattern cannot turn a failure
  into a success.
A document with anything JSON does not have (a date, a tuple, a NaN) is left to jsonschema, as is any schema
not in EXACT and any error of jsonschema-rs. A schema change must keep these true (tests/test_fastschema.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from .schemas import load_schema

EXACT = frozenset({"service.schema.json", "waivers.schema.json"})


def plain_json(value: Any) -> bool:
    """JSON's own types only, exactly, and no NaN or infinity: a tuple is no JSON array to jsonschema, an int key
    no property name, and NaN no JSON number."""
    kind = type(value)
    # loops, not all() over generators: half the time, and a warm run asks it of every manifest (verdicts.py)
    if kind is dict:
        for k, v in value.items():
            if type(k) is not str or not plain_json(v):
                return False
        return True
    if kind is list:
        for v in value:
            if not plain_json(v):
                return False
        return True
    if kind is float:
        return math.isfinite(value)
    return value is None or kind in (str, int, bool)


@functools.cache
def _validator(schema_name: str) -> Any:
    try:
        import jsonschema_rs
    except ImportError:
        return None
    import jsonschema

    checker = jsonschema.FormatChecker()
    formats: dict[str, Callable[..., bool]] = {name: functools.partial(checker.conforms, format=name)
                                               for name in checker.checkers}
    try:
        return jsonschema_rs.Draft202012Validator(load_schema(schema_name), formats=formats, validate_formats=True)
    except Exception:       # a schema or an option it does not take: jsonschema alone
        return None


def known_valid(instance: Any, schema_name: str) -> bool:
    """True when the document is valid against the schema for jsonschema too; False: not known, validate it."""
    if schema_name not in EXACT:
        return False
    try:
        if not plain_json(instance):
            return False
    except RecursionError:
        return False
    validator = _validator(schema_name)
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(instance))
    except Exception:       # a value it does not take (an integer past 64 bits, ...): jsonschema says
        return False
