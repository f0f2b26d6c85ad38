"""Find rules by walking rule pack directories: rules/<area>/<ID>-<name>/rule.py (or policy.rego)."""

from __future__ import annotations

import importlib.util
import os

from .errors import UsageError
from .resources import rules_dir
from .rule import Rule
from .schemas import schema_errors, schema_message


class RuleError(UsageError):
    """A rule pack that cannot be loaded: bad metadata, duplicate ids or names."""


def rule_dirs(pack: str) -> list[str]:
    """Every rule directory under a pack, sorted: any directory holding rule.py or policy.rego."""
    out = []
    for dirpath, dirnames, filenames in os.walk(pack):
        dirnames[:] = sorted(d for d in dirnames if d not in ("bad", "good", "__pycache__"))
        if "rule.py" in filenames or "policy.rego" in filenames:
            out.append(dirpath)
            dirnames[:] = []
    return sorted(out)


def _meta_for_schema(meta: dict) -> dict:
    out = dict(meta)
    if isinstance(out.get("severity"), dict):
        out["severity"] = {str(k): v for k, v in out["severity"].items()}
    return out


def validate_meta(meta: dict, where: str) -> None:
    errors = schema_errors(_meta_for_schema(meta), "rule.schema.json")
    if errors:
        raise RuleError(f"{where}: invalid rule metadata: {schema_message(errors[0])}")


def _load_python_rule(directory: str, origin: str) -> Rule:
    path = os.path.join(directory, "rule.py")
    mod_name = "prr_lint_rule_" + os.path.basename(directory).replace("-", "_")
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:   # only for a path that is not a Python source file
        raise RuleError(f"{path}: cannot load rule")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # a broken user rule must not look like a prr-lint crash
        raise RuleError(f"{path}: cannot load rule: {type(e).__name__}: {e}") from None
    checks = [v for v in vars(module).values() if callable(v) and hasattr(v, "__prr_rule__")]
    if len(checks) != 1:
        raise RuleError(f"{path}: expected exactly one @rule function, found {len(checks)}")
    meta = checks[0].__prr_rule__
    if origin != "builtin":       # the built-in pack's metadata is validated by its tests, not on every run
        validate_meta(meta, path)
    rule = Rule.from_meta(meta, checks[0], directory, origin)
    expected = f"{rule.id}-{rule.name}"
    if os.path.basename(directory) != expected:
        raise RuleError(f"{path}: rule directory must be named {expected}")
    return rule


TRUST_HINT = ("prr-lint never runs code from the repository it checks; pass --trust-repo-rules "
              "(or PRR_LINT_TRUST_REPO_RULES=1) only where the repository is trusted, e.g. on a laptop, "
              "or keep the pack outside the checkout")


def load_rules(extra_packs: list[str] | None = None, policy_loader=None,
               untrusted_root: str | None = None) -> list[Rule]:
    """All rules of the built-in pack and `extra_packs`; duplicate ids or names are an error.

    Python rules are code: one under `untrusted_root` (the checked repository, which a pull request controls)
    is refused. Rego rules anywhere are data for the sandboxed evaluator."""
    from .discover import inside

    rules: list[Rule] = []
    packs = [(rules_dir(), "builtin")] + [(p, "user") for p in (extra_packs or [])]
    for pack, origin in packs:
        if not os.path.isdir(pack):
            raise RuleError(f"{pack}: rule directory not found")
        for directory in rule_dirs(pack):
            if os.path.exists(os.path.join(directory, "rule.py")):
                if origin == "user" and untrusted_root is not None and inside(untrusted_root, directory):
                    raise RuleError(f"{os.path.join(directory, 'rule.py')}: a Python rule inside the checked "
                                    f"repository: {TRUST_HINT}")
                rules.append(_load_python_rule(directory, origin))
            elif policy_loader is not None:
                rules.extend(policy_loader(directory))
    check_unique(rules)
    return sorted(rules, key=rule_order)


AREA_ORDER = ("prr", "svc", "k8s", "helm", "tf", "prom")


def rule_order(r: Rule) -> tuple:
    return (AREA_ORDER.index(r.area) if r.area in AREA_ORDER else len(AREA_ORDER), r.area, r.id)


def check_unique(rules: list[Rule]) -> None:
    seen_ids: dict = {}
    seen_names: dict = {}
    for r in rules:
        where = r.directory or r.id
        if r.id in seen_ids:
            raise RuleError(f"duplicate rule id {r.id}: {seen_ids[r.id]} and {where}")
        if r.name in seen_names:
            raise RuleError(f"duplicate rule name {r.name}: {seen_names[r.name]} and {where}")
        seen_ids[r.id] = where
        seen_names[r.name] = where


# -- selectors: --select/--ignore values and config keys must name something -----------------------
def selector_words(rules: list[Rule], severity_keys: bool = False) -> list[str]:
    """What a selector may be: ids and names, and (unless for `severity:` keys) tags and areas."""
    from .rule import AREA_FOLDERS

    words = [r.id for r in rules] + [r.name for r in rules]
    if not severity_keys:
        areas = {r.area for r in rules}
        words += sorted({t for r in rules for t in r.tags} | areas
                        | {folder for folder, area in AREA_FOLDERS.items() if area in areas})
    return list(dict.fromkeys(words))


def did_you_mean(word: str, choices: list[str]) -> str:
    """` (did you mean X?)`, or `` when nothing is close; compared case-insensitively."""
    import difflib

    lowered = {c.lower(): c for c in reversed(choices)}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {' or '.join(lowered[c] for c in close)}?)"


def check_selectors(rules: list[Rule], selectors: list, where: str) -> None:
    """A selector that matches no rule is an error: a typo must never select nothing and pass."""
    from .escape import one_line

    words = None
    for s in selectors:
        if not any(r.matches(s) for r in rules):
            words = words or selector_words(rules)
            raise RuleError(f"{where}: no rule id, name, tag or area '{one_line(s)}'{did_you_mean(s, words)} "
                            f"(see `prr-lint rules`)")


def severity_key(rules: list[Rule], key: str, where: str) -> str:
    """The rule a `severity:` key names: an id in any case (returned as the id) or a name."""
    from .escape import one_line

    low = key.lower()
    for r in rules:
        if low == r.id.lower():
            return r.id
        if key == r.name:
            return key
    raise RuleError(f"{where}: no rule id or name '{one_line(key)}'"
                    f"{did_you_mean(key, selector_words(rules, severity_keys=True))} (see `prr-lint rules`)")
