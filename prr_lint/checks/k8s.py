"""Kubernetes workloads: where the pod template is, and every container in it."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator

from ..model import Document, Path

POD_SPEC = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),   # the core/v1 ancestor of ReplicaSet
    "Rollout": ("spec", "template", "spec"),          # Argo Rollouts
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Rollout")
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout")
HELM_HOOK = "helm.sh/hook"


def kind(doc: Document) -> str | None:
    value = doc.get(("kind",))
    return value if isinstance(value, str) else None


def name(doc: Document) -> str:
    value = doc.get(("metadata", "name"))
    return value if isinstance(value, str) else "(unnamed)"


def label(doc: Document) -> str:
    return f"{kind(doc)} {name(doc)}"


def helm_test_hook(doc: Document) -> bool:
    """A pod `helm test` runs (`helm.sh/hook: test`, or Helm 2's test-success/test-failure): it checks a
    release once and exits; it serves nothing in production."""
    hooks = doc.get(("metadata", "annotations", HELM_HOOK))
    if not isinstance(hooks, str):
        return False
    return any(h.strip() in ("test", "test-success", "test-failure") for h in hooks.split(","))


def pod_spec_path(doc: Document) -> tuple | None:
    """Where the pod template's spec is; None for what is not a workload (a Helm test hook is not)."""
    if doc.kind != "k8s" or helm_test_hook(doc):
        return None
    path = POD_SPEC.get(kind(doc) or "")
    if path is None or not isinstance(doc.get(path), dict):
        return None
    return path


def containers(doc: Document, init: bool = True) -> Iterator[tuple[tuple, dict]]:
    """(path, container) for every container (and init container) of a workload's pod template."""
    spec_path = pod_spec_path(doc)
    if spec_path is None:
        return
    for key in ("initContainers", "containers") if init else ("containers",):
        items = doc.get(spec_path + (key,))
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, dict):
                    yield spec_path + (key, i), item


def container_label(container: dict, path: tuple) -> str:
    what = "init container" if "initContainers" in path else "container"
    return f'{what} "{container.get("name", "?")}"'


# -- workloads and their neighbours ------------------------------------------------------------

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "Rollout")
# tags that name a moving target: an image pulled by one of these is not the image that ran yesterday
MUTABLE_TAGS = ("latest",)


def is_workload(doc: Document, kinds=WORKLOADS) -> bool:
    return doc.kind == "k8s" and kind(doc) in kinds and pod_spec_path(doc) is not None


def namespace(doc: Document) -> str | None:
    value = doc.get(("metadata", "namespace"))
    return value if isinstance(value, str) and value else None


def same_namespace(a: Document, b: Document) -> bool:
    """Equal namespaces; a missing one is set when applied (kubectl -n, kustomize, Helm), so it matches any."""
    na, nb = namespace(a), namespace(b)
    return na is None or nb is None or na == nb


# ASCII digits only, and few of them: str.isdigit() accepts "²" and "٣", and int() refuses strings of
# more than 4300 digits; Kubernetes reads neither as a count
_COUNT = re.compile(r"[0-9]{1,18}")
_PERCENT = re.compile(r"([0-9]{1,18}(?:\.[0-9]{1,18})?)%")


