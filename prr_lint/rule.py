"""The rule decorator and the Rule type. The decorator only attaches metadata; registry.py finds rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# `targets` entries that are not document kinds
SERVICE = "service-graph"     # check(service, ctx): one call per joined service
ENGINE = "engine"             # findings made by the engine itself (parse errors); check is never called

# rules of the built-in pack the engine and its steps name
PARSE_ERROR = "PRR000"        # a file that cannot be read or parsed
WAIVER_EXPIRED = "PRR002"     # an expired waiver
RULE_ERROR = "PRR007"         # a rule that raised on a document
RENDER_FAILED = "PRR005"      # a chart that could not be rendered (prr_lint.render names them too)
RENDER_INCOMPLETE = "PRR006"  # a chart rendered without one of its dependencies
# Findings that mean a run did not see everything (id -> name). A gate never lets them be selected away,
# turned off, waived, baselined or left out by a diff.
UNDECIDABLE = {PARSE_ERROR: "parse-error", RULE_ERROR: "rule-error", RENDER_FAILED: "render-failed",
               RENDER_INCOMPLETE: "render-incomplete"}
GATE_PROTECTED = frozenset(UNDECIDABLE) | frozenset(UNDECIDABLE.values())   # ids and names


# the rule pack's folder names (rules/<folder>/) as selectors of the area they hold
AREA_FOLDERS = {"engine": "prr", "service": "svc", "k8s": "k8s", "helm": "helm", "terraform": "tf",
                "prometheus": "prom"}


def rule(**meta: Any) -> Callable[[F], F]:
    """Attach rule metadata to a check function: @rule(id="K8S002", name="memory-limit", ...)."""

    def attach(fn: F) -> F:
        vars(fn)["__prr_rule__"] = meta   # fn.__prr_rule__, spelled so that any callable type checks
        return fn

    return attach


def _levels(severity: str | dict[Any, str]) -> dict[int, str | None]:
    if isinstance(severity, str):
        return {t: (None if severity == "off" else severity) for t in range(4)}
    return {int(t): (None if v == "off" else v) for t, v in severity.items()}


@dataclass
class Rule:
    id: str
    name: str
    summary: str
    why: str
    fix: str
    targets: list[str]
    tags: list[str]
    severity: dict[int, str | None]               # tier -> "error" | "warning" | "info" | None (rule does not apply)
    since: str
    check: Callable[..., Any] | None = None
    directory: str | None = None
    origin: str = "builtin"       # builtin, user or rego
    help_uri: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_meta(cls, meta: dict[str, Any], check: Callable[..., Any] | None = None, directory: str | None = None,
                  origin: str = "builtin") -> Rule:
        known = {"id", "name", "summary", "why", "fix", "targets", "tags", "severity", "since", "help_uri"}
        return cls(
            id=meta["id"], name=meta["name"], summary=meta["summary"], why=meta["why"], fix=meta["fix"],
            targets=list(meta["targets"]), tags=list(meta.get("tags", [])), severity=_levels(meta["severity"]),
            since=meta.get("since", "0.1.0"), check=check, directory=directory, origin=origin,
            help_uri=meta.get("help_uri"), extra={k: v for k, v in meta.items() if k not in known},
        )

    @property
    def area(self) -> str:
        # the id without its three-digit number: "K8S003" -> "k8s", "HELM001" -> "helm"
        return self.id[:-3].lower() if self.id[-3:].isdigit() else self.id.lower()

    def level(self, tier: int) -> str | None:
        return self.severity.get(tier)

    def matches(self, selector: str) -> bool:
        """Whether a --select/--ignore value names this rule: its id (any case), name, a tag or its area
        (`k8s`, `tf`, or the pack folder `terraform`)."""
        low = selector.lower()
        return low in (self.id.lower(), self.name.lower()) or low in (t.lower() for t in self.tags) \
            or low == self.area or AREA_FOLDERS.get(low) == self.area
