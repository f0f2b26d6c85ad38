"""`prr-lint report --format html`: one self-contained HTML page from a JSON report (schemas/report.schema.json).

No script, no network: CSS and the dependency graph (SVG) are inline, and a Content-Security-Policy forbids
scripts and every fetch, so even a value that escaped wrongly could not run or call out. Every value from the
repository (service names, owners, messages, file names) goes through `_h`: shown on one line, HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

from . import graphsvg
from .escape import one_line
from .scorecard import LEVELS, area_order, area_title

MAX_FINDINGS = 100             # findings listed per service card; the rest are counted
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2328}
header{background:#1d2328;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d1d9}main{padding:20px 28px}h2{font-size:18px;margin:26px 0 10px}
.legend span{display:inline-block;margin-right:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:16px}
.card{background:#fff;border:1px solid #d5dae0;border-radius:8px;padding:14px 16px;border-top:6px solid #888}
.card.level-gold{border-top-color:#d4a017}.card.level-silver{border-top-color:#8a969f}
.card.level-bronze{border-top-color:#b87333}.card.level-none{border-top-color:#c0392b}
.card h3{margin:0;font-size:17px;word-break:break-all}.meta{color:#57606a;margin:2px 0 8px}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-weight:600;font-size:12px;text-transform:uppercase}
.badge.gold{background:#f3d27a}.badge.silver{background:#d9dee2}.badge.bronze{background:#e3b48c}
.badge.none{background:#f4b6b0}.ready{color:#1a7f37;font-weight:600}.not-ready{color:#c0392b;font-weight:600}
.bar{height:8px;background:#e6e9ed;border-radius:4px;margin:8px 0}.bar span{display:block;height:8px;
border-radius:4px;background:#2da44e}.area h4{margin:10px 0 4px;font-size:13px;color:#57606a}
.area ul{margin:0;padding-left:18px}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.partial{color:#9a6700;font-weight:600}.sev-error{color:#c0392b}.sev-warning{color:#9a6700}.sev-info{color:#0969da}.passing{color:#1a7f37}
details{margin-top:10px}details li{word-break:break-word}
.graph{background:#fff;border:1px solid #d5dae0;border-radius:8px;padding:10px;overflow:auto}
.depgraph text{font:12px system-ui,sans-serif;text-anchor:middle}.depgraph .name{font-weight:600}
.depgraph rect{stroke:#444}.depgraph .undeclared rect{stroke-dasharray:4 3}
.depgraph .edge{fill:none;stroke:#444;stroke-width:1.5}.depgraph .edge.optional{stroke:#999;stroke-dasharray:5 4}
.depgraph .edge.critical{stroke-width:2.5}.depgraph .edge.cycle{stroke:#c0392b}
footer{color:#57606a;padding:10px 28px 24px}
"""


def _h(value: object) -> str:
    return html.escape(one_line(value), quote=True)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _partial(card: dict[str, Any]) -> str:
    if card.get("complete", True):
        return ""
    return (' · <span class="partial" title="the run reported on part of its files (paths or --diff-base), so '
            'a check may pass unseen">partial</span>')


