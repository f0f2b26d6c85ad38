"""The service graph: join manifests, workloads, values, Terraform, alerts, SLOs and runbooks per service.

A file belongs to a service when the manifest claims it (`spec.deploy`, `spec.alerts`; the longest claim
wins), or else when it sits under the manifest's directory (the nearest manifest wins). Everything else
is unowned and checked at `default_tier`.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from typing import Any

from .model import Document

# Where each fact lives in a prr-lint Service manifest and in a Backstage Component.
MANIFEST_PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    "service": {
        "name": ("metadata", "name"), "owner": ("metadata", "owner"), "tier": ("metadata", "tier"),
        "oncall": ("spec", "oncall"), "slos": ("spec", "slos"), "runbooks": ("spec", "runbooks"),
        "alerts": ("spec", "alerts"), "dashboards": ("spec", "dashboards"), "deploy": ("spec", "deploy"),
        "rollback": ("spec", "rollback"), "dr": ("spec", "dr"), "dependencies": ("spec", "dependencies"),
    },
    "backstage": {
        "name": ("metadata", "name"), "owner": ("spec", "owner"),
        "tier": ("metadata", "annotations", "prr-lint/tier"),
        "oncall": ("metadata", "annotations", "pagerduty.com/service-id"),
        "slos": ("spec", "slos"), "runbooks": ("metadata", "links"),
        "alerts": ("metadata", "annotations", "prr-lint/alerts"),
        "dashboards": ("metadata", "links"), "deploy": ("metadata", "annotations", "prr-lint/deploy"),
        "rollback": ("spec", "rollback"), "dr": ("spec", "dr"), "dependencies": ("spec", "dependsOn"),
    },
}
DEPLOY_KINDS = ("helm", "kubernetes", "terraform")
SLI_QUERY_KEYS = ("good", "bad", "error", "total", "error_ratio", "metric")
# Backstage annotations of an incident-management service: each carries a rotation and its escalation policy
ONCALL_ANNOTATIONS = ("pagerduty.com/service-id", "pagerduty.com/integration-key", "opsgenie.com/team",
                      "opsgenie.com/component-selector", "prr-lint/oncall")


@dataclass
class SLO:
    """One SLO, wherever it was declared: the manifest, an OpenSLO document or a Sloth spec."""

    name: str
    objective: float | None       # percent
    window: str | None
    sli: dict | None              # {"good": promql, "total": promql} or {"error": ..., "total": ...}
    doc: Document
    path: tuple
    paths: dict = field(default_factory=dict)   # fact (objective, window, sli) -> path in doc, where declared
    window_default: bool = False  # the window is the format's default (Sloth), not declared

    def at(self, fact: str) -> tuple:
        """Where a fact of the SLO is (or belongs): a finding about it points there."""
        return self.paths.get(fact, self.path)

    @property
    def queries(self) -> dict:
        """The SLI's PromQL queries by role (good, bad, error, total, error_ratio)."""
        if not isinstance(self.sli, dict):
            return {}
        return {k: v for k, v in self.sli.items()
                if k in SLI_QUERY_KEYS and isinstance(v, str) and v.strip()}


@dataclass
class Claim:
    kind: str                     # helm, kubernetes, terraform, alerts
    target: str                   # repository-relative path (or glob)
    path: tuple                   # where in the manifest


