"""Rego policies as prr-lint rules.

A PolicyRuntime holds every policy module of a run and one evaluator (embedded or an OPA server). Policies become
Rule objects (origin "rego"); a rule's check(doc, ctx) asks the runtime for the document's results, which are
computed once per document for all packages, and turns the results that belong to the rule into Hits.

Which results belong to which rule:
- a rule pack directory (policy.rego + bad/ + good/) is one rule: every deny/violation/warn of its package;
- a loose .rego file under --policy is conftest-style: each (package, rule name) is a rule, unless the package
  carries `custom.id` in a package-scoped METADATA block (then the package is one rule);
- a result object's `id` sends it to the rule of that id when there is one.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field

from ..escape import one_line
from ..model import Hit, KINDS
from ..rule import Rule
from .errors import PolicyError, PolicyTimeout
from .inputs import InputBuilder
from .source import RESULT_RULE, PolicySourceError, RegoFile, check_calls, line_col, parse

DEFAULT_TARGETS = [k for k in KINDS if k not in ("runbook", "waivers")]
SEVERITY_WORDS = {"error": "error", "critical": "error", "high": "error", "warning": "warning", "warn": "warning",
                  "medium": "warning", "info": "info", "low": "info", "note": "info", "off": "off"}
DEFAULT_NAMESPACES = ("main",)


@dataclass
class PolicySettings:
    """What the run's policies are evaluated with. `opa_url`, `token` and `allow_net` are set by the CLI from its
    options and the environment only (feature.configure), never from a config file."""

    namespaces: list = field(default_factory=lambda: list(DEFAULT_NAMESPACES))
    all_namespaces: bool = False
    opa_url: str | None = None
    opa_push: bool = True
    timeout: float = 10.0              # per document (embedded) or per request (server)
    allow_net: bool = False
    token: str | None = None
    opa_deadline: float = 30.0         # every request to the server of a run, together
    budget: float | None = 60.0        # every embedded evaluation of a run, together (None: no limit)

    @classmethod
    def from_config(cls, policy: dict) -> "PolicySettings":
        s = cls()
        if policy.get("namespaces"):
            s.namespaces = list(policy["namespaces"])
        s.all_namespaces = bool(policy.get("all_namespaces", False))
        s.opa_push = bool(policy.get("opa_push", True))
        s.timeout = float(policy.get("timeout", 10.0))
        return s


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


@dataclass
class Unit:
    """Where results come from: a package's result rule (`deny`, `warn_x`, ...)."""

    package: str
    rule: str

    @property
    def kind(self) -> str:
        return RESULT_RULE.match(self.rule).group(1)


