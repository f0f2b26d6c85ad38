"""`prr-lint report --compare BASE.json`: what got better and worse between two JSON reports.

Per service: level, score, errors and warnings before and after. A service is *better* when
(level, score, -errors, -warnings) went up, *worse* when it went down (level counts first, then score).
Findings are matched by (rule, fingerprint), which ignores line numbers: a finding that only moved is neither
new nor fixed. Suppressed findings are left out of both sides.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .escape import line_start, one_line
from .scorecard import NONE, RANK

MAX_LISTED = 200               # findings listed per section; the rest are counted


@dataclass
class ServiceChange:
    name: str
    tier: int | None
    before: dict[str, Any] | None            # None: not in the base report
    after: dict[str, Any] | None             # None: gone from the current report

    @staticmethod
    def _key(side: dict[str, Any]) -> tuple[int, int, int, int]:
        return (RANK.get(side.get("level", NONE), 0), side.get("score", 0), -side["errors"], -side["warnings"])

    @property
    def status(self) -> str:
        if self.before is None:
            return "new"
        if self.after is None:
            return "removed"
        # a report without a scorecard: compare the counts only
        counts_only = "level" not in self.before or "level" not in self.after
        before, after = (k[2:] if counts_only else k for k in (self._key(self.before), self._key(self.after)))
        return "better" if after > before else "worse" if after < before else "same"


@dataclass
class Comparison:
    base: str                                # how the base report is named (its file)
    services: list[ServiceChange]
    new: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)   # errors/warnings: (before, after)

    def count(self, status: str) -> int:
        return sum(1 for s in self.services if s.status == status)


def _sides(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Service name -> its counts (services), merged with its scorecard entry when the report has one."""
    cards = {c["name"]: c for c in (report.get("scorecard") or {}).get("services", [])}
    out = {}
    for s in report["services"]:
        side = {"tier": s["tier"], "errors": s["errors"], "warnings": s["warnings"]}
        card = cards.get(s["name"])
        if card is not None:
            side.update(level=card["level"], score=card["score"])
        out[s["name"]] = side
    return out


def _active(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if not f.get("suppressed")]


def _difference(these: list[dict[str, Any]], those: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings of `these` beyond as many as `those` has of the same (rule, fingerprint)."""
    left = Counter((f["rule"], f["fingerprint"]) for f in those)
    out = []
    for f in these:
        key = (f["rule"], f["fingerprint"])
        if left[key]:
            left[key] -= 1
        else:
            out.append(f)
    return out


def compare(base: dict[str, Any], head: dict[str, Any], base_name: str) -> Comparison:
    before, after = _sides(base), _sides(head)
    services = [ServiceChange(n, (after.get(n) or before[n])["tier"], before.get(n), after.get(n))
                for n in sorted(set(before) | set(after))]
    old, now = _active(base), _active(head)
    totals = {k: (base["summary"][k], head["summary"][k]) for k in ("errors", "warnings")}
    return Comparison(base_name, services, _difference(now, old), _difference(old, now), totals)


# -- text and Markdown ------------------------------------------------------------------------------------------

def _level(side: dict[str, Any] | None) -> str:
    if side is None:
        return "-"
    return str(side.get("level", "?"))


def _arrow(before: object, after: object) -> str:
    return f"{before}" if before == after else f"{before} -> {after}"


def _get(side: dict[str, Any] | None, key: str) -> object:
    return "-" if side is None else side.get(key, "?")


def _headline(c: Comparison) -> str:
    (e0, e1), (w0, w1) = c.totals["errors"], c.totals["warnings"]
    parts = [f"{c.count('better')} better", f"{c.count('worse')} worse", f"{c.count('same')} unchanged"]
    parts += [f"{c.count(s)} {s}" for s in ("new", "removed") if c.count(s)]
    return (f"services: {', '.join(parts)}; findings: {len(c.new)} new, {len(c.fixed)} fixed; "
            f"errors {_arrow(e0, e1)}, warnings {_arrow(w0, w1)}")


def _finding_line(f: dict[str, Any]) -> str:
    where = f"{f['file']}:{f['line']}"
    service = f"  [{one_line(f['service'])}]" if f.get("service") else ""
    return f"  {f['severity']:<8} {one_line(f['rule']):<8} {one_line(where)}  {one_line(f['message'])}{service}"


def text(c: Comparison) -> str:
    lines = [f"Readiness since {one_line(c.base)}", _headline(c), ""]
    width = max((len(one_line(s.name)) for s in c.services), default=7)
    for s in c.services:
        lines.append(f"  {s.status:<8} {line_start(s.name):<{width}}  tier {_get(s.after or s.before, 'tier')}  "
                     f"level {_arrow(_level(s.before), _level(s.after))}  "
                     f"score {_arrow(_get(s.before, 'score'), _get(s.after, 'score'))}  "
                     f"errors {_arrow(_get(s.before, 'errors'), _get(s.after, 'errors'))}  "
                     f"warnings {_arrow(_get(s.before, 'warnings'), _get(s.after, 'warnings'))}")
    for title, items in (("New findings", c.new), ("Fixed findings", c.fixed)):
        if items:
            lines += ["", f"{title} ({len(items)}):"]
            lines += [_finding_line(f) for f in items[:MAX_LISTED]]
            if len(items) > MAX_LISTED:
                lines.append(f"  and {len(items) - MAX_LISTED} more")
    return "\n".join(lines) + "\n"


_STATUS_ICON = {"better": ":arrow_up:", "worse": ":arrow_down:", "same": "", "new": ":new:", "removed": ":wastebasket:"}


def markdown(c: Comparison) -> str:
    from .reporters.markdown import cell, code

    def md_arrow(before: object, after: object) -> str:
        return cell(before) if before == after else f"{cell(before)} → {cell(after)}"

    out = [f"## prr-lint: readiness since {code(c.base)}", "", cell(_headline(c)), ""]
    if c.services:
        out += ["| | Service | Tier | Level | Score | Errors | Warnings |",
                "| --- | --- | ---: | --- | ---: | ---: | ---: |"]
        for s in c.services:
            status = f"{_STATUS_ICON[s.status]} {s.status}".strip()
            out.append(f"| {status} | {code(s.name)} | "
                       f"{cell(_get(s.after or s.before, 'tier'))} | {md_arrow(_level(s.before), _level(s.after))} | "
                       f"{md_arrow(_get(s.before, 'score'), _get(s.after, 'score'))} | "
                       f"{md_arrow(_get(s.before, 'errors'), _get(s.after, 'errors'))} | "
                       f"{md_arrow(_get(s.before, 'warnings'), _get(s.after, 'warnings'))} |")
    for title, items in (("new finding", c.new), ("fixed finding", c.fixed)):
        if not items:
            continue
        label = f"{len(items)} {title}" + ("" if len(items) == 1 else "s")
        out += ["", f"<details><summary>{label}</summary>", "",
                "| Severity | Rule | Location | Message | Service |", "| --- | --- | --- | --- | --- |"]
        for f in items[:MAX_LISTED]:
            out.append(f"| {cell(f['severity'])} | {code(f['rule'])} | {code(str(f['file']) + ':' + str(f['line']))} | "
                       f"{cell(f['message'])} | {code(f['service']) if f.get('service') else '—'} |")
        if len(items) > MAX_LISTED:
            out.append(f"| | and {len(items) - MAX_LISTED} more | | | |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