def int_value(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _COUNT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def percent(value) -> float | None:
    """50 for "50%"; None for anything that is not a percentage."""
    m = _PERCENT.fullmatch(value.strip()) if isinstance(value, str) else None
    return float(m.group(1)) if m else None


def template_labels(doc: Document) -> dict:
    spec_path = pod_spec_path(doc)
    if spec_path is None:
        return {}
    labels = doc.get(spec_path[:-1] + ("metadata", "labels"))
    return labels if isinstance(labels, dict) else {}


def selector_matches(selector, labels: dict) -> bool:
    """A label selector (matchLabels + matchExpressions) against a set of labels; an empty selector
    matches nothing here (a PDB with an empty selector is not aimed at a workload)."""
    if not isinstance(selector, dict):
        return False
    match = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not isinstance(match, dict) or not isinstance(exprs, list) or (not match and not exprs):
        return False
    if any(str(labels.get(k)) != str(v) or k not in labels for k, v in match.items()):
        return False
    for expr in exprs:
        if not isinstance(expr, dict):
            return False
        key, op = expr.get("key"), expr.get("operator")
        values = [str(v) for v in expr.get("values") or []] if isinstance(expr.get("values"), list) else []
        present = isinstance(key, str) and key in labels  # a list as key would be unhashable
        if op == "In" and not (present and str(labels[key]) in values):
            return False
        if op == "NotIn" and present and str(labels[key]) in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


class Neighbours(list):
    """The documents a workload is judged with, in order, with indexes of the autoscalers by target and
    of the disruption budgets by label, built on first use: a file of 4,000 Deployments and their HPAs
    and PDBs is matched in linear time, not by scanning every document for every workload."""

    _scalers: dict | None = None
    _budgets: tuple | None = None

    def scalers(self) -> dict:
        """{(target kind, target name): [HPA or ScaledObject, ...]} in list order."""
        if self._scalers is None:
            self._scalers = {}
            for other in self:
                okind = kind(other)
                if okind not in ("HorizontalPodAutoscaler", "ScaledObject"):
                    continue
                ref = other.get(("spec", "scaleTargetRef"))
                if not isinstance(ref, dict):
                    continue
                target = ref.get("kind", "Deployment") if okind == "ScaledObject" else ref.get("kind")
                if isinstance(target, str) and isinstance(ref.get("name"), str):
                    self._scalers.setdefault((target, ref["name"]), []).append(other)
        return self._scalers

    def budgets(self) -> tuple[dict, list]:
        """({(label, value): [(position, PDB)]} keyed by one of each PDB's matchLabels, [(position, PDB)]
        of those with no matchLabels): a PDB can only select pods that carry every one of its matchLabels."""
        if self._budgets is None:
            by_label: dict = {}
            others: list = []
            for pos, other in enumerate(self):
                if kind(other) != "PodDisruptionBudget":
                    continue
                selector = other.get(("spec", "selector"))
                match = selector.get("matchLabels") if isinstance(selector, dict) else None
                if isinstance(match, dict) and match:
                    key, value = next(iter(match.items()))
                    by_label.setdefault((key, str(value)), []).append((pos, other))
                else:
                    others.append((pos, other))
            self._budgets = (by_label, others)
        return self._budgets


def neighbours(doc: Document, ctx) -> list:
    """The Kubernetes documents a workload is judged with (HPAs, PDBs): those of its service, or for an
    unowned workload those of the same directory and its direct subdirectories (e.g. `hpa/`).
    Indexed once per run (and per directory) in ctx.repo.memo."""
    here = posixpath.dirname(doc.file)
    memo = ctx.repo.memo.setdefault("k8s-neighbours", {}) if ctx.repo is not None else {}
    key = (id(ctx.service), here)
    if key not in memo:
        if ctx.service is not None:
            docs = ctx.service.docs_of("k8s")
        else:
            docs = _directory_docs(ctx.repo, here)
        # the same directory first: an overlay per environment may repeat the same names
        ordered = Neighbours(sorted(docs, key=lambda d: (posixpath.dirname(d.file) != here, d.file, d.index)))
        memo[key] = (ctx.service, ordered)  # the service is kept alive, so its id is never reused
    return memo[key][1]


def _directory_docs(repo, directory: str) -> list:
    if repo is None:
        return []
    memo = repo.memo.setdefault("k8s-dir-docs", {})
    if directory not in memo:
        index = repo.memo.get("k8s-dir-files")
        if index is None:
            index = {}
            for rel, how in repo.candidates.items():
                if how == "yaml":
                    parent = posixpath.dirname(rel)
                    index.setdefault(parent, []).append(rel)
                    if parent:
                        index.setdefault(("children", posixpath.dirname(parent)), set()).add(parent)
            repo.memo["k8s-dir-files"] = index
        files = [rel for d in [directory] + sorted(index.get(("children", directory), ())) for rel in
                 sorted(index.get(d, ()))]
        memo[directory] = [d for rel in files for d in repo.load(rel).docs if d.kind == "k8s" and d.service is None]
    return memo[directory]


def autoscaler(doc: Document, docs: Iterable[Document]) -> tuple[Document, Path, int | None] | None:
    """(document, path, minimum) of an HPA (or KEDA ScaledObject) scaling this workload."""
    wkind, wname = kind(doc), doc.get(("metadata", "name"))
    if isinstance(docs, Neighbours):
        docs = docs.scalers().get((wkind, wname), ()) if isinstance(wname, str) else ()
    for other in docs:
        okind = kind(other)
        if okind == "HorizontalPodAutoscaler":
            ref = other.get(("spec", "scaleTargetRef"))
            if isinstance(ref, dict) and ref.get("kind") == wkind and ref.get("name") == wname \
                    and same_namespace(doc, other):
                n = int_value(other.get(("spec", "minReplicas"))) if other.has(("spec", "minReplicas")) else 1
                return other, ("spec", "minReplicas"), n
        elif okind == "ScaledObject" and str(other.get(("apiVersion",), "")).startswith("keda.sh/"):
            ref = other.get(("spec", "scaleTargetRef"))
            if isinstance(ref, dict) and ref.get("kind", "Deployment") == wkind and ref.get("name") == wname \
                    and same_namespace(doc, other):
                n = int_value(other.get(("spec", "minReplicaCount"))) if other.has(("spec", "minReplicaCount")) else 0
                return other, ("spec", "minReplicaCount"), n
    return None


def replicas(doc: Document, docs: list) -> tuple[Document, tuple, int | None]:
    """Where the lower bound of a workload's replica count is set, and its value (None: not known).
    An autoscaler targeting the workload wins; a missing `spec.replicas` means 1."""
    scaler = autoscaler(doc, docs)
    if scaler is not None:
        return scaler
    if not doc.has(("spec", "replicas")):
        return doc, ("spec", "replicas"), 1
    return doc, ("spec", "replicas"), int_value(doc.get(("spec", "replicas")))


def disruption_budgets(doc: Document, docs: list) -> list:
    labels = template_labels(doc)
    if isinstance(docs, Neighbours):
        by_label, others = docs.budgets()
        found = dict(others)
        for key, value in labels.items():
            found.update(by_label.get((key, str(value)), ()))
        docs = [found[pos] for pos in sorted(found)]
    return [d for d in docs if kind(d) == "PodDisruptionBudget" and same_namespace(doc, d)
            and selector_matches(d.get(("spec", "selector")), labels)]


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; tag and digest are None when absent."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    return image, tag, digest


def templated(value: str) -> bool:
    return "{{" in value or "${" in value or "$(" in value


def missing_probe(doc: Document, probe: str, what: str, advice: str):
    """Hits for every container of a long-running workload without `probe` (init containers need none)."""
    from ..model import Hit

    if not is_workload(doc, LONG_RUNNING):
        return
    for path, container in containers(doc, init=False):
        if not isinstance(container.get(probe), dict):
            yield Hit(doc, path + (probe,), f"{label(doc)}: {container_label(container, path)} has no {what}; {advice}")
