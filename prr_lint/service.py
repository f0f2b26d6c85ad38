"""The service graph: join manifests, workloads, values, Terraform, alerts, SLOs and runbooks per service.

A file belongs to a service when the manifest claims it (`spec.deploy`, `spec.alerts`, or a Backstage
Component's `prr-lint/deploy` and `prr-lint/alerts` annotations; the longest claim wins; globs are
gitignore-style), or else when it sits under the manifest's directory (the nearest manifest wins). Everything
else is unowned and checked at `default_tier`. A name is one service: of several manifests with it, one gives
the facts and the others only their claims and directories (PRR004).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks.globs import glob_anchor, is_glob, matches_from_root
from .model import DEPLOYED_BY, Document

# Backstage annotations through which a Component claims its files: comma-separated paths, relative to
# the catalog file or `/`-anchored at the project root, globs allowed
DEPLOY_ANNOTATION = "prr-lint/deploy"
ALERTS_ANNOTATION = "prr-lint/alerts"
RUNBOOKS_ANNOTATION = "prr-lint/runbooks"
# Backstage Component types that run (others, such as library or documentation, are not services);
# `backstage_service_types` in the config replaces this list
BACKSTAGE_SERVICE_TYPES = ("service", "website")

# Where each fact lives in a prr-lint Service manifest and in a Backstage Component.
MANIFEST_PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    "service": {
        "name": ("metadata", "name"), "owner": ("metadata", "owner"), "tier": ("metadata", "tier"),
        "oncall": ("spec", "oncall"), "slos": ("spec", "slos"), "runbooks": ("spec", "runbooks"),
        "alerts": ("spec", "alerts"), "dashboards": ("spec", "dashboards"), "deploy": ("spec", "deploy"),
        "rollback": ("spec", "rollback"), "dr": ("spec", "dr"), "dependencies": ("spec", "dependencies"),
        "capacity": ("spec", "capacity"), "review": ("spec", "review"),
    },
    "backstage": {
        "name": ("metadata", "name"), "owner": ("spec", "owner"),
        "tier": ("metadata", "annotations", "prr-lint/tier"),
        "oncall": ("metadata", "annotations", "pagerduty.com/service-id"),
        "slos": ("spec", "slos"), "runbooks": ("metadata", "links"),
        "alerts": ("metadata", "annotations", ALERTS_ANNOTATION),
        "dashboards": ("metadata", "links"), "deploy": ("metadata", "annotations", DEPLOY_ANNOTATION),
        "rollback": ("metadata", "annotations"), "dr": ("metadata", "annotations"),
        "dependencies": ("spec", "dependsOn"),
        "capacity": ("metadata", "annotations"), "review": ("metadata", "annotations"),
        "critical_dependencies": ("metadata", "annotations", "prr-lint/critical-dependencies"),
    },
}
# A Component's schema has no rollback, DR, capacity or review block: their fields are `prr-lint/*`
# annotations (strings; a dotted key is a field of a nested block, such as capacity's `loadTest`)
BACKSTAGE_BLOCKS: dict[str, dict[str, str]] = {
    "rollback": {"strategy": "prr-lint/rollback-strategy", "automated": "prr-lint/rollback-automated",
                 "maxDuration": "prr-lint/rollback-max-duration", "lastTested": "prr-lint/rollback-tested"},
    "dr": {"rto": "prr-lint/dr-rto", "rpo": "prr-lint/dr-rpo", "backups": "prr-lint/dr-backups",
           "lastTested": "prr-lint/dr-tested"},
    "capacity": {"plan": "prr-lint/capacity-plan", "headroom": "prr-lint/capacity-headroom",
                 "loadTest.lastRun": "prr-lint/load-test-date", "loadTest.report": "prr-lint/load-test-report"},
    "review": {"approver": "prr-lint/review-approver", "date": "prr-lint/review-date",
               "record": "prr-lint/review-record"},
}
# Documents a Component may link instead: a `metadata.links` entry whose title or type holds one of the
# words (an annotation of the same field wins); a procedure has no annotation, only its link
BACKSTAGE_LINKS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "rollback": {"procedure": ("Rollback", ("rollback",))},
    "dr": {"procedure": ("Disaster recovery", ("disaster recovery", "disaster-recovery"))},
    "capacity": {"plan": ("Capacity plan", ("capacity plan", "capacity-plan")),
                 "loadTest.report": ("Load test report", ("load test", "load-test"))},
    "review": {"record": ("Readiness review", ("readiness review", "readiness-review"))},
}
DEPLOY_KINDS = ("helm", "kubernetes", "kustomize", "terraform")
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
    kind: str                     # helm, kubernetes, terraform, alerts; deploy for a Backstage annotation
    target: str                   # repository-relative path (or glob)
    path: tuple                   # where in the manifest
    written: str = ""             # the reference as written (one item of a comma-separated annotation)
    doc: Document | None = None   # the manifest that holds it (a duplicate's claims join the first's service)


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
    # later manifests of the same name (PRR004): their claims and directories join this service, nothing else
    duplicates: list = field(default_factory=list)

    @property
    def directories(self) -> list[str]:
        """The directories whose files belong to the service: its manifest's and its duplicates'."""
        return list(dict.fromkeys([self.directory] + [posixpath.dirname(d.file) for d in self.duplicates]))

    @property
    def paths(self) -> dict:
        return MANIFEST_PATHS.get(self.manifest.kind, MANIFEST_PATHS["service"])

    def path(self, fact: str) -> tuple:
        return self.paths[fact]

    def get(self, fact: str, default=None):
        if self.manifest.kind == "backstage" and fact in BACKSTAGE_BLOCKS:
            block = self._backstage_block(fact)
            return block if block else default
        return self.manifest.get(self.paths[fact], default)

    # -- per-source wording: where a field of a fact is, and what a message calls it ---------------
    def at(self, fact: str, key: str) -> tuple:
        """Where one field of a block fact (rollback, dr, capacity, review) is, or belongs, in the manifest;
        `key` may be dotted (`loadTest.lastRun`)."""
        if self.manifest.kind == "backstage" and fact in BACKSTAGE_BLOCKS:
            annotation = BACKSTAGE_BLOCKS[fact].get(key)
            if annotation and self._annotation(annotation) is not None:
                return ("metadata", "annotations", annotation)
            if key in BACKSTAGE_LINKS[fact]:
                found = self._link(fact, key)
                if found:
                    return found[1]
                if not annotation:
                    return ("metadata", "links")
            return ("metadata", "annotations", annotation) if annotation else ("metadata", "annotations")
        return self.path(fact) + tuple(key.split("."))

    def field(self, fact: str, key: str) -> str:
        """A field of a block fact named the way its source writes it: `spec.rollback.automated` in a
        prr-lint manifest, `the annotation prr-lint/rollback-automated` or a titled link in a Component."""
        if self.manifest.kind == "backstage" and fact in BACKSTAGE_BLOCKS:
            annotation = BACKSTAGE_BLOCKS[fact].get(key)
            named = f"the annotation {annotation}" if annotation else f"the prr-lint/{fact}-* annotations"
            if key not in BACKSTAGE_LINKS[fact]:
                return named
            title = BACKSTAGE_LINKS[fact][key][0]
            if annotation and self._annotation(annotation) is not None:
                return named
            if annotation and self._link(fact, key) is None:
                return f'{named} (or a metadata.links entry titled "{title}")'
            return f'a metadata.links entry titled "{title}"'
        return ".".join(map(str, self.at(fact, key)))

    def _annotation(self, name: str):
        """An annotation's value when it holds one (a scalar, not blank), else None."""
        annotations = self.manifest.get(("metadata", "annotations"))
        value = annotations.get(name) if isinstance(annotations, dict) else None
        if isinstance(value, str):
            value = value.strip()
        return None if value in (None, "") or isinstance(value, (dict, list)) else value

    def _link(self, fact: str, key: str) -> tuple[str, tuple] | None:
        words = BACKSTAGE_LINKS[fact][key][1]
        links = self.manifest.get(("metadata", "links"))
        for i, item in enumerate(links if isinstance(links, list) else []):
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                title = f"{item.get('title', '')} {item.get('type', '')}".lower()
                if any(w in title for w in words):
                    return item["url"], ("metadata", "links", i, "url")
        return None

    def _backstage_block(self, fact: str) -> dict:
        """A Component's block (rollback, dr, capacity, review) in the manifest's shape, from its
        annotations and links."""
        block: dict[str, Any] = {}
        keys = dict.fromkeys([*BACKSTAGE_BLOCKS[fact], *BACKSTAGE_LINKS.get(fact, {})])
        for key in keys:
            annotation = BACKSTAGE_BLOCKS[fact].get(key)
            value = self._annotation(annotation) if annotation else None
            if isinstance(value, str) and key in ("automated", "backups"):   # an unquoted `true` is read as meant
                value = {"true": True, "false": False}.get(value.lower(), value)
            if value is None and key in BACKSTAGE_LINKS.get(fact, {}):
                found = self._link(fact, key)
                value = found[0] if found else None
            if value is not None:
                *outer, last = key.split(".")
                inner = block
                for part in outer:
                    inner = inner.setdefault(part, {})
                inner[last] = value
        return block

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
        if self.manifest.kind == "backstage" and fact == "runbooks":
            where = ("metadata", "annotations", RUNBOOKS_ANNOTATION)
            out.extend((ref, where) for ref in annotation_list(self.manifest.get(where)))
        if isinstance(value, str):
            return [(value, base)] if self.manifest.kind != "backstage" else out
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
    plain = ref.rstrip("/")
    # most references name a path below the manifest's directory with no `.`, `..` or empty part: normpath would
    # return the join as it is (every service's claims are resolved on every run). A name starting with a dot
    # takes normpath's way too.
    if plain and plain[0] not in "./" and "/." not in plain and "//" not in plain:
        if not base_dir:
            return plain
        if base_dir[0] != "." and "/." not in base_dir and "//" not in base_dir and base_dir[-1] != "/":
            return f"{base_dir}/{plain}"
    joined = posixpath.join(anchor, ref.lstrip("/")) if ref.startswith("/") else posixpath.join(base_dir, ref)
    norm = posixpath.normpath(joined) if joined else "."
    return "" if norm == "." else norm


