"""A Markdown report for a CI job summary ($GITHUB_STEP_SUMMARY) or a pull-request comment.

A per-service readiness table (service, tier, owner, errors, warnings, top findings), then the findings that no
service owns, then every finding and every suppression in collapsed sections. GitHub accepts at most 1 MiB of
summary per step: the report never exceeds `max_bytes`; rows that do not fit are left out, with a note that says
how many and where to find them.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..escape import printable
from ..model import SEVERITY_RANK, Finding
from . import counts, plural
from .dependencies import markdown_sections

if TYPE_CHECKING:
    from ..engine import Result

T = TypeVar("T")

MAX_BYTES = 1024 * 1024          # GitHub's limit for one step's job summary
RESERVE = 8 * 1024               # kept free for the closing lines and the truncation note
TOP = 3                          # findings shown per service in the table
_ICON = {"error": ":x:", "warning": ":warning:", "info": ":information_source:"}
_MD_SPECIAL = "\\`*_[]|~"
_MD_ESCAPE = str.maketrans({ch: "\\" + ch for ch in _MD_SPECIAL})
_NOT_IN_CODE = "`<>&\\"
MAX_CELL = 1000                  # characters of one repository value shown in a cell
MAX_ERRORS = 20                  # "could not finish" messages shown; the rest are counted


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell: no HTML, no emphasis, no pipe, one line, bounded length."""
    text = str(text)
    if len(text) > MAX_CELL:       # one hostile value must not use up the whole summary
        text = text[:MAX_CELL] + "…"
    # white space (every line break included) collapses to one space; other controls become visible escapes
    text = printable(" ".join(text.split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.translate(_MD_ESCAPE)


def code(text: object) -> str:
    """Inline code in a table cell (a pipe must still be escaped there). Text that a code span cannot carry
    faithfully (a backtick ends it; `<`, `&` and backslashes show as typed there but are read by GitHub's
    table and HTML filters) is shown as escaped plain text instead."""
    text = printable(text)          # a line break in a name shows as `\n`, so the cell falls back to plain text
    if len(text) > MAX_CELL or any(ch in _NOT_IN_CODE for ch in text):
        return cell(text)
    return f"`{text.replace('|', chr(92) + '|')}`"


class _Out:
    def __init__(self, limit: int):
        self.lines: list[str] = []
        self.size = 0
        self.limit = limit
        self.full = False
        self.omitted = 0

    def add(self, line: str, force: bool = False) -> bool:
        n = len(line.encode("utf-8")) + 1
        if force or (not self.full and self.size + n <= self.limit):
            self.lines.append(line)
            self.size += n
            return True
        self.full = True
        return False

    def table(self, head: list[str], items: Sequence[T], tail: Sequence[str] = (),
              row: Callable[[T], str] = str) -> None:
        """A section: its head only if at least one row fits; rows until the budget is spent; the tail always.
        Rows are formatted only while they fit: tens of thousands of findings cost nothing past the limit."""
        if not items:
            return
        needed = sum(len(x.encode("utf-8")) + 1 for x in head + [row(items[0])])
        if self.full or self.size + needed > self.limit:
            self.full = True
            self.omitted += len(items)
            return
        for line in head:
            self.add(line)
        for i, item in enumerate(items):
            if not self.add(row(item)):
                self.omitted += len(items) - i
                break
        for line in tail:
            self.add(line, force=True)


def _location(f: Finding, link_base: str | None) -> str:
    where = f"{f.file}:{f.span.line}"
    if not link_base:
        return code(where)
    # a file name that is not UTF-8 (surrogate escapes) is linked by its real bytes
    url = f"{link_base.rstrip('/')}/{urllib.parse.quote(f.file, errors='surrogateescape')}#L{f.span.line}"
    if f.span.end_line > f.span.line:
        url += f"-L{f.span.end_line}"
    return f"[{code(where)}]({url})"


def _severity(f: Finding) -> str:
    return f"{_ICON[f.severity]} {f.severity}"


def _status(c: dict[str, int]) -> str:
    if c["error"]:
        return ":x:"
    if c["warning"]:
        return ":warning:"
    return ":white_check_mark:"


def _by_importance(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.service_level is False) + f.sort_key())


def _service_rows(result: Result, active: list[Finding], link_base: str | None) -> list[str]:
    services = {s.name: s for s in result.services}
    tiers: dict[str, int | None] = {}
    # one pass: filtering all findings per service is services x findings
    by_service: dict[str | None, list[Finding]] = {}
    for f in active:
        by_service.setdefault(f.service, []).append(f)
        if f.service and f.service not in services:
            tiers.setdefault(f.service, f.tier)
    rows = []
    names = sorted(set(services) | set(tiers))
    for name in names:
        s = services.get(name)
        mine = _by_importance(by_service.get(name, ()))
        c = counts(mine)
        top = [f"{code(f.rule_id)} {cell(f.message)} ({_location(f, link_base)})" for f in mine[:TOP]]
        if len(mine) > TOP:
            top.append(f"and {len(mine) - TOP} more")
        tier = s.tier if s else tiers[name]
        owner = cell(s.owner) if s and s.owner else "—"
        rows.append(f"| {_status(c)} | {code(name)} | {cell(tier) if tier is not None else '—'} | {owner} | "
                    f"{c['error']} | {c['warning']} | {'<br>'.join(top) or 'ready'} |")
    return rows


def _finding_row(f: Finding, link_base: str | None, service: bool) -> str:
    extra = f" {code(f.service) if f.service else '—'} |" if service else ""
    return (f"| {_severity(f)} | {code(f.rule_id)} {cell(f.rule_name)} | {_location(f, link_base)} | "
            f"{cell(f.message)} |{extra}")


def _suppressed_row(f: Finding, link_base: str | None) -> str:
    s = f.suppression
    assert s is not None  # only suppressed findings are listed here
    return (f"| {code(f.rule_id)} | {_location(f, link_base)} | {cell(s.kind)} | "
            f"{cell(s.justification or '') or '—'} | {cell(s.owner or '') or '—'} | {cell(s.expires or '') or '—'} |")


def _scorecard_table(result: Result) -> tuple[list[str], list[str], list[str]]:
    """The readiness scorecard (prr_lint/scorecard.py): its heading lines, one row per service, a closing note."""
    from ..scorecard import build, markdown_table

    lines = markdown_table(build(result).as_json()["services"])
    rows = [line for line in lines[5:] if line.startswith("|")]
    return lines[:5], rows, lines[5 + len(rows):]


def render(result: Result, max_bytes: int = MAX_BYTES, link_base: str | None = None, title: str | None = None,
           **_: Any) -> str:
    out = _Out(max(max_bytes - RESERVE, 0))
    active = result.active
    c = counts(result.findings)
    files = len({f.file for f in active})

    out.add(f"## {cell(title) if title else 'prr-lint: production readiness'}", force=True)
    out.add("", force=True)
    if c["error"] + c["warning"] + c["info"] == 0:
        line = f":white_check_mark: No findings in {plural(result.files_read, 'file')}."
    else:
        icon = _ICON["error"] if c["error"] else _ICON["warning"] if c["warning"] else _ICON["info"]
        line = (f"{icon} **{plural(c['error'], 'error')}**, {plural(c['warning'], 'warning')}, {c['info']} info "
                f"in {plural(files, 'file')} ({plural(result.files_read, 'file')} read).")
    if c["suppressed"]:
        line += f" {c['suppressed']} suppressed."
    out.add(line, force=True)
    diff, baseline = result.diff, result.baseline
    if diff or baseline:
        notes = []
        if diff:
            since = code(diff.base)
            if diff.merge_base:
                since += f" (merge base {code(str(diff.merge_base)[:12])})"
            notes.append(f"only findings on lines changed since {since}")
        if baseline:
            notes.append(f"findings recorded in the baseline {code(baseline.file)} left out")
        out.add("", force=True)
        out.add(f"Scope: {'; '.join(notes)}.", force=True)
    errors = list(getattr(result, "errors", []))
    for message in errors[:MAX_ERRORS]:
        out.add("", force=True)
        out.add(f"> [!CAUTION]\n> prr-lint could not finish: {cell(message)}", force=True)
    if len(errors) > MAX_ERRORS:
        out.add("", force=True)
        out.add(f"> [!CAUTION]\n> and {plural(len(errors) - MAX_ERRORS, 'more error')}: run `prr-lint check` "
                "to see all of them.", force=True)

    service_rows = _service_rows(result, active, link_base)
    out.table(["", "### Services", "",
               "| | Service | Tier | Owner | Errors | Warnings | Top findings |",
               "| --- | --- | ---: | --- | ---: | ---: | --- |"], service_rows)
    for head, rows in markdown_sections(result):
        out.table(head, rows)

    out.table(*_scorecard_table(result))

    unowned = _by_importance(f for f in active if not f.service)
    out.table(["", "### Not owned by a service", "",
               "Files that no service manifest claims, checked at the default tier.", "",
               "| Severity | Rule | Location | Message |", "| --- | --- | --- | --- |"],
              unowned, row=lambda f: _finding_row(f, link_base, service=False))

    owned = [f for f in active if f.service]
    out.table(["", f"<details><summary>All {plural(len(owned), 'finding')} of services</summary>", "",
               "| Severity | Rule | Location | Message | Service |", "| --- | --- | --- | --- | --- |"],
              owned, ["", "</details>"], row=lambda f: _finding_row(f, link_base, service=True))

    suppressed = [f for f in result.findings if f.suppressed]
    out.table(["", f"<details><summary>{plural(len(suppressed), 'suppressed finding')}</summary>", "",
               "| Rule | Location | Kind | Reason | Owner | Expires |", "| --- | --- | --- | --- | --- | --- |"],
              suppressed, ["", "</details>"],
              row=lambda f: _suppressed_row(f, link_base))

    if out.omitted:
        out.add("", force=True)
        out.add(f"> [!NOTE]\n> {plural(out.omitted, 'more row')} not shown: GitHub limits a job summary to 1 MiB. "
                "The SARIF report (code scanning) and `prr-lint check` list every finding.", force=True)
    return "\n".join(out.lines) + "\n"