@dataclass
class Service:
    name: str
    manifest: Document
    tier: int                     # effective tier (default_tier when missing or invalid)
    tier_declared: bool
    directory: str
    claims: list = field(default_factory=list)
    docs: list = field(default_factory=list)        # every document that belongs to the service
    slo_docs: list = field(default_factory=list)    # OpenSLO / Sloth documents joined by name

    @property
    def paths(self) -> dict:
        return MANIFEST_PATHS.get(self.manifest.kind, MANIFEST_PATHS["service"])

    def path(self, fact: str) -> tuple:
        return self.paths[fact]

    def get(self, fact: str, default=None):
        return self.manifest.get(self.paths[fact], default)

    def docs_of(self, *kinds: str) -> list:
        return [d for d in self.docs if d.kind in kinds]

    @property
    def label(self) -> str:
        return f"{self.name} (tier {self.tier})"

    def links(self, fact: str, *words: str) -> list:
        """(reference, manifest path) for runbooks or dashboards, from a list or Backstage links."""
        value = self.get(fact)
        base = self.path(fact)
        out: list[tuple[str, tuple]] = []
        if isinstance(value, str):
            return [(value, base)] if self.manifest.kind != "backstage" else []
        if not isinstance(value, list):
            return out
        for i, item in enumerate(value):
            if isinstance(item, str) and self.manifest.kind != "backstage":
                out.append((item, base + (i,)))
            elif isinstance(item, dict) and isinstance(item.get("url"), str):
                title = f"{item.get('title', '')} {item.get('type', '')}".lower()
                if self.manifest.kind != "backstage" or any(w in title for w in words):
                    out.append((item["url"], base + (i, "url")))
        return out

    def slos(self) -> list:
        """Every SLO of the service: the manifest's, then those of OpenSLO/Sloth documents joined by name."""
        out = []
        items = self.get("slos")
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, dict):
                    base = self.path("slos") + (i,)
                    out.append(SLO(str(item.get("name", f"slo-{i}")), _num(item.get("objective")), item.get("window"),
                                   item.get("sli") if isinstance(item.get("sli"), dict) else None,
                                   self.manifest, base,
                                   {f: base + (f,) for f in ("objective", "window", "sli")}))
        for doc in self.slo_docs:
            out.extend(external_slos(doc))
        return out

    def oncall(self) -> dict:
        """{"rotation": (value, path) | None, "escalation": (value, path) | None}.

        A prr-lint manifest names both under `spec.oncall`; in a Backstage Component a PagerDuty or
        Opsgenie annotation names a service whose escalation policy comes with it, so it counts for both.
        """
        if self.manifest.kind == "backstage":
            base = ("metadata", "annotations")
            annotations = self.manifest.get(base)
            for key in ONCALL_ANNOTATIONS:
                value = annotations.get(key) if isinstance(annotations, dict) else None
                if isinstance(value, str) and value.strip():
                    return {"rotation": (value, base + (key,)), "escalation": (value, base + (key,))}
            return {"rotation": None, "escalation": None}
        base = self.path("oncall")
        value = self.get("oncall")
        out: dict[str, tuple[Any, tuple] | None] = {"rotation": None, "escalation": None}
        if isinstance(value, dict):
            for key in out:
                item = value.get(key)
                if isinstance(item, list):
                    item = [x for x in item if isinstance(x, str) and x.strip()] or None
                if item if not isinstance(item, str) else item.strip():
                    out[key] = (item, base + (key,))
        elif isinstance(value, str) and value.strip():
            out["rotation"] = (value, base)
        return out


def _num(value):
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


_ALPHA_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w", "month": "30d",
                "quarter": "90d", "year": "y"}


def _alpha_window(item: dict) -> str | None:
    count, unit = item.get("count"), item.get("unit")
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(unit, str):
        return None
    suffix = _ALPHA_UNITS.get(unit.lower())
    if suffix is None:
        return None
    if suffix[:-1].isdigit():                      # month, quarter: in days
        return f"{count * int(suffix[:-1])}d"
    return f"{count}{suffix}"


def external_slos(doc: Document) -> list:
    """SLOs of an OpenSLO `SLO` document or a Sloth spec, in the manifest's shape."""
    read = _EXTERNAL_SLOS.get(doc.kind)
    return read(doc) if read else []


def _openslo_slos(doc: Document) -> list:
    """An OpenSLO `SLO` (v1, and v1alpha's timeWindows and ratioMetrics): one SLO, from its first objective."""
    spec = doc.get(("spec",))
    if doc.get(("kind",)) != "SLO" or not isinstance(spec, dict):
        return []
    paths: dict = {}    # where each field was found (or would be): findings about it point there
    objectives = spec.get("objectives")
    first = objectives[0] if isinstance(objectives, list) and objectives and isinstance(objectives[0], dict) else {}
    target = _openslo_objective(first, paths)
    window = _openslo_window(spec, paths)
    sli = _openslo_sli(spec, first, paths)
    return [SLO(str(doc.get(("metadata", "name"), "slo")), target, window, sli or None, doc, ("spec",), paths)]


def _openslo_objective(first: dict, paths: dict):
    """The objective in percent: `targetPercent`, or `target` as a ratio."""
    target = _num(first.get("targetPercent"))
    if target is not None:
        paths["objective"] = ("spec", "objectives", 0, "targetPercent")
    elif _num(first.get("target")) is not None:
        target = round(_num(first["target"]) * 100, 9)
        paths["objective"] = ("spec", "objectives", 0, "target")
    else:
        paths["objective"] = ("spec", "objectives", 0) if first else ("spec", "objectives")
    return target


def _openslo_window(spec: dict, paths: dict):
    windows = spec.get("timeWindow")
    window = None
    if isinstance(windows, list) and windows and isinstance(windows[0], dict):
        window = windows[0].get("duration")
        paths["window"] = ("spec", "timeWindow", 0, "duration")
    else:
        paths["window"] = ("spec", "timeWindow") if "timeWindow" in spec else ("spec",)
    if not window and isinstance(spec.get("timeWindows"), list) and spec["timeWindows"] \
            and isinstance(spec["timeWindows"][0], dict):   # openslo/v1alpha: {count: 30, unit: Day}
        window = _alpha_window(spec["timeWindows"][0])
        paths["window"] = ("spec", "timeWindows", 0)
    return window