def annotation_list(value) -> list[str]:
    """The paths of a comma-separated Backstage annotation (annotations are strings; a YAML list is read too)."""
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def _claims(manifest: Document, paths: dict, directory: str, anchor: str) -> list:
    if manifest.kind == "backstage":
        return [Claim(kind, resolve_path(directory, ref, anchor), paths[fact], ref, manifest)
                for fact, kind in (("deploy", "deploy"), ("alerts", "alerts"))
                for ref in annotation_list(manifest.get(paths[fact]))]
    out = []
    deploy = manifest.get(paths["deploy"])
    if isinstance(deploy, dict):
        for kind in DEPLOY_KINDS:
            value = deploy.get(kind)
            items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            for i, item in enumerate(items):
                if isinstance(item, str):
                    p = paths["deploy"] + (kind,) + ((i,) if isinstance(value, list) else ())
                    out.append(Claim(kind, resolve_path(directory, item, anchor), p, item, manifest))
    alerts = manifest.get(paths["alerts"])
    items = [alerts] if isinstance(alerts, str) else alerts if isinstance(alerts, list) else []
    for i, item in enumerate(items):
        if isinstance(item, str):
            p = paths["alerts"] + ((i,) if isinstance(alerts, list) else ())
            out.append(Claim("alerts", resolve_path(directory, item, anchor), p, item, manifest))
    return out


