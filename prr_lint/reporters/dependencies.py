"""The service dependency graph in reports: a `graph` object in JSON, a compact section in the Markdown summary.

Both read the run's one DependencyGraph (prr_lint.depgraph), so they show what SVC060-062 judged.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .. import depgraph

if TYPE_CHECKING:
    from ..depgraph import DependencyGraph
    from ..engine import Result

ARROW = " → "


def _graph(result: Result) -> DependencyGraph | None:
    if result.dependencies is not None:
        return result.dependencies
    return depgraph.of(result.graph) if result.graph is not None else None


def graph_json(result: Result) -> dict[str, Any]:
    """{services: [{name, tier, availability, ceiling}], edges: [{from, to, critical, declared}], cycles: [[names]]}."""
    graph = _graph(result)
    return graph.as_json() if graph is not None else {"services": [], "edges": [], "cycles": []}


def _ceiling(value: float) -> str:
    return f"{math.floor(value * 1000 + 1e-6) / 1000:g}%"      # rounded down, as SVC061 says it


def markdown_sections(result: Result) -> list[tuple[list[str], list[str]]]:
    """(head lines, rows) of the summary's dependency tables: one row per service with dependencies, then the
    cycles of critical dependencies. Nothing when no service declares a dependency."""
    from .markdown import cell, code

    graph = _graph(result)
    if graph is None or not graph.edges:
        return []

    def target(name: str, source_tier: int) -> str:
        if not graph.declared(name):
            return f"{code(name)} (not declared)"
        tier = graph.tiers[name]
        return f"{code(name)} (tier {tier}{', less critical :warning:' if tier > source_tier else ''})"

    rows = []
    for name in sorted({e.source for e in graph.edges}):
        tier = graph.tiers.get(name, 0)
        critical = [e.target for e in graph.critical_out(name)] + sorted(
            {e.target for e in graph.out_edges(name) if e.critical and not graph.declared(e.target)})
        others = sorted({e.target for e in graph.out_edges(name) if not e.critical} - set(critical))
        ceiling = graph.ceiling(name)
        rows.append(f"| {code(name)} | {cell(tier)} | {', '.join(target(t, tier) for t in critical) or '—'} | "
                    f"{', '.join(code(t) for t in others) or '—'} | {_ceiling(ceiling[0]) if ceiling else '—'} |")
    sections = [(["", "### Dependencies", "",
                  "Critical dependencies cap a service's availability: the ceiling multiplies their availability "
                  "SLOs.", "",
                  "| Service | Tier | Critical dependencies | Other dependencies | Availability ceiling |",
                  "| --- | ---: | --- | --- | ---: |"], rows)]
    cycles = sorted({tuple(c) for c in graph.cycles().values()})
    if cycles:
        sections.append((["", ":x: Cycles of critical dependencies (no order can start these services):", ""],
                         [f"- {ARROW.join(code(n) for n in cycle)}" for cycle in cycles]))
    return sections
