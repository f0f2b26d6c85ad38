"""The service dependency graph drawn as inline SVG: a layered layout computed here, no layout engine.

Layers run top to bottom from the services nobody depends on to their dependencies (longest path, so every edge
points down); within a layer, services are ordered by the mean position of their dependents (two barycenter
sweeps), which removes most crossings in graphs of the size a repository has. An edge that closes a cycle is
drawn as a curve on the side and marked. Input is the report's `graph` (`DependencyGraph.as_json()`);
every name is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from .escape import one_line

NODE_W, NODE_H = 170, 46
GAP_X, GAP_Y = 30, 70
MARGIN = 20
MAX_PER_ROW = 6                # services side by side; a wider layer wraps
MAX_LABEL = 22                 # characters of a name shown in a box; the whole name is in its tooltip
LEVEL_FILL = {"gold": "#f3d27a", "silver": "#d9dee2", "bronze": "#e3b48c", "none": "#f4b6b0"}


def _h(value: object) -> str:
    return html.escape(one_line(value), quote=True)


@dataclass
class Layout:
    layers: list[list[str]]
    position: dict[str, tuple[int, int]]      # name -> (x, y) of the box's top-left corner
    back_edges: set[tuple[str, str]]          # edges that close a cycle
    width: int
    height: int


def _back_edges(nodes: list[str], out: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Edges to a node still on the depth-first path (iterative, names in order: deterministic)."""
    state: dict[str, int] = {}                # 1 on the path, 2 done
    back: set[tuple[str, str]] = set()
    for start in nodes:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(out.get(start, [])))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out.get(child, []))))
    return back


