"""Rego policies as prr-lint rules: the evaluator's lifecycle and the routing of results to rules.

A PolicyRuntime holds every policy module of a run (loaded into rules by loader.PolicyLoader) and one evaluator
(embedded or an OPA server). A rule's check(doc, ctx) asks the runtime for the document's results, which are
computed once per document for all packages, and turns the results that belong to the rule into Hits: a result
goes to the rule of its (package, rule name), or to the rule named by the result object's `id` when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..escape import one_line
from ..model import Hit
from ..rule import Rule
from .errors import PolicyError, PolicyTimeout
from .inputs import InputBuilder
from .loader import SEVERITY_WORDS, PolicyLoader, derived_id  # noqa: F401 (derived_id: re-exported)
from .source import RESULT_RULE, PolicySourceError, check_calls, line_col

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
    def from_config(cls, policy: dict) -> PolicySettings:
        s = cls()
        if policy.get("namespaces"):
            s.namespaces = list(policy["namespaces"])
        s.all_namespaces = bool(policy.get("all_namespaces", False))
        s.opa_push = bool(policy.get("opa_push", True))
        s.timeout = float(policy.get("timeout", 10.0))
        return s


class PolicyRuntime:
    def __init__(self, settings: PolicySettings | None = None):
        self.settings = settings or PolicySettings()
        self.loader = PolicyLoader(self.settings, self._checker, self._modules_changed)
        self._evaluator = None
        self._inputs = InputBuilder()
        self._last = None                  # (doc, results, error) of the last evaluated document
        self._reported_broken = False
        self._prepared = 0                 # how many files the evaluator was prepared with

    # -- loading (loader.py) -----------------------------------------------------------------------
    @property
    def files(self) -> list:
        return self.loader.files

    @property
    def rules(self) -> list[Rule]:
        return self.loader.rules

    def load_pack_dir(self, directory: str) -> list[Rule]:
        return self.loader.load_pack_dir(directory)

    def load_tree(self, path: str) -> list[Rule]:
        return self.loader.load_tree(path)

    # -- evaluation ------------------------------------------------------------------------------
    @property
    def packages(self) -> list[str]:
        return sorted({p for p, _ in self.loader.routes})

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
        if self._prepared != len(self.files):
            self.prepare()
        packages = self.packages
        input_json = self._inputs.build(doc, ctx)
        out: dict = {}
        error = None
        if input_json is not None and packages:
            try:
                values = self.evaluator().evaluate([f"data.{p}" for p in packages], input_json)
                for package, value in zip(packages, values, strict=True):   # one value per query
                    if not isinstance(value, dict):
                        raise PolicyError(f"package {package} is undefined on the policy server "
                                          "(not loaded?)" if self.settings.opa_url else
                                          f"package {package} is undefined")
                    for key, items in value.items():
                        if (package, key) in self.loader.routes:
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
            owner = self.loader.routes.get((package, name))
            m = RESULT_RULE.match(name)
            assert m is not None        # routes hold only result rules (RegoFile.result_rules)
            kind = m.group(1)
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
            text = item.get("msg") or item.get("message")
            if isinstance(text, str):
                message = text
            else:
                import json

                message = json.dumps(item, sort_keys=True)
            rid = item.get("id")
            if isinstance(rid, str):
                target = self.loader.by_id.get(rid)
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
