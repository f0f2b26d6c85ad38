"""Kubernetes workloads: where the pod template is, and every container in it."""

from __future__ import annotations

from typing import Iterator

from ..model import Document

POD_SPEC = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),          # Argo Rollouts
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout")
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet", "Rollout")


def kind(doc: Document) -> str | None:
    value = doc.get(("kind",))
    return value if isinstance(value, str) else None


def name(doc: Document) -> str:
    value = doc.get(("metadata", "name"))
    return value if isinstance(value, str) else "(unnamed)"


def label(doc: Document) -> str:
    return f"{kind(doc)} {name(doc)}"


def pod_spec_path(doc: Document) -> tuple | None:
    if doc.kind != "k8s":
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
