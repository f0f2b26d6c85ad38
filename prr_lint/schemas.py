"""The published JSON Schemas (schemas/): loading, one cached validator per schema, errors as one-line messages."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from .resources import schema_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


@cache
def load_schema(name: str) -> dict:
    with open(schema_path(name), encoding="utf-8") as fh:
        return json.load(fh)


def _inline_refs(node, defs: dict):
    """Replace local `#/$defs/x` references by their target: the schemas are not recursive, and
    resolving references dominates validation time in jsonschema (3x faster on manifests)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return _inline_refs(defs[ref[len("#/$defs/"):]], defs)
        return {k: (v if k == "$defs" else _inline_refs(v, defs)) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


@cache
def validator_for(schema_name: str):
    import jsonschema

    schema = load_schema(schema_name)
    schema = _inline_refs(schema, schema.get("$defs", {}))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(instance: Any, schema_name: str) -> list[ValidationError]:
    """jsonschema errors, most specific first, each with its absolute path."""
    return sorted(validator_for(schema_name).iter_errors(instance),
                  key=lambda e: (list(map(str, e.absolute_path)), e.message))


def schema_message(error) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
