"""The service dependency graph: who depends on whom, from `spec.dependencies` (Backstage `spec.dependsOn`).

One graph per run, built from the service graph. Rules that reason across services (SVC060-062), the JSON report,
the Markdown summary and the HTML scorecard all read this one structure.
"""

from __future__ import annotations

import fnmatch
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .service import SLO, Service, ServiceGraph

CRITICAL_ANNOTATION = "critical_dependencies"   # Backstage: `prr-lint/critical-dependencies: "a, b"`


@dataclass(frozen=True)
class Edge:
    source: str                   # the depending service
    target: str                   # the service depended on (may be undeclared)
    critical: bool
    path: tuple                   # the dependency entry in the source's manifest


@dataclass
class DependencyGraph:
    tiers: dict[str, int] = field(default_factory=dict)         # declared service -> tier
    default_tiered: set[str] = field(default_factory=set)        # services whose tier is default_tier
    edges: list[Edge] = field(default_factory=list)              # manifest order, source by source
    # declared service -> its lowest availability SLO objective (percent), when it has one
    availability: dict[str, float] = field(default_factory=dict)
    # whether an SLO is an availability SLO, by the run's `availability_slos` (SVC061 compares those)
    is_availability: Callable[[SLO], bool] = field(default=lambda slo: False)
    _out: dict[str, list[Edge]] = field(default_factory=dict)
    _undeclared: dict[str, Edge] | None = None
    _cycles: dict[str, list[str]] | None = None

    def out_edges(self, name: str) -> list[Edge]:
        return self._out.get(name, [])

    def declared(self, name: str) -> bool:
        return name in self.tiers

    def critical_out(self, name: str) -> list[Edge]:
        """Critical dependencies of a service on declared services, one edge per target (the first entry)."""
        seen: set[str] = set()
        out = []
        for e in self.out_edges(name):
            if e.critical and self.declared(e.target) and e.target not in seen:
                seen.add(e.target)
                out.append(e)
        return out

    def first_undeclared(self) -> dict[str, Edge]:
        """Each undeclared service that something depends on critically -> the first such edge, in graph order."""
        if self._undeclared is None:
            self._undeclared = {}
            for e in self.edges:
                if e.critical and not self.declared(e.target):
                    self._undeclared.setdefault(e.target, e)
        return self._undeclared

    def ceiling(self, name: str) -> tuple[float, list[tuple[str, float]]] | None:
        """The availability a service can reach at most, in percent, given its critical dependencies: serial
        availability multiplies (99.9 % x 99.95 % = 99.85 %). With the dependencies it is computed from
        ((name, objective) in manifest order); None when no critical dependency declares an availability SLO."""
        behind = [(e.target, self.availability[e.target]) for e in self.critical_out(name)
                  if e.target in self.availability]
        if not behind:
            return None
        product = 1.0
        for _, objective in behind:
            product *= objective / 100
        return product * 100, behind

    def _rounded_ceiling(self, name: str) -> float | None:
        ceiling = self.ceiling(name)
        return round(ceiling[0], 6) if ceiling else None

    def cycles(self) -> dict[str, list[str]]:
        """Each service on a cycle of critical dependencies -> the shortest such cycle through it, as the list
        of names from the cycle's alphabetically first service round to it again (`[a, b, c, a]`): every
        member of one simple cycle names it the same way. Computed once; only strongly connected parts of
        the graph are searched, so an acyclic graph costs one linear pass."""
        if self._cycles is not None:
            return self._cycles
        succ = {n: sorted({e.target for e in self.critical_out(n)}) for n in sorted(self.tiers)}
        self._cycles = {}
        for component in _strongly_connected(succ):
            members = set(component)
            inside = {n: [m for m in succ[n] if m in members] for n in component}
            for start in component:
                path = _shortest_cycle(start, inside)
                if path:
                    first = path.index(min(path[:-1]))
                    self._cycles[start] = path[first:-1] + path[:first] + [path[first]]
        return self._cycles

    def as_json(self) -> dict:
        """{services: [{name, tier, availability, ceiling}], edges: [{from, to, critical, declared}], cycles},
        for reports."""
        cycles = sorted({tuple(c) for c in self.cycles().values()})
        return {
            "services": [{"name": n, "tier": t, "availability": self.availability.get(n),
                          "ceiling": self._rounded_ceiling(n)} for n, t in sorted(self.tiers.items())],
            "edges": [{"from": e.source, "to": e.target, "critical": e.critical, "declared": self.declared(e.target)}
                      for e in self.edges],
            "cycles": [list(c) for c in cycles],
        }