def _covers(target: str, rel: str) -> bool:
    if is_glob(target):
        return matches_from_root(target, rel)
    return target in ("", ".") or rel == target or rel.startswith(target.rstrip("/") + "/")


def _tier(value, default_tier: int) -> tuple[int, bool]:
    if isinstance(value, str) and value.strip() in ("0", "1", "2", "3"):  # not isdigit(): "²" is a digit
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3:
        return value, True
    return default_tier, False


def _manifest_order(doc: Document) -> tuple:
    """Which manifest of a name is the service: a prr-lint manifest before a Backstage Component (it
    holds every fact), then the first in path order (file, then document in the file)."""
    return (doc.kind != "service", doc.file, doc.index)


def is_backstage_service(doc: Document, service_types: Sequence[str]) -> bool:
    """A Backstage Component that runs: its `spec.type` is one of `service_types` (any case)."""
    kind_type = doc.get(("spec", "type"))
    return doc.get(("kind",)) == "Component" and isinstance(kind_type, str) \
        and kind_type.strip().lower() in {t.lower() for t in service_types}


class ServiceGraph:
    def __init__(self, services: list, default_tier: int, anchor: str = ""):
        self.services = services
        self.anchor = anchor
        self.by_name: dict = {svc.name: svc for svc in reversed(services)}
        self.default_tier = default_tier
        # owner lookup walks a file's ancestors through these dicts: O(depth), not O(services)
        self._claimed: dict = {}
        # glob claims by where what they match lies (globs.glob_anchor: a directory, and the start of the name that
        # follows), each with its rank (the first claim that matches wins): a file tries only the globs that could
        # match it, not every glob of every service (4,000 services claiming deploy/<name>-*.yaml)
        self._globs: dict[str, dict[str, list[tuple[int, str, Service]]]] = {}
        rank = 0
        for svc in services:
            for claim in svc.claims:
                if is_glob(claim.target):
                    directory, start = glob_anchor(claim.target)
                    self._globs.setdefault(directory, {}).setdefault(start, []).append((rank, claim.target, svc))
                    rank += 1
                else:
                    self._claimed.setdefault(claim.target.rstrip("/"), svc)
        # directory -> the lengths of its globs' starts
        self._glob_starts = {d: sorted({len(start) for start in starts}) for d, starts in self._globs.items()}
        self._dirs: dict[str, Service] = {}
        for svc in services:
            for directory in svc.directories:
                self._dirs.setdefault(directory, svc)

    @classmethod
    def build(cls, manifests: list, slo_docs: list, default_tier: int, anchor: str = "",
              service_types: Sequence[str] = BACKSTAGE_SERVICE_TYPES) -> ServiceGraph:
        """One service per name. Of several manifests with a name (PRR004) the first in `_manifest_order`
        gives every fact (owner, tier, on-call, SLOs, ...); the others add only their claims and their
        directory, so all their files are checked at that one service's tier. SLO documents join by name."""
        services = []
        named: dict[str, Service] = {}
        for doc in sorted(manifests, key=_manifest_order):
            if doc.kind == "backstage" and not is_backstage_service(doc, service_types):
                continue
            paths = MANIFEST_PATHS[doc.kind]
            name = doc.get(paths["name"])
            if not isinstance(name, str) or not name:
                continue
            directory = posixpath.dirname(doc.file)
            claims = _claims(doc, paths, directory, anchor)
            doc.service = name
            first = named.get(name)
            if first is not None:
                first.duplicates.append(doc)
                first.claims.extend(claims)
                continue
            tier, declared = _tier(doc.get(paths["tier"]), default_tier)
            svc = Service(name, doc, tier, declared, directory, claims)
            named[name] = svc
            services.append(svc)
        graph = cls(services, default_tier, anchor)
        for doc in slo_docs:
            owner = graph.slo_owner(doc)
            if owner is not None:
                owner.slo_docs.append(doc)
                doc.service = owner.name
        return graph

    def duplicate_of(self, doc: Document) -> Service | None:
        """The service whose name a later manifest declares again (PRR004), else None."""
        svc = self.by_name.get(doc.service or "")
        return svc if svc is not None and any(d is doc for d in svc.duplicates) else None

    def slo_owner(self, doc: Document) -> Service | None:
        """The service an OpenSLO/Sloth document names, when that service is of the same project (under
        the project root, when .prr-lint.yaml is not at the repository root)."""
        name = slo_service_name(doc)
        if not name or (self.anchor and not _covers(self.anchor, doc.file)):
            return None
        svc = self.by_name.get(name)
        if svc is None or (self.anchor and not _covers(self.anchor, svc.manifest.file)):
            return None
        return svc

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
        if self._globs:
            found = self._glob_owner(rel, ancestors[1:])
            if found is not None:
                return found
        for candidate in ancestors[1:]:
            if candidate in self._dirs:
                return self._dirs[candidate]
        return None

    def _glob_owner(self, rel: str, directories: list[str]) -> Service | None:
        """The service of the first-ranked glob claim that matches `rel`, among those anchored in its directories."""
        best: tuple[int, Service] | None = None
        for directory in directories:
            starts = self._globs.get(directory)
            if starts is None:
                continue
            name = (rel[len(directory) + 1:] if directory else rel).split("/", 1)[0]
            for length in self._glob_starts[directory]:
                for n, target, svc in starts.get(name[:length], ()) if len(name) >= length else ():
                    if best is not None and n > best[0]:
                        break           # in rank order: the rest of these rank lower still
                    if matches_from_root(target, rel):
                        best = (n, svc)
                        break
        return best[1] if best is not None else None

    def attach(self, docs: list) -> None:
        """Set `doc.service` for object documents and add them to their service."""
        for doc in docs:
            if doc.kind in ("service", "backstage"):
                continue
            if doc.kind in ("openslo", "sloth") and doc.service:
                continue
            # a built object belongs to whoever deploys what built it (a Kustomize overlay), not its base's owner
            svc = self.owner_of(doc.meta.get(DEPLOYED_BY) or doc.file)
            if svc is not None:
                doc.service = svc.name
                svc.docs.append(doc)