def _openslo_query(source) -> str | None:
    src = _dict(_dict(source).get("metricSource"))
    q = _dict(src.get("spec")).get("query")
    return q if isinstance(q, str) else None


def _openslo_sli(spec: dict, first: dict, paths: dict) -> dict | None:
    """The indicator's queries: ratio (good/bad/total/raw), threshold, a reference, or v1alpha's ratioMetrics."""
    sli = None
    indicator = _dict(spec.get("indicator"))
    ispec = _dict(indicator.get("spec"))
    if indicator:
        paths["sli"] = ("spec", "indicator")
    ratio = _dict(ispec.get("ratioMetric"))
    alpha = _dict(first.get("ratioMetrics"))        # openslo/v1alpha: ratio queries on the objective
    if not ratio and alpha:
        sli = {k: alpha[k]["query"] for k in ("good", "bad", "total")
               if isinstance(alpha.get(k), dict) and isinstance(alpha[k].get("query"), str)}
        paths["sli"] = ("spec", "objectives", 0, "ratioMetrics")
    threshold = _dict(ispec.get("thresholdMetric"))
    if sli:
        pass
    elif ratio:
        raw = _dict(ratio.get("raw"))
        sli = {k: v for k, v in (("good", _openslo_query(ratio.get("good"))), ("bad", _openslo_query(ratio.get("bad"))),
                                 ("total", _openslo_query(ratio.get("total"))),
                                 ("error_ratio", _openslo_query(raw) if raw else None)) if v}
    elif threshold:
        q = _openslo_query(threshold)
        sli = {"metric": q} if q else None
    elif isinstance(spec.get("indicatorRef"), str):
        sli = {"ref": spec["indicatorRef"]}
        paths["sli"] = ("spec", "indicatorRef")
    else:
        paths.setdefault("sli", ("spec",))
    return sli


def _sloth_slos(doc: Document) -> list:
    """A Sloth spec (prometheus/v1, or a Kubernetes PrometheusServiceLevel): one SLO per item of `slos`."""
    out = []
    slos_path = doc.meta.get("slos_path", ("slos",))
    items = doc.get(slos_path)
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        base = slos_path + (i,)
        sli_block = _dict(item.get("sli"))
        events = _dict(sli_block.get("events"))
        raw = _dict(sli_block.get("raw"))
        plugin = _dict(sli_block.get("plugin"))
        sli = {"error": events.get("errorQuery") or events.get("error_query"),
               "total": events.get("totalQuery") or events.get("total_query"),
               "error_ratio": raw.get("errorRatioQuery") or raw.get("error_ratio_query")}
        sli = {k: v for k, v in sli.items() if isinstance(v, str)}
        if not sli and plugin.get("id"):
            sli = {"plugin": plugin.get("id")}
        # Sloth's window defaults to 30d (spec-level `window` in newer versions)
        window = item.get("window") or doc.get(slos_path[:-1] + ("window",))
        out.append(SLO(str(item.get("name", f"slo-{i}")), _num(item.get("objective")), window or "30d",
                       sli or None, doc, base,
                       {"objective": base + ("objective",), "window": base, "sli": base + ("sli",)},
                       window_default=not window))
    return out


_EXTERNAL_SLOS = {"openslo": _openslo_slos, "sloth": _sloth_slos}


def slo_service_name(doc: Document) -> str | None:
    if doc.kind == "openslo":
        value = doc.get(("spec", "service"))
    else:
        value = doc.get(doc.meta.get("service_path", ("service",)))
    return value if isinstance(value, str) else None


def resolve_path(base_dir: str, ref: str, anchor: str = "") -> str:
    """A manifest path to a repository-relative one: relative to the manifest, or `/`-anchored at the
    project root (`anchor`: the directory of .prr-lint.yaml, else the repository root)."""
    ref = ref.split("#", 1)[0]
    joined = posixpath.join(anchor, ref.lstrip("/")) if ref.startswith("/") else posixpath.join(base_dir, ref)
    norm = posixpath.normpath(joined) if joined else "."
    return "" if norm == "." else norm


def _claims(manifest: Document, paths: dict, directory: str, anchor: str) -> list:
    out = []
    deploy = manifest.get(paths["deploy"])
    if isinstance(deploy, dict):
        for kind in DEPLOY_KINDS:
            value = deploy.get(kind)
            items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            for i, item in enumerate(items):
                if isinstance(item, str):
                    p = paths["deploy"] + (kind,) + ((i,) if isinstance(value, list) else ())
                    out.append(Claim(kind, resolve_path(directory, item, anchor), p))
    alerts = manifest.get(paths["alerts"])
    items = [alerts] if isinstance(alerts, str) else alerts if isinstance(alerts, list) else []
    for i, item in enumerate(items):
        if isinstance(item, str):
            p = paths["alerts"] + ((i,) if isinstance(alerts, list) else ())
            out.append(Claim("alerts", resolve_path(directory, item, anchor), p))
    return out


