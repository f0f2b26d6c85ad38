"""Measure Helm rendering on a real chart collection: charts rendered per second and how exactly rendered fields
map back to template lines.

    .venv/bin/python bench/render_helm.py PATH     # e.g. a checkout of prometheus-community/helm-charts

It runs the renderer as `prr-lint check` does (threads, line markers, every production values file) and reports:
  charts/s    charts rendered per second of wall time (the renderer only: no rules)
  marked      share of rendered fields on a line that carries its own marker (the template line, exactly)
  key line    share of fields whose template line holds their key (`replicas:`), or is the `include`/`toYaml`
              line whose output they are; the rest took the nearest marker
Figures are machine-dependent: compare runs on the same, otherwise idle, machine.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

from prr_lint.engine import Engine, Options
from prr_lint.render import helm as helm_renderer

EMITTING = ("include", "toYaml", "tpl", "template")


def main(root: str) -> None:
    root = os.path.abspath(root)
    spent: dict[str, float] = {}
    render = helm_renderer.render

    def timed(job):
        start = time.perf_counter()
        out = render(job)
        spent["seconds"] = time.perf_counter() - start
        spent["charts"] = len(helm_renderer._chart_dirs(job))
        return out

    helm_renderer.render = timed
    engine = Engine(Options(paths=[root], root=root, use_cache=False))
    engine.load()
    rendered = engine.rendered
    marked = sum(d.meta.get("mapped", (0, 0))[0] for d in rendered.docs)
    fields = sum(d.meta.get("mapped", (0, 0))[1] for d in rendered.docs)
    kinds: Counter = Counter()
    texts: dict[str, list[str]] = {}
    for doc in rendered.docs:
        if doc.file not in texts:
            with open(os.path.join(root, doc.file), encoding="utf-8", errors="replace") as fh:
                texts[doc.file] = fh.read().split("\n")
        lines = texts[doc.file]
        for path, span in doc.spans.items():
            if not path:
                continue
            line = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
            key = path[-1]
            if isinstance(key, str) and f"{key}:" in line or isinstance(key, int) and (
                    line.lstrip().startswith("-") or "[" in line):
                kinds["key line"] += 1
            elif "{{" in line and any(word in line for word in EMITTING):
                kinds["emitting line"] += 1
            else:
                kinds["nearest marker"] += 1
    total = max(sum(kinds.values()), 1)
    problems = Counter(p.rule_id for p in rendered.problems)
    charts = spent.get("charts", 0)
    seconds = spent.get("seconds", 0.0)
    print(f"charts {charts}  seconds {seconds:.2f}  charts/s {charts / seconds if seconds else 0:.1f}  "
          f"objects {len(rendered.docs)}  PRR005 {problems['PRR005']}  PRR006 {problems['PRR006']}")
    print(f"fields {fields}  marked {marked / max(fields, 1):.1%}  key line {kinds['key line'] / total:.1%}  "
          f"emitting line {kinds['emitting line'] / total:.1%}  nearest marker {kinds['nearest marker'] / total:.1%}")
    for notice in rendered.notices:
        print("notice:", *notice)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