class PolicyRuntime:
    def __init__(self, settings: PolicySettings | None = None):
        self.settings = settings or PolicySettings()
        self.files: list[RegoFile] = []
        self.rules: list[Rule] = []
        self._routes: dict = {}            # (package, rule name) -> Rule
        self._by_id: dict = {}
        self._pack_packages: dict = {}     # package -> directory of the pack rule that owns it
        self._loaded_paths: set = set()
        self._evaluator = None
        self._inputs = InputBuilder()
        self._last = None                  # (doc, results, error) of the last evaluated document
        self._reported_broken = False

    # -- loading ---------------------------------------------------------------------------------
    def _read(self, path: str) -> RegoFile:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            raise PolicyError(f"{shown(path)}: cannot read policy: {e}") from None
        try:
            return parse(shown(path), text)
        except PolicySourceError as e:
            raise PolicyError(str(e)) from None

    def _syntax_check(self, f: RegoFile) -> None:
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

    def _add_files(self, files: list[RegoFile]) -> None:
        for f in files:
            self._syntax_check(f)
        self.files.extend(files)
        self._modules_changed()

    def load_pack_dir(self, directory: str) -> list[Rule]:
        """A rule directory holding policy.rego (registry.load_rules' policy_loader): one Rule."""
        directory = os.path.abspath(directory)
        if directory in self._loaded_paths:
            return [r for r in self.rules if r.directory == directory]
        main = self._read(os.path.join(directory, "policy.rego"))
        helpers = [self._read(os.path.join(directory, n)) for n in sorted(os.listdir(directory))
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
            self._routes[(main.package, n)] = rule
        self._loaded_paths.add(directory)
        self._add_files([main] + helpers)
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
        loose = []
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
            files.append(self._read(p))
        if not files:
            return []
        for f in files:
            if f.package in self._pack_packages:
                raise PolicyError(f"{f.path}:{f.package_line}:1: package {f.package} belongs to the policy rule in "
                                  f"{shown(self._pack_packages[f.package])}")
        self._add_files(files)
        by_package: dict = {}
        for f in files:
            by_package.setdefault(f.package, []).append(f)
        out = []
        for package, pfiles in sorted(by_package.items()):
            if not self._in_namespace(package):
                continue
            names = sorted({n for f in pfiles for n in f.result_rules})
            if not names or any((package, n) in self._routes for n in names):
                continue
            pkg_meta = next((f.package_annotation() for f in pfiles if f.package_annotation()), {})
            first = pfiles[0]
            if isinstance((pkg_meta.get("custom") or {}).get("id"), str):
                rule = self._make_rule(pkg_meta, pkg_meta["custom"]["id"], None, first,
                                       default_severity="warning" if all(n.startswith("warn") for n in names)
                                       else "error")
                for n in names:
                    self._routes[(package, n)] = rule
                self._register(rule)
                out.append(rule)
                continue
            for n in names:
                meta = next((f.rule_annotation(n) for f in pfiles if f.rule_annotation(n)), {})
                where = next(f for f in pfiles if n in f.heads)
                rule_id = (meta.get("custom") or {}).get("id")
                unit_default = "warning" if n.startswith("warn") else "error"
                rule = self._make_rule(meta, rule_id if isinstance(rule_id, str) else derived_id(package, n),
                                       None if rule_id else kebab(f"{package}-{n}"), where,
                                       default_severity=unit_default, unit=(package, n))
                self._routes[(package, n)] = rule
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
        rule = Rule.from_meta(rule_meta, self._checker(), directory, origin="rego")
        rule.extra.update(package=f.package, file=f.path)
        return rule

    def _register(self, rule: Rule) -> None:
        other = self._by_id.get(rule.id)
        if other is not None and other is not rule:
            raise PolicyError(f"duplicate rule id {rule.id}: {other.extra.get('file')} and {rule.extra.get('file')}")
        self._by_id[rule.id] = rule
        self.rules.append(rule)

    # -- evaluation ------------------------------------------------------------------------------
    @property
    def packages(self) -> list[str]:
        return sorted({p for p, _ in self._routes})

    def evaluator(self):
        if self._evaluator is None:
            s = self.settings
            if s.opa_url:
                from .remote import OpaServerEvaluator

                self._evaluator = OpaServerEvaluator(s.opa_url, s.timeout, s.opa_push, s.token, s.opa_deadline)
            else:
                from .embedded import EmbeddedEvaluator

                self._evaluator = EmbeddedEvaluator(s.timeout, budget=s.budget)
            self._modules_changed()
        return self._evaluator

    def _modules_changed(self) -> None:
        if self._evaluator is not None:
            self._evaluator.set_modules([(f.path, f.text) for f in self.files])

    def static_check(self) -> None:
        from regopy import Interpreter

        rego = Interpreter()
        is_builtin = lambda name: name == "print" or rego.is_builtin(name)  # noqa: E731
        try:
            check_calls(self.files, is_builtin, self.settings.allow_net, embedded=not self.settings.opa_url)
        except PolicySourceError as e:
            raise PolicyError(str(e)) from None

    def prepare(self) -> None:
        """Check the policies and start the evaluator (push to the server): errors surface here, before a run."""
        if not self.files:
            return
        self.static_check()
        ev = self.evaluator()
        try:
            ev.prepare()
        except PolicyError as e:
            raise self._located(e) from None
        self._prepared = len(self.files)

    def _located(self, e: PolicyError) -> PolicyError:
        if e.file and e.offset is not None:
            f = next((f for f in self.files if f.path == e.file), None)
            if f is not None:
                line, col = line_col(f.text, e.offset)
                return PolicyError(f"{f.path}:{line}:{col}: {e.message}")
        return e

    def results(self, doc, ctx):
        """{(package, rule name): [result, ...]} for one document; the last document's answer is cached."""
        if self._last is not None and self._last[0] is doc and self._last[2] is None:
            return self._last[1]
        if getattr(self, "_prepared", 0) != len(self.files):
            self.prepare()
        packages = self.packages
        input_json = self._inputs.build(doc, ctx)
        out: dict = {}
        error = None
        if input_json is not None and packages:
            try:
                values = self.evaluator().evaluate([f"data.{p}" for p in packages], input_json)
                for package, value in zip(packages, values):
                    if not isinstance(value, dict):
                        raise PolicyError(f"package {package} is undefined on the policy server "
                                          "(not loaded?)" if self.settings.opa_url else
                                          f"package {package} is undefined")
                    for key, items in value.items():
                        if (package, key) in self._routes:
                            out[(package, key)] = _as_list(items)
            except PolicyTimeout as e:
                error = PolicyTimeout(f"{one_line(doc.file)}: {e}")
            except PolicyError as e:
                error = e
        self._last = (doc, out, error)
        if error is not None:
            raise error
        return out

    def _checker(self):
        return _BoundCheck(self)

    def check(self, rule: Rule, doc, ctx):
        last = self._last
        if last is not None and last[0] is doc and last[2] is not None:
            return  # this document's evaluation failed and was reported by another rule of the run
        try:
            results = self.results(doc, ctx)
        except PolicyError:
            if getattr(self._evaluator, "broken", None) is not None:
                if self._reported_broken:
                    return  # the server failed: one error line is enough, the run fails (exit 2)
                self._reported_broken = True
            raise
        for (package, name), items in results.items():
            owner = self._routes.get((package, name))
            kind = RESULT_RULE.match(name).group(1)
            for item in items:
                hit, target = self._hit(doc, item, kind)
                if (target or owner) is rule:
                    yield hit

    def _hit(self, doc, item, kind: str):
        target = None
        severity = "warning" if kind == "warn" else None
        service = None
        path: tuple = ()
        if isinstance(item, str):
            message = item
        elif isinstance(item, dict):
            message = item.get("msg") or item.get("message")
            if not isinstance(message, str):
                import json

                message = json.dumps(item, sort_keys=True)
            rid = item.get("id")
            if isinstance(rid, str):
                target = self._by_id.get(rid)
                if target is None:
                    message = f"[{rid}] {message}"
            word = item.get("severity")
            if isinstance(word, str) and SEVERITY_WORDS.get(word.lower()) not in (None, "off"):
                severity = SEVERITY_WORDS[word.lower()]
            if isinstance(item.get("service"), str):
                service = item["service"]
            path = _path(item.get("path"))
        else:
            import json

            message = json.dumps(item, sort_keys=True)
        hit = Hit(doc, path, message)
        if severity is not None and hasattr(hit, "severity"):
            hit.severity = severity
        if service is not None and hasattr(hit, "service"):
            hit.service = service
        return hit, target

    def close(self) -> None:
        if self._evaluator is not None:
            self._evaluator.close()


class _BoundCheck:
    """A rule's check function: bound to its runtime now and to its Rule once the Rule exists."""

    def __init__(self, runtime: PolicyRuntime):
        self.runtime = runtime
        self.rule = None

    def __call__(self, doc, ctx):
        rule = self.rule
        if rule is None:
            rule = next(r for r in self.runtime.rules if r.check is self)
            self.rule = rule
        return self.runtime.check(rule, doc, ctx)


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        # a set rule written without `contains` reads as an object {result: true}
        if value and all(v is True for v in value.values()):
            return list(value.keys())
        return [value]
    if value in (None, False, True):
        return []
    return [value]


def _path(value) -> tuple:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, (str, int)) and not isinstance(v, bool))
    if isinstance(value, str) and value:
        parts = []
        for part in re.findall(r"[^.\[\]]+", value):
            parts.append(int(part) if part.isdigit() else part)
        return tuple(parts)
    return ()