_GLOB_CHARS = frozenset("*?[")


def _covers(target: str, rel: str) -> bool:
    if any(ch in target for ch in "*?["):
        return fnmatch.fnmatchcase(rel, target) or fnmatch.fnmatchcase(rel, target.rstrip("/") + "/*")
    return target in ("", ".") or rel == target or rel.startswith(target.rstrip("/") + "/")


def _tier(value, default_tier: int) -> tuple[int, bool]:
    if isinstance(value, str) and value.strip() in ("0", "1", "2", "3"):  # not isdigit(): "²" is a digit
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3:
        return value, True
    return default_tier, False


class ServiceGraph:
    def __init__(self, services: list, default_tier: int, anchor: str = ""):
        self.services = services
        self.anchor = anchor
        self.by_name: dict = {}
        # every manifest of a name, in manifest order: SLO ownership is a dict lookup, not a scan of all services
        self._all_named: dict = {}
        for i, svc in enumerate(services):
            self.by_name.setdefault(svc.name, svc)
            self._all_named.setdefault(svc.name, []).append((i, svc))
        self.default_tier = default_tier
        # owner lookup walks a file's ancestors through these dicts: O(depth), not O(services)
        self._claimed: dict = {}
        self._globs: list = []
        for svc in services:
            for claim in svc.claims:
                if not _GLOB_CHARS.isdisjoint(claim.target):
                    self._globs.append((claim.target, svc))
                else:
                    self._claimed.setdefault(claim.target.rstrip("/"), svc)
        self._dirs: dict[str, Service] = {}
        for svc in services:
            self._dirs.setdefault(svc.directory, svc)

    @classmethod
    def build(cls, manifests: list, slo_docs: list, default_tier: int, anchor: str = "") -> ServiceGraph:
        services = []
        seen: dict = {}
        for doc in sorted(manifests, key=lambda d: (d.file, d.index)):
            if doc.kind == "backstage" and doc.get(("kind",)) != "Component":
                continue
            paths = MANIFEST_PATHS[doc.kind]
            name = doc.get(paths["name"])
            if not isinstance(name, str) or not name:
                continue
            if name in seen:
                doc.meta["duplicate_of"] = seen[name]  # a second manifest of the same name: its own service
            seen.setdefault(name, doc.file)
            tier, declared = _tier(doc.get(paths["tier"]), default_tier)
            directory = posixpath.dirname(doc.file)
            svc = Service(name, doc, tier, declared, directory, _claims(doc, paths, directory, anchor))
            doc.service = name
            services.append(svc)
        graph = cls(services, default_tier, anchor)
        for doc in slo_docs:
            owner = graph.slo_owner(doc)
            if owner is not None:
                owner.slo_docs.append(doc)
                doc.service = owner.name
        return graph

    def slo_owner(self, doc: Document) -> Service | None:
        """The service an OpenSLO/Sloth document names. Only services of the same project (under the
        project root, when .prr-lint.yaml is not at the repository root) are candidates, and of several
        manifests with that name the one nearest the SLO file wins."""
        name = slo_service_name(doc)
        if not name or (self.anchor and not _covers(self.anchor, doc.file)):
            return None
        candidates = [(i, s) for i, s in self._all_named.get(name, ())
                      if not self.anchor or _covers(self.anchor, s.manifest.file)]

        def shared(svc: Service) -> int:
            return len(posixpath.commonpath([svc.directory or ".", posixpath.dirname(doc.file) or "."]).split("/"))

        # ties go to the first manifest: its position is carried along, never looked up
        best = max(candidates, key=lambda item: (shared(item[1]), -item[0]), default=None)
        return best[1] if best else None

    def owner_of(self, rel: str) -> Service | None:
        """The service a file belongs to: longest explicit claim, else nearest manifest directory."""
        ancestors = [rel]
        probe = rel
        while probe:
            probe = posixpath.dirname(probe)
            ancestors.append(probe)
        for candidate in ancestors:
            if candidate in self._claimed:
                return self._claimed[candidate]
        for target, svc in self._globs:
            if _covers(target, rel):
                return svc
        for candidate in ancestors[1:]:
            if candidate in self._dirs:
                return self._dirs[candidate]
        return None

    def attach(self, docs: list) -> None:
        """Set `doc.service` for object documents and add them to their service."""
        for doc in docs:
            if doc.kind in ("service", "backstage"):
                continue
            if doc.kind in ("openslo", "sloth") and doc.service:
                continue
            svc = self.owner_of(doc.file)
            if svc is not None:
                doc.service = svc.name
                svc.docs.append(doc)
