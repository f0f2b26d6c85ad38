"""The input a policy sees: a document's plain data plus `input.__prr__`, the context prr-lint knows.

    input.__prr__ = {
      "file", "kind", "index", "address", "service", "tier", "owner",
      "workloads": [...]   the document's own workload (k8s documents), else []
      "graph": {...}       service documents: the joined service graph, {"workloads", "values", "terraform",
                           "alerts", "slos"}, each item with the `file` it comes from
      "terraform": [...]   terraform documents: every resource of the same module (any file of it)
    }

A workload is normalized so a policy about containers need not know controller kinds:

    {"file", "kind", "name", "namespace", "labels", "annotations", "replicas", "pod_labels", "pod_annotations",
     "path": [... to the pod spec ...], "pod": {pod spec}, "containers": [{...container, "init": bool, "path": [...]}]}

Paths are lists of keys and indices into the workload's own document (`file`), ready to be returned as a
result's `path`.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from ..checks.k8s import POD_SPEC
from ..model import Document

CONTEXT_KEY = "__prr__"


def _plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def workload(doc: Document) -> dict | None:
    data = doc.data if isinstance(doc.data, dict) else None
    if data is None or doc.kind != "k8s":
        return None
    kind = data.get("kind")
    path = POD_SPEC.get(kind) if isinstance(kind, str) else None
    if path is None:
        return None
    pod = doc.get(path)
    if not isinstance(pod, dict):
        return None
    template_meta = _dict(doc.get(path[:-1] + ("metadata",))) if kind != "Pod" else _dict(data.get("metadata"))
    md = _dict(data.get("metadata"))
    containers = []
    for key in ("initContainers", "containers"):
        items = pod.get(key)
        if isinstance(items, list):
            for i, c in enumerate(items):
                if isinstance(c, dict):
                    item = dict(c)
                    item["init"] = key == "initContainers"
                    item["path"] = list(path + (key, i))
                    containers.append(item)
    replicas = doc.get(("spec", "replicas"))
    return {
        "file": doc.file, "kind": kind, "name": md.get("name"), "namespace": md.get("namespace"),
        "labels": _dict(md.get("labels")), "annotations": _dict(md.get("annotations")),
        "replicas": replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None,
        "pod_labels": _dict(template_meta.get("labels")), "pod_annotations": _dict(template_meta.get("annotations")),
        "path": list(path), "pod": pod, "containers": containers,
    }


def terraform_resources(doc: Document) -> list:
    out: list[dict[str, Any]] = []
    resources = doc.get(("resource",))
    if doc.kind != "terraform" or not isinstance(resources, dict):
        return out
    for rtype, items in resources.items():
        if isinstance(items, dict):
            for name, body in items.items():
                out.append({"file": doc.file, "type": rtype, "name": name, "address": f"{rtype}.{name}",
                            "values": body if isinstance(body, dict) else {}, "path": ["resource", rtype, name]})
    return out


def alerts(doc: Document) -> list:
    out: list[dict[str, Any]] = []
    groups_path = tuple(doc.meta.get("groups_path", ("groups",)))
    groups = doc.get(groups_path)
    if doc.kind != "prometheus-rules" or not isinstance(groups, list):
        return out
    for gi, group in enumerate(groups):
        rules = group.get("rules") if isinstance(group, dict) else None
        if not isinstance(rules, list):
            continue
        for ri, r in enumerate(rules):
            if isinstance(r, dict) and "alert" in r:
                out.append({"file": doc.file, "group": group.get("name"), "alert": r.get("alert"),
                            "expr": r.get("expr"), "for": r.get("for"), "labels": _dict(r.get("labels")),
                            "annotations": _dict(r.get("annotations")),
                            "path": list(groups_path + (gi, "rules", ri))})
    return out


def service_view(service) -> dict:
    """The joined graph of one service, as plain data (computed once per service per run)."""
    docs = service.docs
    slos = []
    for s in service.slos():
        slos.append({"name": s.name, "objective": s.objective, "window": s.window, "sli": s.sli,
                     "file": s.doc.file, "path": list(s.path)})
    return {
        "workloads": [w for d in docs if (w := workload(d)) is not None],
        "values": [{"file": d.file, "data": d.data} for d in docs if d.kind == "helm-values"],
        "terraform": [r for d in docs for r in terraform_resources(d)],
        "alerts": [a for d in docs for a in alerts(d)],
        "slos": slos,
    }


class InputBuilder:
    """Builds input JSON per document; caches the per-service views for the run."""

    def __init__(self):
        self._views: dict = {}

    def context(self, doc: Document, ctx) -> dict:
        svc = getattr(ctx, "service", None)
        out = {"file": doc.file, "kind": doc.kind, "index": doc.index, "address": doc.address,
               "service": svc.name if svc else None, "tier": getattr(ctx, "tier", None),
               "owner": svc.get("owner") if svc else None}
        w = workload(doc)
        out["workloads"] = [w] if w else []
        if doc.kind in ("service", "backstage") and svc is not None and svc.manifest is doc:
            key = id(svc)
            view = self._views.get(key)
            if view is None or view[0] is not svc:
                view = (svc, service_view(svc))
                self._views[key] = view
            out["graph"] = view[1]
        elif doc.kind == "terraform":
            module = doc.meta.get("module")
            siblings = [d for d in (svc.docs if svc else [doc])
                        if d.kind == "terraform" and d.meta.get("module") == module]
            if doc not in siblings:
                siblings.append(doc)
            out["terraform"] = [r for d in siblings for r in terraform_resources(d)]
        return out

    def build(self, doc: Document, ctx) -> str | None:
        """JSON text of the input, or None when the document is not an object (nothing to evaluate)."""
        if not isinstance(doc.data, dict):
            return None
        data = dict(doc.data)
        data[CONTEXT_KEY] = self.context(doc, ctx)
        try:
            return json.dumps(data, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            return json.dumps(_plain(data), separators=(",", ":"), default=str)
