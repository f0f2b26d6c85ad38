"""The readiness scorecard: a level and a score per service, computed from the findings of one run.

A *check* is a rule that ran and applies to the service: it has a severity at the service's tier, and it looks
at something the service has (a rule about Terraform does not apply to a service without Terraform). A check
*fails* when the service has a finding of it that is not waived: a waiver (or an inline one) is an accepted
risk with an owner and an expiry, while a finding left out by a baseline is known debt and still fails.
A card is marked incomplete when the run did not report on all of the service's files (paths that cover part
of it, or `--diff-base`, which reports changed lines only): its checks may pass unseen.

Levels, the way scorecard products present them, each reached when every check of that level and of the levels
below it passes (info findings never hold a level back):

- **bronze** (known): rules tagged `ownership` or `config` (owner, on-call, tier, paths, files that parse);
- **silver** (observable): `slo`, `alerting`, `runbook`, `resources`;
- **gold** (resilient): `availability`, `rollback`, `dr`, and every rule without one of the tags above.

A rule belongs to the lowest level among its tags. A service's *target* comes from its tier: gold for tier 0
and 1, silver for tier 2, bronze for tier 3; it is *ready* when its level reaches its target.

The score is 100 x (weight of passing checks) / (weight of all its checks), rounded down (so 100 means every
check passes), where a check weighs 3, 2 or 1 as its severity at the tier is error, warning or info.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .model import SEVERITY_RANK, Finding
from .rule import ENGINE, SERVICE, Rule

if TYPE_CHECKING:
    from .engine import Result

NONE = "none"
LEVELS = ("bronze", "silver", "gold")         # lowest first
RANK = {name: i for i, name in enumerate((NONE,) + LEVELS)}   # none 0, bronze 1, silver 2, gold 3
LEVEL_TAGS = {
    "bronze": ("ownership", "config"),
    "silver": ("slo", "alerting", "runbook", "resources"),
    "gold": ("availability", "rollback", "dr"),
}
TARGET_BY_TIER = {0: "gold", 1: "gold", 2: "silver", 3: "bronze"}
# how the report names each rule area (the rule id prefix)
AREA_TITLES = {"prr": "Files and manifests", "svc": "Service", "k8s": "Kubernetes", "helm": "Helm",
               "tf": "Terraform", "prom": "Prometheus"}


def rule_level(rule: Rule) -> str:
    """The level a rule counts toward: the lowest level any of its tags belongs to; gold without one."""
    return _level_of_tags(tuple(rule.tags))


@functools.lru_cache(maxsize=1024)
def _level_of_tags(tags: tuple[str, ...]) -> str:
    lowered = {t.lower() for t in tags}
    for level in LEVELS:
        if lowered.intersection(LEVEL_TAGS[level]):
            return level
    return LEVELS[-1]


def area_title(area: str) -> str:
    return AREA_TITLES.get(area, area.upper())


def area_order(area: str) -> tuple[int, str]:
    """Built-in areas in the order a reviewer reads a service (manifest first), then any other by name."""
    order = list(AREA_TITLES)
    return (order.index(area) if area in order else len(order), area)


@dataclass
class Check:
    rule: Rule
    severity: str                 # the rule's severity at the service's tier (the weight)
    findings: list[Finding] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return not self.findings

    @property
    def blocks_level(self) -> bool:
        return any(f.severity != "info" for f in self.findings)

    @property
    def worst(self) -> str:
        """The most severe of its findings (a failing check)."""
        return max(self.findings, key=lambda f: SEVERITY_RANK[f.severity]).severity

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule.id, "name": self.rule.name, "summary": self.rule.summary, "area": self.rule.area,
                "level": rule_level(self.rule), "severity": self.worst, "findings": len(self.findings)}


@dataclass
class ServiceCard:
    name: str
    tier: int
    owner: str | None
    checks: list[Check]
    complete: bool = True         # False: the run reported on part of the service's files

    @property
    def level(self) -> str:
        return _reached({rule_level(c.rule) for c in self.checks if c.findings and c.blocks_level})

    @property
    def target(self) -> str:
        return TARGET_BY_TIER.get(self.tier, LEVELS[-1])

    @property
    def ready(self) -> bool:
        return self._ready(self.level)

    def _ready(self, level: str) -> bool:
        return RANK[level] >= RANK[self.target]

    @property
    def score(self) -> int:
        return self._tally()[0]

    @property
    def failing(self) -> list[Check]:
        """Failing checks, most severe first, then by rule id."""
        return self._tally()[2]

    def _tally(self) -> tuple[int, int, list[Check], str]:
        """(score, passing checks, failing checks in order, level) in one pass over the checks."""
        total = passing_weight = passing = 0
        failing = []
        blocked = set()
        for c in self.checks:
            weight = SEVERITY_RANK[c.severity]
            total += weight
            if c.findings:
                failing.append(c)
                if c.blocks_level:
                    blocked.add(rule_level(c.rule))
            else:
                passing += 1
                passing_weight += weight
        failing.sort(key=lambda c: (-SEVERITY_RANK[c.worst], c.rule.id))
        score = 100 if total == 0 else passing_weight * 100 // total
        return score, passing, failing, _reached(blocked)

    def as_json(self) -> dict[str, Any]:
        score, passing, failing, level = self._tally()
        return {"name": self.name, "tier": self.tier, "owner": self.owner, "complete": self.complete,
                "level": level, "target": self.target, "ready": self._ready(level), "score": score,
                "checks": len(self.checks), "passing": passing, "failing": [c.as_json() for c in failing]}


def _reached(blocked: set[str]) -> str:
    """The highest level below the lowest one a failing check blocks."""
    reached = NONE
    for level in LEVELS:
        if level in blocked:
            break
        reached = level
    return reached


@dataclass
class Scorecard:
    services: list[ServiceCard]

    def as_json(self) -> dict[str, Any]:
        return {"complete": all(card.complete for card in self.services),
                "levels": [{"name": level, "tags": list(LEVEL_TAGS[level])} for level in LEVELS],
                "targets": {str(tier): level for tier, level in TARGET_BY_TIER.items()},
                "services": [card.as_json() for card in self.services]}


def _applies(rule: Rule, tier: int, kinds: set[str] | None) -> bool:
    if rule.level(tier) is None:
        return False
    if kinds is None or ENGINE in rule.targets or SERVICE in rule.targets:
        return True
    return any(t in kinds for t in rule.targets)


def build(result: Result) -> Scorecard:
    """One card per service of the run (those its paths touched), in name order. Linear in services x rules
    that apply and findings: the rules that apply are worked out once per (tier, document kinds)."""
    by_service: dict[str, dict[str, list[Finding]]] = {}
    for f in result.findings:
        if f.service and (f.suppression is None or f.suppression.kind == "baseline"):
            by_service.setdefault(f.service, {}).setdefault(f.rule_id, []).append(f)
    ran = result.ran
    applying: dict[tuple[int, tuple[str, ...] | None], tuple[list[tuple[Rule, str]], set[str]]] = {}
    cards = []
    for summary in sorted(result.services, key=lambda s: s.name):
        kinds, files = _parts(result, summary)
        key = (summary.tier, tuple(sorted(kinds)) if kinds is not None else None)
        rules = applying.get(key)
        if rules is None:
            found = [(r, r.level(summary.tier) or "info") for r in ran if _applies(r, summary.tier, kinds)]
            rules = applying[key] = (found, {r.id for r, _ in found})
        mine = by_service.get(summary.name, {})
        if mine.keys() <= rules[1]:
            checks = [Check(r, level, mine.get(r.id, [])) for r, level in rules[0]]
        else:   # a finding of a rule that does not apply here (a user pack's): it counts, in rule order
            checks = [Check(r, r.level(summary.tier) or "info", mine.get(r.id, []))
                      for r in ran if r.id in rules[1] or r.id in mine]
        complete = result.diff is None and all(_reported(file, result.scope) for file in files)
        cards.append(ServiceCard(summary.name, summary.tier, summary.owner, checks, complete))
    return Scorecard(cards)


def _parts(result: Result, summary: Any) -> tuple[set[str] | None, set[str]]:
    """(document kinds or None, files) of a service: as the run recorded them, else from its service graph."""
    if summary.kinds is not None:
        return set(summary.kinds), set(summary.files) | {summary.file}
    service = result.graph.by_name.get(summary.name) if result.graph is not None else None
    if service is None:
        return None, {summary.file}
    return {d.kind for d in service.docs} | {service.manifest.kind}, {summary.file} | {d.file for d in service.docs}


def _reported(file: str, scope: list[str]) -> bool:
    """Whether the run reports findings in `file` (engine scope: "" is everything, else a file or directory)."""
    return not scope or any(s == "" or file == s or file.startswith(s.rstrip("/") + "/") for s in scope)


_LEVEL_ICON = {"gold": ":1st_place_medal:", "silver": ":2nd_place_medal:", "bronze": ":3rd_place_medal:",
               NONE: ":red_circle:"}


def markdown_table(cards: list[dict[str, Any]]) -> list[str]:
    """The scorecard as a compact Markdown table (JSON entries, as `Scorecard.as_json()` gives them)."""
    from .reporters.markdown import cell, code

    if not cards:
        return []
    lines = ["", "### Readiness scorecard", "",
             "| Service | Tier | Level | Target | Score | Checks passing | Failing checks |",
             "| --- | ---: | --- | --- | ---: | ---: | --- |"]
    for c in cards:
        failing = ", ".join(code(check["rule"]) for check in c["failing"][:8])
        if len(c["failing"]) > 8:
            failing += f" and {len(c['failing']) - 8} more"
        done = " :white_check_mark:" if c["ready"] else ""
        partial = "" if c.get("complete", True) else " (partial)"
        level = f"{_LEVEL_ICON.get(c['level'], '')} {cell(c['level'])}{partial}"
        lines.append(f"| {code(c['name'])} | {cell(c['tier'])} | {level} | {cell(c['target'])}{done} | "
                     f"{cell(c['score'])} | {cell(c['passing'])}/{cell(c['checks'])} | {failing or '—'} |")
    if any(not c.get("complete", True) for c in cards):
        lines += ["", "Partial: the run reported on part of the service's files (paths or `--diff-base`), "
                  "so a check may pass unseen."]
    return lines


def text_table(cards: Iterable[dict[str, Any]]) -> str:
    """The scorecard for a terminal: one line per service."""
    from .escape import line_start, one_line

    cards = list(cards)
    width = max((len(one_line(c["name"])) for c in cards), default=7)
    lines = [f"{'SERVICE':<{width}}  TIER  LEVEL    TARGET  READY  SCORE  CHECKS  FAILING"]
    for c in cards:
        failing = ",".join(one_line(check["rule"]) for check in c["failing"])
        level = c["level"] + ("" if c.get("complete", True) else "*")
        lines.append(f"{line_start(c['name']):<{width}}  {c['tier']:<4}  {level:<7}  {c['target']:<6}  "
                     f"{'yes' if c['ready'] else 'no':<5}  {c['score']:>5}  {c['passing']:>3}/{c['checks']:<3} "
                     f"{failing or '-'}".rstrip())
    if any(not c.get("complete", True) for c in cards):
        lines.append("* partial: the run reported on part of the service's files (paths or --diff-base)")
    return "\n".join(lines) + "\n"
