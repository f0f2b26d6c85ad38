"""Rego policy files -> prr-lint rules: finding the files, checking their syntax, reading their METADATA.

Which results belong to which rule:
- a rule pack directory (policy.rego + bad/ + good/) is one rule: every deny/violation/warn of its package;
- a loose .rego file under --policy is conftest-style: each (package, rule name) is a rule, unless the package
  carries `custom.id` in a package-scoped METADATA block (then the package is one rule);
- a result object's `id` sends it to the rule of that id when there is one (the runtime's routing).

Nothing here evaluates a policy: the runtime (runtime.py) owns the evaluator and turns results into hits.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable

from ..model import KINDS
from ..rule import Rule
from .errors import PolicyError
from .source import PolicySourceError, RegoFile, line_col, parse

DEFAULT_TARGETS = [k for k in KINDS if k != "waivers"]
SEVERITY_WORDS = {"error": "error", "critical": "error", "high": "error", "warning": "warning", "warn": "warning",
                  "medium": "warning", "info": "info", "low": "info", "note": "info", "off": "off"}


def shown(path: str) -> str:
    rel = os.path.relpath(path)
    return (path if rel.startswith("..") else rel).replace(os.sep, "/")


def derived_id(package: str, rule: str) -> str:
    """A stable id from package and rule name: REGO + six digits."""
    digest = int(hashlib.sha256(f"{package}.{rule}".encode()).hexdigest(), 16)
    return f"REGO{digest % 1_000_000:06d}"


def kebab(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "policy"


def severity_levels(value, tiers=None, default="error") -> dict:
    """custom.severity (a word or a per-tier map) and custom.tiers -> {tier: level or None}."""
    if isinstance(value, dict):
        levels = {}
        for t in range(4):
            word = value.get(t, value.get(str(t)))
            levels[t] = SEVERITY_WORDS.get(str(word).lower(), default) if word is not None else "off"
    else:
        word = SEVERITY_WORDS.get(str(value).lower(), None) if value is not None else default
        if word is None:
            raise ValueError(f"unknown severity {value!r} (error, warning, info, off; or critical/high/medium/low)")
        levels = {t: word for t in range(4)}
    if tiers is not None:
        allowed = {int(t) for t in tiers}
        levels = {t: (lv if t in allowed else "off") for t, lv in levels.items()}
    return levels


def _help_uri(meta: dict) -> str | None:
    for item in meta.get("related_resources") or []:
        ref = item.get("ref") if isinstance(item, dict) else item
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            return ref
    return None


def read(path: str) -> RegoFile:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"{shown(path)}: cannot read policy: {e}") from None
    try:
        return parse(shown(path), text)
    except PolicySourceError as e:
        raise PolicyError(str(e)) from None


def syntax_check(f: RegoFile) -> None:
    """Compile one file on its own so that an error names the right file, line and column."""
    from regopy import Interpreter, LogLevel, RegoError

    from .worker import parse_error_text

    rego = Interpreter()
    rego.log_level = LogLevel.NONE
    try:
        rego.add_module(f.path, f.text)
    except RegoError as e:
        file, offset, message = parse_error_text(str(e))
        line, col = line_col(f.text, offset) if offset is not None else (1, 1)
        raise PolicyError(f"{f.path}:{line}:{col}: rego_parse_error: {message}") from None


class PolicyLoader:
    """The policy files and rules of a run, and which (package, result rule) feeds which rule.

    `make_check()` gives each new rule its check function (bound to the runtime); `on_files()` is called after
    files are added, so the runtime can hand the new module set to its evaluator."""

    def __init__(self, settings, make_check: Callable[[], Callable], on_files: Callable[[], None]):
        self.settings = settings           # namespaces, all_namespaces
        self.make_check = make_check
        self.on_files = on_files
        self.files: list[RegoFile] = []
        self.rules: list[Rule] = []
        self.routes: dict = {}             # (package, rule name) -> Rule
        self.by_id: dict = {}
        self._pack_packages: dict = {}     # package -> directory of the pack rule that owns it
        self._loaded_paths: set = set()

    def add_files(self, files: list[RegoFile]) -> None:
        for f in files:
            syntax_check(f)
        self.files.extend(files)
        self.on_files()

    def load_pack_dir(self, directory: str) -> list[Rule]:
        """A rule directory holding policy.rego (registry.load_rules' policy_loader): one Rule."""
        directory = os.path.abspath(directory)
        if directory in self._loaded_paths:
            return [r for r in self.rules if r.directory == directory]
        main = read(os.path.join(directory, "policy.rego"))
        helpers = [read(os.path.join(directory, n)) for n in sorted(os.listdir(directory))
                   if n.endswith(".rego") and n != "policy.rego" and not n.endswith("_test.rego")]
        owner = self._pack_packages.get(main.package)
        if owner:
            raise PolicyError(f"{main.path}:{main.package_line}:1: package {main.package} is already used by "
                              f"{shown(owner)}; give each policy rule its own package")
        if not main.result_rules:
            raise PolicyError(f"{main.path}:{main.package_line}:1: no deny, violation or warn rule in package "
                              f"{main.package}")
        meta = dict(main.package_annotation())
        for name in main.result_rules:
            for k, v in main.rule_annotation(name).items():
                meta.setdefault(k, v)
        custom = meta.get("custom") or {}
        rule_id = custom.get("id")
        if not isinstance(rule_id, str):
            raise PolicyError(f"{main.path}:{main.package_line}:1: a policy rule directory needs `custom.id` in "
                              "its # METADATA block")
        base = os.path.basename(directory)
        name = custom.get("name") or (base[len(rule_id) + 1:] if base.startswith(rule_id + "-") else kebab(base))
        rule = self._make_rule(meta, rule_id, name, main, directory=directory,
                               default_severity="warning" if all(n.startswith("warn") for n in main.result_rules)
                               else "error")
        expected = f"{rule.id}-{rule.name}"
        if base != expected:
            raise PolicyError(f"{main.path}: policy rule directory must be named {expected}")
        self._pack_packages[main.package] = directory
        for n in main.result_rules:
            self.routes[(main.package, n)] = rule
        self._loaded_paths.add(directory)
        self.add_files([main] + helpers)
        self._register(rule)
        return [rule]

    def load_tree(self, path: str) -> list[Rule]:
        """A --policy path: a .rego file, or a directory of rule pack directories and loose .rego files."""
        from ..registry import rule_dirs

        if not os.path.exists(path):
            raise PolicyError(f"{path}: policy path not found")
        if os.path.isfile(path):
            return self._load_loose([path])
        out = []
        packs = [d for d in rule_dirs(path) if os.path.exists(os.path.join(d, "policy.rego"))]
        for d in packs:
            out.extend(self.load_pack_dir(d))
        pack_set = {os.path.abspath(d) for d in packs}
        loose: list[str] = []
        for dirpath, dirnames, filenames in os.walk(path):
            if os.path.abspath(dirpath) in pack_set:
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("bad", "good"))
            loose.extend(os.path.join(dirpath, n) for n in sorted(filenames)
                         if n.endswith(".rego") and not n.endswith("_test.rego"))
        return out + self._load_loose(loose)

    def _in_namespace(self, package: str) -> bool:
        s = self.settings
        return s.all_namespaces or package in s.namespaces

    def _load_loose(self, paths: list[str]) -> list[Rule]:
        files = []
        for p in paths:
            full = os.path.abspath(p)
            if full in self._loaded_paths:
                continue
            self._loaded_paths.add(full)
            files.append(read(p))
        if not files:
            return []
        for f in files:
            if f.package in self._pack_packages:
                raise PolicyError(f"{f.path}:{f.package_line}:1: package {f.package} belongs to the policy rule in "
                                  f"{shown(self._pack_packages[f.package])}")
        self.add_files(files)
        by_package: dict = {}
        for f in files:
            by_package.setdefault(f.package, []).append(f)
        out = []
        for package, pfiles in sorted(by_package.items()):
            if not self._in_namespace(package):
                continue
            names = sorted({n for f in pfiles for n in f.result_rules})
            if not names or any((package, n) in self.routes for n in names):
                continue
            pkg_meta: dict = next((f.package_annotation() for f in pfiles if f.package_annotation()), {})
            first = pfiles[0]
            if isinstance((pkg_meta.get("custom") or {}).get("id"), str):
                rule = self._make_rule(pkg_meta, pkg_meta["custom"]["id"], None, first,
                                       default_severity="warning" if all(n.startswith("warn") for n in names)
                                       else "error")
                for n in names:
                    self.routes[(package, n)] = rule
                self._register(rule)
                out.append(rule)
                continue
            for n in names:
                meta: dict = next((f.rule_annotation(n) for f in pfiles if f.rule_annotation(n)), {})
                where = next(f for f in pfiles if n in f.heads)
                rule_id = (meta.get("custom") or {}).get("id")
                unit_default = "warning" if n.startswith("warn") else "error"
                rule = self._make_rule(meta, rule_id if isinstance(rule_id, str) else derived_id(package, n),
                                       None if rule_id else kebab(f"{package}-{n}"), where,
                                       default_severity=unit_default, unit=(package, n))
                self.routes[(package, n)] = rule
                self._register(rule)
                out.append(rule)
        return out

    def _make_rule(self, meta: dict, rule_id: str, name: str | None, f: RegoFile, directory=None,
                   default_severity="error", unit=None) -> Rule:
        from ..registry import validate_meta

        custom = meta.get("custom") or {}
        title = meta.get("title")
        description = meta.get("description")
        what = f"`{unit[1]}` in package `{unit[0]}`" if unit else f"package `{f.package}`"
        summary = str(title or (description or "").split(". ")[0] or f"Rego policy: {what} ({f.path})").strip()
        if len(summary) > 160:
            summary = summary[:157] + "..."
        try:
            severity = severity_levels(custom.get("severity"), custom.get("tiers"), default_severity)
        except ValueError as e:
            raise PolicyError(f"{f.path}:{f.package_line}:1: {e}") from None
        targets = custom.get("targets") or DEFAULT_TARGETS
        if isinstance(targets, str):
            targets = [targets]
        rule_meta = {
            "id": rule_id,
            "name": str(custom.get("name") or name or kebab(rule_id)),
            "summary": summary if len(summary) >= 10 else f"Rego policy: {summary}",
            "why": str(description or f"A custom Rego policy: {what}, defined in {f.path}."),
            "fix": str(custom.get("fix") or "Follow the finding's message, or change the policy if it is wrong."),
            "targets": list(targets),
            "tags": list(custom.get("tags") or []),
            "severity": {str(t): (v or "off") for t, v in severity.items()},
            "since": str(custom.get("since") or "0.1.0"),
        }
        help_uri = _help_uri(meta)
        if help_uri:
            rule_meta["help_uri"] = help_uri
        if len(rule_meta["why"]) < 20:
            rule_meta["why"] = f"{rule_meta['why']} (custom Rego policy in {f.path})"
        try:
            validate_meta(rule_meta, f.path)
        except Exception as e:
            raise PolicyError(str(e)) from None
        rule = Rule.from_meta(rule_meta, self.make_check(), directory, origin="rego")
        rule.extra.update(package=f.package, file=f.path)
        return rule

    def _register(self, rule: Rule) -> None:
        other = self.by_id.get(rule.id)
        if other is not None and other is not rule:
            raise PolicyError(f"duplicate rule id {rule.id}: {other.extra.get('file')} and {rule.extra.get('file')}")
        self.by_id[rule.id] = rule
        self.rules.append(rule)
