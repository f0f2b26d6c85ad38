"""The service dependency graph: who depends on whom, from `spec.dependencies` (Backstage `spec.dependsOn`).

One graph per run, built from the service graph. Rules that reason across services (SVC060-062), the JSON report,
the Markdown summary and the HTML scorecard all read this one structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .service import Service, ServiceGraph


@dataclass(frozen=True)
class Edge:
    source: str                   # the depending service
    target: str                   # the service depended on (may be undeclared)
    critical: bool
    path: tuple                   # the dependency entry in the source's manifest


@dataclass
class DependencyGraph:
    tiers: dict[str, int] = field(default_factory=dict)         # declared service -> tier
    edges: list[Edge] = field(default_factory=list)              # manifest order, source by source
    _out: dict[str, list[Edge]] = field(default_factory=dict)

    def out_edges(self, name: str) -> list[Edge]:
        return self._out.get(name, [])

    def declared(self, name: str) -> bool:
        return name in self.tiers

    def as_json(self) -> dict:
        """{services: [{name, tier}], edges: [{from, to, critical, declared}]}, for reports."""
        return {
            "services": [{"name": n, "tier": t} for n, t in sorted(self.tiers.items())],
            "edges": [{"from": e.source, "to": e.target, "critical": e.critical, "declared": self.declared(e.target)}
                      for e in self.edges],
        }


def _entries(svc: Service) -> list[tuple[str, bool, tuple]]:
    """(name, critical, path) of each dependency: `{name, critical}` objects, or Backstage `component:name` refs."""
    value = svc.get("dependencies")
    base = svc.path("dependencies")
    out: list[tuple[str, bool, tuple]] = []
    if not isinstance(value, list):
        return out
    for i, item in enumerate(value):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
            out.append((item["name"], item.get("critical") is True, base + (i,)))
        elif isinstance(item, str) and item:
            # Backstage entity ref `[kind:][namespace/]name`; a Component's dependsOn carries no criticality
            out.append((item.rsplit(":", 1)[-1].rsplit("/", 1)[-1], False, base + (i,)))
    return out


def build(graph: ServiceGraph) -> DependencyGraph:
    deps = DependencyGraph()
    for declared in graph.services:
        deps.tiers.setdefault(declared.name, declared.tier)
    svc: Service
    for svc in graph.services:
        if graph.by_name.get(svc.name) is not svc:
            continue              # a duplicate name: the first manifest speaks for it
        for name, critical, path in _entries(svc):
            edge = Edge(svc.name, name, critical, path)
            deps.edges.append(edge)
            deps._out.setdefault(svc.name, []).append(edge)
    return deps
