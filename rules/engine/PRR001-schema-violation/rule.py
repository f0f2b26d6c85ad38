from prr_lint.model import Hit
from prr_lint.rule import rule

SCHEMAS = {"service": "service.schema.json", "waivers": "waivers.schema.json"}
# Value ranges the schema holds for editors but a service rule reports, with the tier used instead and the
# fix (SVC003: tier not 0-3, SVC011: objective not strictly between 0 and 100): not reported twice here.
# `None` stands for any list index.
LEFT_TO_RULES = {("metadata", "tier"): {"enum"},
                 ("spec", "slos", None, "objective"): {"exclusiveMinimum", "exclusiveMaximum"}}


def _left_to_rules(doc, error) -> bool:
    path = tuple(error.absolute_path)
    return doc.kind == "service" and any(
        len(path) == len(pattern) and all(p is None or p == q for p, q in zip(pattern, path, strict=True))
        and error.validator in validators for pattern, validators in LEFT_TO_RULES.items())


def _place(error) -> tuple:
    """Point at the offending key: the unexpected property itself, not its parent mapping."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return path + (extra[0],)
    return path


@rule(
    id="PRR001",
    name="schema-violation",
    summary="A prr-lint file (service manifest, waiver file) does not match its published JSON Schema.",
    why="A misspelled or mistyped key is silently ignored by every rule that looks for it: `runbook:` "
        "instead of `runbooks:` reads as a service with no runbook, and a tier written as `high` means the "
        "default tier is used. A waiver with a mistyped key or date waives nothing.",
    fix="Correct the key or value named in the message. Add `# yaml-language-server: $schema=...` pointing at "
        "schemas/service.schema.json (or schemas/waivers.schema.json) to get completion and checking in your editor.",
    targets=["service", "waivers"],
    tags=["config"],
    severity="error",
    since="0.1.0",
)
def check(doc, ctx):
    schema = SCHEMAS.get(doc.kind)
    if schema is None:
        return
    seen = set()
    for error in ctx.validate(doc.data, schema):
        if error.context:
            from jsonschema.exceptions import best_match  # only for a document with errors: a slow import

            error = best_match(error.context)
        if _left_to_rules(doc, error):
            continue
        path = _place(error)
        if path in seen:
            continue
        seen.add(path)
        where = ".".join(str(p) for p in path) or "(document)"
        yield Hit(doc, path, f"{where}: {error.message}")