def _card(card: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    level = card["level"]
    ready = ('<span class="ready">ready</span>' if card["ready"]
             else f'<span class="not-ready">needs {_h(card["target"])}</span>')
    owner = _h(card["owner"]) if card.get("owner") else "no owner"
    parts = [f'<section class="card level-{_h(level)}" data-service="{_h(card["name"])}" data-level="{_h(level)}">',
             f'<h3>{_h(card["name"])}</h3>',
             f'<p class="meta">tier {_h(card["tier"])} · {owner}{_partial(card)}</p>',
             f'<p><span class="badge {_h(level)}">{_h(level)}</span> {ready} · score <b>{_h(card["score"])}</b>'
             f' · {_h(card["passing"])}/{_h(card["checks"])} checks pass</p>',
             f'<div class="bar" title="score {_h(card["score"])}"><span style="width:{int(card["score"])}%"></span>'
             '</div>']
    failing = card["failing"]
    if not failing:
        parts.append('<p class="passing">Every check passes.</p>')
    by_area: dict[str, list[dict[str, Any]]] = {}
    for check in failing:
        by_area.setdefault(check["area"], []).append(check)
    for area in sorted(by_area, key=area_order):
        parts.append(f'<div class="area" data-area="{_h(area)}"><h4>{_h(area_title(area))}</h4><ul>')
        for check in by_area[area]:
            parts.append(f'<li class="sev-{_h(check["severity"])}"><code>{_h(check["rule"])}</code> '
                         f'{_h(check["name"])} <small>({_h(check["level"])}, '
                         f'{_h(_plural(check["findings"], "finding"))})</small></li>')
        parts.append("</ul></div>")
    if findings:
        parts.append(f"<details><summary>{_h(_plural(len(findings), 'finding'))}</summary><ul>")
        for f in findings[:MAX_FINDINGS]:
            parts.append(f'<li class="sev-{_h(f["severity"])}"><code>{_h(f["rule"])}</code> '
                         f'<code>{_h(f["file"])}:{_h(f["line"])}</code> {_h(f["message"])}</li>')
        if len(findings) > MAX_FINDINGS:
            parts.append(f"<li>and {len(findings) - MAX_FINDINGS} more</li>")
        parts.append("</ul></details>")
    parts.append("</section>")
    return "\n".join(parts)


def render(report: dict[str, Any]) -> str:
    """The HTML page of a JSON report that has a `scorecard` (and, for the graph, a `graph`)."""
    cards = report["scorecard"]["services"]
    summary = report["summary"]
    active: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        if f.get("service") and not f.get("suppressed"):
            active.setdefault(f["service"], []).append(f)
    ready = sum(1 for c in cards if c["ready"])
    unowned = sum(1 for f in report["findings"] if not f.get("service") and not f.get("suppressed"))
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>prr-lint readiness report</title>", f"<style>{CSS}</style></head><body>",
           "<header><h1>Production readiness</h1>",
           f"<p>{_h(_plural(len(cards), 'service'))}, {ready} ready · {_h(_plural(summary['errors'], 'error'))}, "
           f"{_h(_plural(summary['warnings'], 'warning'))}, {_h(summary['info'])} info · "
           f"{_h(summary['suppressed'])} suppressed</p></header><main>",
           '<p class="legend">Levels: ' + "".join(
               f'<span><span class="badge {lv["name"]}">{_h(lv["name"])}</span> {_h(", ".join(lv["tags"]))}</span>'
               for lv in report["scorecard"]["levels"]) + "</p>",
           "<h2>Services</h2>", '<div class="cards">']
    out.extend(_card(card, active.get(card["name"], [])) for card in cards)
    out.append("</div>")
    if not cards:
        out.append("<p>No service manifest in the checked paths.</p>")
    if unowned:
        out.append(f"<p>{_h(_plural(unowned, 'finding'))} in files that no service claims "
                   "(see <code>prr-lint check</code>).</p>")
    graph = report.get("graph")
    out.append("<h2>Dependencies</h2>")
    if graph and (graph.get("services") or graph.get("edges")):
        if not graph.get("edges"):
            out.append("<p>No service declares a dependency.</p>")
        levels = {c["name"]: c["level"] for c in cards}
        out.append(f'<div class="graph">{graphsvg.svg(graph, levels)}</div>')
        out.append("<p>An arrow points from a service to what it depends on; bold: critical, dashed: not "
                   "critical, red: closes a cycle; a dashed box is a dependency no manifest here declares.</p>")
    else:
        out.append("<p>No dependency graph in this report.</p>")
    out.append(f"</main><footer>prr-lint {_h(report['tool']['version'])} · levels {', '.join(LEVELS)}: "
               "see the README section Readiness scorecard</footer></body></html>")
    return "\n".join(out) + "\n"