def layout(graph: dict[str, Any]) -> Layout:
    names = sorted({s["name"] for s in graph.get("services", [])}
                   | {e["from"] for e in graph.get("edges", [])} | {e["to"] for e in graph.get("edges", [])})
    out: dict[str, list[str]] = {}
    for e in graph.get("edges", []):
        if e["from"] != e["to"] and e["to"] not in out.setdefault(e["from"], []):
            out[e["from"]].append(e["to"])
    for targets in out.values():
        targets.sort()
    back = _back_edges(names, out)
    forward = {n: [t for t in out.get(n, []) if (n, t) not in back] for n in names}
    incoming = {n: 0 for n in names}
    for n in names:
        for t in forward[n]:
            incoming[t] += 1
    layer = {n: 0 for n in names}
    ready = [n for n in names if incoming[n] == 0]
    while ready:                               # Kahn's order: a node's layer is final when it is taken
        n = ready.pop(0)
        for t in forward[n]:
            layer[t] = max(layer[t], layer[n] + 1)
            incoming[t] -= 1
            if incoming[t] == 0:
                ready.append(t)
    layers: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for n in names:
        layers[layer[n]].append(n)
    parents: dict[str, list[str]] = {n: [] for n in names}
    for n in names:
        for t in forward[n]:
            parents[t].append(n)
    for _ in range(2):                         # barycenter sweeps, top to bottom
        for i in range(1, len(layers)):
            above = {n: k for k, n in enumerate(layers[i - 1])}
            def centre(n: str, above: dict[str, int] = above) -> float:
                ps = [above[p] for p in parents[n] if p in above]
                return sum(ps) / len(ps) if ps else float(len(above))
            layers[i].sort(key=lambda n: (centre(n), n))
    # a wide layer wraps onto several rows: no edge joins two services of one layer, so edges still point down
    rows = [layer_[k:k + MAX_PER_ROW] for layer_ in layers for k in range(0, len(layer_), MAX_PER_ROW)]
    widest = max((len(row) for row in rows), default=0)
    width = 2 * MARGIN + widest * NODE_W + max(widest - 1, 0) * GAP_X
    position: dict[str, tuple[int, int]] = {}
    for i, row in enumerate(rows):
        row_width = len(row) * NODE_W + max(len(row) - 1, 0) * GAP_X
        x0 = (width - row_width) // 2
        wanted = []
        for k, n in enumerate(row):   # under its dependents if placed, else centred with its row
            placed = [position[p][0] for p in parents[n] if p in position]
            wanted.append(sum(placed) // len(placed) if placed else x0 + k * (NODE_W + GAP_X))
        xs = _spread(wanted, width)
        for n, x in zip(row, xs, strict=True):
            position[n] = (x, MARGIN + i * (NODE_H + GAP_Y))
    height = 2 * MARGIN + len(rows) * NODE_H + max(len(rows) - 1, 0) * GAP_Y
    return Layout(layers, position, back, width, height)


def _spread(wanted: list[int], width: int) -> list[int]:
    """x of each box of a row, in order: as near as possible to where it is wanted, never overlapping, inside."""
    step = NODE_W + GAP_X
    xs: list[int] = []
    for x in wanted:
        xs.append(max(x, xs[-1] + step) if xs else max(x, MARGIN))
    overflow = (xs[-1] + NODE_W + MARGIN - width) if xs else 0
    if overflow > 0:              # pushed out on the right: move back left as far as the boxes allow
        xs = [x - overflow for x in xs]
        for k in range(len(xs)):
            xs[k] = max(xs[k], MARGIN if k == 0 else xs[k - 1] + step)
    return xs


def _label(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1] + "…"


def svg(graph: dict[str, Any], levels: dict[str, str]) -> str:
    """The graph as an `<svg>` element; `levels` colours each declared service by its scorecard level."""
    lay = layout(graph)
    tiers = {s["name"]: s.get("tier") for s in graph.get("services", [])}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="depgraph" role="img" width="{lay.width}" '
             f'height="{lay.height}" viewBox="0 0 {lay.width} {lay.height}">',
             "<title>Service dependency graph</title>",
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" '
             'markerWidth="10" markerHeight="10" orient="auto-start-reverse">'
             '<path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>']
    seen: set[tuple[str, str]] = set()
    for e in graph.get("edges", []):
        source, target = e["from"], e["to"]
        if (source, target) in seen or source == target:
            continue
        seen.add((source, target))
        (sx, sy), (tx, ty) = lay.position[source], lay.position[target]
        kind = "critical" if e.get("critical") else "optional"
        title = f"{source} → {target}{' (critical)' if e.get('critical') else ''}"
        if (source, target) in lay.back_edges:    # closes a cycle: up the gap right of the boxes
            x1, y1, x2, y2 = sx + NODE_W, sy + NODE_H // 2, tx + NODE_W, ty + NODE_H // 2
            bow = max(x1, x2) + GAP_X // 2
            path = f"M {x1} {y1} C {bow} {y1}, {bow} {y2}, {x2} {y2}"
            kind += " cycle"
            title += ": closes a cycle"
        else:
            x1, y1, x2, y2 = sx + NODE_W // 2, sy + NODE_H, tx + NODE_W // 2, ty
            middle = (y1 + y2) // 2
            path = f"M {x1} {y1} C {x1} {middle}, {x2} {middle}, {x2} {y2}"
        parts.append(f'<path class="edge {kind}" d="{path}" marker-end="url(#arrow)"><title>{_h(title)}</title></path>')
    for name, (x, y) in sorted(lay.position.items()):
        declared = name in tiers
        level = levels.get(name, "none") if declared else ""
        fill = LEVEL_FILL.get(level, "#ffffff")
        klass = f"node level-{level}" if declared else "node undeclared"
        detail = f"tier {tiers[name]} · {level}" if declared else "not declared here"
        parts.append(f'<g class="{klass}" data-service="{_h(name)}"><title>{_h(name)}: {_h(detail)}</title>'
                     f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}"/>'
                     f'<text x="{x + NODE_W // 2}" y="{y + 19}" class="name">{_h(_label(name))}</text>'
                     f'<text x="{x + NODE_W // 2}" y="{y + 36}" class="detail">{_h(detail)}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts)