def _strongly_connected(succ: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components that can hold a cycle (two or more services, or one that depends on
    itself), each sorted; Kosaraju's algorithm, iterative so that a long chain cannot exhaust the stack."""
    order: list[str] = []
    seen: set[str] = set()
    for root in succ:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next((m for m in it if m not in seen), None)
            if nxt is None:
                stack.pop()
                order.append(node)
            else:
                seen.add(nxt)
                stack.append((nxt, iter(succ[nxt])))
    pred: dict[str, list[str]] = {n: [] for n in succ}
    for n, targets in succ.items():
        for m in targets:
            pred[m].append(n)
    out = []
    assigned: set[str] = set()
    for root in reversed(order):
        if root in assigned:
            continue
        component, todo = [], [root]
        assigned.add(root)
        while todo:
            node = todo.pop()
            component.append(node)
            for m in pred[node]:
                if m not in assigned:
                    assigned.add(m)
                    todo.append(m)
        if len(component) > 1 or root in succ[root]:
            out.append(sorted(component))
    return out


def _shortest_cycle(start: str, succ: dict[str, list[str]]) -> list[str] | None:
    """Breadth-first from `start` back to it over sorted successors: the shortest cycle, ties broken by name."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in succ.get(node, ()):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [start] + path[::-1][1:] + [start] if node != start else [start, start]
            if nxt not in parent and nxt in succ:
                parent[nxt] = node
                queue.append(nxt)
    return None


def availability_matcher(types: Iterable[str], names: Iterable[str]) -> Callable[[SLO], bool]:
    """Whether an SLO is an availability SLO: a declared SLI `type` decides; else its name matches a glob."""
    wanted_types = {t.lower() for t in types}
    globs = [g.lower() for g in names]

    def match(slo: SLO) -> bool:
        declared = slo.sli.get("type") if isinstance(slo.sli, dict) else None
        if isinstance(declared, str) and declared.strip():
            return declared.strip().lower() in wanted_types
        return any(fnmatch.fnmatchcase(slo.name.lower(), g) for g in globs)

    return match


def _entries(svc: Service) -> list[tuple[str, bool, tuple]]:
    """(name, critical, path) of each dependency: `{name, critical}` objects, or Backstage `component:name` refs.

    A Backstage Component's `dependsOn` carries no criticality: its entries are critical only when the
    annotation `prr-lint/critical-dependencies` names them (comma-separated)."""
    value = svc.get("dependencies")
    base = svc.path("dependencies")
    out: list[tuple[str, bool, tuple]] = []
    if not isinstance(value, list):
        return out
    critical = _annotated_critical(svc)
    for i, item in enumerate(value):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
            out.append((item["name"], item.get("critical") is True, base + (i,)))
        elif isinstance(item, str) and item:
            # Backstage entity ref `[kind:][namespace/]name`
            name = item.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            out.append((name, name in critical, base + (i,)))
    return out


def _annotated_critical(svc: Service) -> set[str]:
    if CRITICAL_ANNOTATION not in svc.paths:
        return set()
    value = svc.get(CRITICAL_ANNOTATION)
    return {n.strip() for n in value.split(",") if n.strip()} if isinstance(value, str) else set()


_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()    # service graph -> (selection, its graph)


def of(graph: ServiceGraph, availability_slos: dict | None = None) -> DependencyGraph:
    """The run's dependency graph, built once per service graph and availability SLO selection (the config's
    `availability_slos`). Without a selection: the graph the run built, else one with the default selection."""
    if availability_slos is None:
        cached = _BUILT.get(graph)
        if cached is not None:
            return cached[1]
        from .config import DEFAULT_AVAILABILITY_SLOS

        availability_slos = DEFAULT_AVAILABILITY_SLOS
    key = (tuple(availability_slos.get("types", ())), tuple(availability_slos.get("names", ())))
    cached = _BUILT.get(graph)
    if cached is None or cached[0] != key:
        cached = (key, build(graph, availability_matcher(*key)))
        _BUILT[graph] = cached
    return cached[1]


def build(graph: ServiceGraph, is_availability: Callable[[SLO], bool] | None = None) -> DependencyGraph:
    deps = DependencyGraph(is_availability=is_availability or (lambda slo: False))
    svc: Service
    for svc in graph.services:
        if svc.name not in deps.tiers:
            deps.tiers[svc.name] = svc.tier
            if not svc.tier_declared:
                deps.default_tiered.add(svc.name)
        if is_availability is not None and graph.by_name.get(svc.name) is svc:
            objectives = [slo.objective for slo in svc.slos()
                          if is_availability(slo) and slo.objective is not None and 0 < slo.objective < 100]
            if objectives:
                deps.availability[svc.name] = min(objectives)
    for svc in graph.services:
        if graph.by_name.get(svc.name) is not svc:
            continue              # a duplicate name: the first manifest speaks for it
        for name, critical, path in _entries(svc):
            edge = Edge(svc.name, name, critical, path)
            deps.edges.append(edge)
            deps._out.setdefault(svc.name, []).append(edge)
    return deps
