"""Helm values: a chart's values.yaml merged with each environment overlay, remembering who set what.

A rule on `helm-values` calls `check_values(doc, ctx, fn)`. For the chart's base values file the base is
checked alone; for an overlay (values-prod.yaml, prod.values.yaml, ...) the base merged with that overlay
is checked, the way `helm install -f values-prod.yaml` sees it. `fn(view, component, ctx)` yields
(path, message) pairs with paths into the merged values; each becomes a Hit on the document that set the
value (the deepest existing part of the path), so a finding points at the line to change.
Overlays named for a non-production environment (dev, test, ci, staging, ...) are not checked.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..model import Document, Hit
from .k8s import MUTABLE_TAGS, int_value, split_image, templated

VALUES_NAMES = ("values.yaml", "values.yml")
RENDERED_VALUES = "helm-rendered-values"   # repo.memo: values files of charts rendered this run (render/helm.py)
NON_PRODUCTION = ("dev", "develop", "development", "test", "testing", "tests", "ci", "e2e", "local", "kind",
                  "minikube", "k3d", "sandbox", "preview", "review", "qa", "staging", "stage", "stg", "demo",
                  "example", "examples", "lint", "minimal", "debug")
# keys whose values are not component blocks (do not look for `image` under them)
NOT_COMPONENTS = ("image", "global", "resources", "autoscaling", "livenessProbe", "readinessProbe",
                  "startupProbe", "podDisruptionBudget", "pdb", "affinity", "nodeSelector", "tolerations",
                  "podAnnotations", "podLabels", "annotations", "labels", "securityContext", "podSecurityContext",
                  "containerSecurityContext", "service", "ingress", "env", "extraEnv", "serviceAccount", "rbac",
                  "networkPolicy", "persistence", "volumes", "extraVolumes", "extraVolumeMounts",
                  # `helm test` hook pods: not part of what runs in production
                  "test", "tests", "testFramework", "helmTest")
MAX_DEPTH = 4
# a block of defaults for every component, and the maps of components that take their image from it
SHARED_BLOCKS = ("default", "defaults")
COMPONENT_MAPS = ("components", "services", "microservices", "apps", "applications", "workloads")
_MISSING = object()


# -- merging ------------------------------------------------------------------------------------

@dataclass
class View:
    """A chart's values as one environment sees them, and which document set each path."""

    chart: str                    # chart directory
    data: dict
    origin: dict                  # path -> Document that last set it
    overlay: Document | None = None
    docs: list = field(default_factory=list)
    name: str = ""                # the chart's name (Chart.yaml), else its directory's

    def get(self, path, default=None):
        value = self.data
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return default
            value = value[key]
        return value

    def has(self, path) -> bool:
        return self.get(path, _MISSING) is not _MISSING

    def source(self, path) -> Document | None:
        """The document that set the deepest existing part of `path`."""
        path = tuple(path)
        for n in range(len(path), -1, -1):
            if self.has(path[:n]) and path[:n] in self.origin:
                return self.origin[path[:n]]
        return self.docs[-1] if self.docs else None


def merge(docs: list, chart: str = "") -> View:
    """Helm's coalescing: later mappings merge key by key into earlier ones, anything else replaces,
    and `null` deletes the key."""
    data: dict = {}
    origin: dict = {}
    for doc in docs:
        if isinstance(doc.data, dict):
            _merge_into(data, doc.data, (), doc, origin)
    return View(chart, data, origin, docs=list(docs), name=posixpath.basename(chart) or "chart")


def _merge_into(dst: dict, src: dict, path: tuple, doc: Document, origin: dict) -> None:
    for key, value in src.items():
        p = path + (key,)
        if value is None:
            dst.pop(key, None)
            _forget(origin, p)
            continue
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            origin[p] = doc
            _merge_into(dst[key], value, p, doc, origin)
            continue
        _forget(origin, p)
        dst[key] = _copy(value, p, doc, origin)


def _copy(value, path: tuple, doc: Document, origin: dict):
    origin[path] = doc
    if isinstance(value, dict):
        return {k: _copy(v, path + (k,), doc, origin) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v, path + (i,), doc, origin) for i, v in enumerate(value)]
    return value


def _forget(origin: dict, path: tuple) -> None:
    n = len(path)
    for p in [p for p in origin if p[:n] == path]:
        del origin[p]


# -- the chart's files ---------------------------------------------------------------------------

def base_documents(repo, chart: str) -> list:
    """Documents of the chart's values.yaml (memoised per run)."""
    if repo is None:
        return []
    memo = repo.memo.setdefault("helm-base-values", {})
    if chart not in memo:
        docs: list[Document] = []
        for name in VALUES_NAMES:
            rel = posixpath.join(chart, name) if chart else name
            if repo.candidates.get(rel) == "helm-values":
                docs.extend(d for d in repo.load(rel).docs if d.kind == "helm-values")
        memo[chart] = docs
    return memo[chart]


def chart_name(repo, chart: str) -> str:
    memo = repo.memo.setdefault("helm-chart-names", {}) if repo is not None else {}
    if chart not in memo:
        name = None
        for file in ("Chart.yaml", "Chart.yml"):
            rel = posixpath.join(chart, file) if chart else file
            if repo is not None and repo.candidates.get(rel) == "helm-chart":
                for doc in repo.load(rel).docs:
                    value = doc.get(("name",))
                    if isinstance(value, str) and value.strip():
                        name = value.strip()
        memo[chart] = name or posixpath.basename(chart) or "chart"
    return memo[chart]


def non_production(file: str, chart: str | None = None) -> bool:
    """An overlay named for an environment that is not production: values-dev.yaml, ci/test-values.yaml; for
    a file below its chart's directory the directories between count too (env/staging/values.yaml)."""
    stem = posixpath.basename(file).rsplit(".", 1)[0]
    if chart is not None:
        below = posixpath.relpath(posixpath.dirname(file), chart or ".")
        stem = "/".join(p for p in below.split("/") if p not in (".", "..")) + "/" + stem
    tokens = {t for t in re.split(r"[-._/]+", stem.lower()) if t and t != "values"}
    return bool(tokens & set(NON_PRODUCTION))


# CI and deployment files whose text may name a values file they deploy with (`helm upgrade -f env/prod/values.yaml`)
CI_FILES = (".gitlab-ci.yml", ".gitlab-ci.yaml", "helmfile.yaml", "helmfile.yml", "Jenkinsfile", "azure-pipelines.yml",
            "bitbucket-pipelines.yml", "cloudbuild.yaml", "skaffold.yaml")
CI_DIRS = (".github/workflows/", ".circleci/", ".buildkite/", "helmfile.d/", ".gitlab/")


def overlay_claim(doc: Document, ctx) -> str | None:
    """Who claims a values file in a subdirectory of its chart as an overlay: its service's manifest (a
    `spec.deploy.helm` entry naming the file or a directory below the chart holding it), or a CI or helmfile
    file naming its path. None when nothing does."""
    chart = doc.meta.get("chart", "")
    service = getattr(ctx, "service", None)
    claims = [(c.kind, c.target.rstrip("/")) for c in service.claims] if service is not None else []
    for kind, target in claims:
        if kind == "helm" and target != chart and (doc.file == target or doc.file.startswith(target + "/")):
            return service.manifest.file if service is not None else None
    repo = getattr(ctx, "repo", None)
    if repo is None:
        return None
    below = posixpath.relpath(doc.file, chart) if chart else doc.file
    for rel, text in _ci_texts(repo):
        if doc.file in text or ("/" in below and below in text):
            return rel
    return None


def _ci_texts(repo) -> list:
    memo = repo.memo.get("helm-ci-texts")
    if memo is None:
        memo = []
        for rel in repo.files:
            if posixpath.basename(rel) in CI_FILES or any(rel.startswith(d) or ("/" + d) in rel for d in CI_DIRS):
                text = repo.read(rel)
                if text:
                    memo.append((rel, text))
        repo.memo["helm-ci-texts"] = memo
    return memo


def note_unread(repo, chart: str, ctx) -> None:
    """Name, once per chart and run, the values files of the chart that are not checked, and why."""
    if repo is None or not hasattr(ctx, "note"):
        return
    done = repo.memo.setdefault("helm-unread-noted", set())
    if chart in done:
        return
    done.add(chart)
    for rel in _values_like_files(repo).get(chart, ()):
        name = posixpath.basename(rel)
        how = repo.candidates.get(rel)
        if how != "helm-values":
            ctx.note(rel, f"values file not read: only values.yaml, values-<env>.yaml and <env>.values.yaml "
                          f"beside a chart's Chart.yaml are Helm values (chart {chart or '.'})")
        elif posixpath.dirname(rel) != chart:
            continue  # noted by the rules when they reach it (claimed or not)
        elif name not in VALUES_NAMES and non_production(rel):
            ctx.note(rel, "values overlay not checked: named for a non-production environment")


def _values_like_files(repo) -> dict:
    """{chart directory: [YAML files with "values" in their name below it]}, each file under its nearest
    chart, those in a chart's templates/ left out; built once per run."""
    from ..loaders import values_chart

    index = repo.memo.get("helm-values-like")
    if index is None:
        index = {}
        for rel in repo.files:
            directory, name = posixpath.split(rel)
            if "values" not in name.lower() or not name.endswith((".yaml", ".yml")):
                continue
            chart = values_chart(directory, repo.chart_dirs)
            below = posixpath.relpath(directory, chart) if chart else directory
            if chart is not None and "templates" not in below.split("/"):
                index.setdefault(chart, []).append(rel)
        repo.memo["helm-values-like"] = index
    return index


# -- components ------------------------------------------------------------------------------

@dataclass
class Component:
    path: tuple                   # where the block is in the values ((), ("worker",), ...)
    values: dict
    label: str

    def at(self, *keys) -> tuple:
        return self.path + keys

    def get(self, *keys, default=None):
        value = self.values
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return default
            value = value[key]
        return value


def is_image(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, dict) and any(isinstance(value.get(k), str) for k in ("repository", "name", "registry"))


def disabled(block: dict) -> bool:
    """Switched off: `enabled: false`, or scaled to zero (`replicas: 0` / `replicaCount: 0` with no
    autoscaling turned on): the chart renders no pod for it."""
    value = block.get("enabled")
    if value is False or (isinstance(value, str) and value.strip().lower() == "false"):
        return True
    counts = [int_value(block[k]) for k in ("replicaCount", "replicas") if k in block]
    if not counts or any(c != 0 for c in counts):
        return False
    scaling = [block.get(k) for k in ("autoscaling", "hpa")]
    scaled = any(isinstance(b, dict) and (truthy(b.get("enabled")) or
                                          (isinstance(b.get("hpa"), dict) and truthy(b["hpa"].get("enabled"))))
                 for b in scaling)
    return not scaled


def shared_image(data: dict) -> str | None:
    """The key of a block of defaults whose `image` every component uses unless it overrides it (`default:`
    in opentelemetry-demo: `default.image` plus `components.<name>.imageOverride`); None when there is none."""
    for key in SHARED_BLOCKS:
        block = data.get(key)
        if isinstance(block, dict) and is_image(block.get("image")):
            return key
    return None


def components(view: View) -> list:
    """Every values block with an `image` key that is not switched off (`enabled: false`, `replicas: 0`), and
    when the chart has a shared image (`default.image`), every block of its component map (`components.*`)."""
    out: list = []
    shared = shared_image(view.data)

    def walk(node, path):
        if not isinstance(node, dict) or len(path) > MAX_DEPTH or disabled(node):
            return
        where = ".".join(str(p) for p in path)
        if is_image(node.get("image")):
            what = "shared defaults" if shared and path == (shared,) else "component"
            out.append(Component(path, node, f"chart {view.name}" + (f', {what} "{where}"' if where else "")))
        elif shared and len(path) == 2 and path[0] in COMPONENT_MAPS:
            source = "" if is_image(node.get("imageOverride")) else f" (image from {shared}.image)"
            out.append(Component(path, node, f'chart {view.name}, component "{where}"{source}'))
        for key, value in node.items():
            if isinstance(key, str) and key not in NOT_COMPONENTS and isinstance(value, dict):
                walk(value, path + (key,))

    walk(view.data, ())
    return out


def truthy(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def is_daemonset(comp: Component) -> bool:
    kind = comp.get("kind")
    if isinstance(kind, str) and kind.lower() == "daemonset":
        return True
    for key in ("daemonset", "daemonSet", "useDaemonSet"):
        value = comp.get(key)
        if truthy(value) or (isinstance(value, dict) and truthy(value.get("enabled"))):
            return True
    return False


def autoscaling(comp: Component) -> tuple | None:
    """(enabled, path of minReplicas) of a component's autoscaling block, or None when there is none."""
    for block in (("autoscaling",), ("autoscaling", "hpa"), ("hpa",)):
        value = comp.get(*block)
        if isinstance(value, dict) and "enabled" in value:
            return bool(truthy(value.get("enabled"))), comp.at(*block, "minReplicas")
    return None


def replica_count(view: View, comp: Component) -> tuple | None:
    """(path, count) of the lower bound of a component's replicas; None when the values do not say."""
    if is_daemonset(comp):
        return None
    scaling = autoscaling(comp)
    if scaling is not None and scaling[0]:
        count = int_value(view.get(scaling[1]))
        return (scaling[1], count) if count is not None else None
    for key in ("replicaCount", "replicas"):
        if key in comp.values:
            count = int_value(comp.values[key])
            return (comp.at(key), count) if count is not None else None
    return None


def image_tags(comp: Component) -> list:
    """(path, tag) of every mutable image tag without a digest in a component: its `image` (or
    `imageOverride`), and the images of the containers it lists (`initContainers[].image`, `sidecars[].image`)."""
    out = []
    for key in ("image", "imageOverride"):
        found = _mutable_tag(comp.get(key), comp.at(key))
        if found is not None:
            out.append(found)
    for key, value in comp.values.items():
        if isinstance(value, list) and key not in NOT_COMPONENTS:
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    found = _mutable_tag(item.get("image"), comp.at(key, i, "image"))
                    if found is not None:
                        out.append(found)
    return out


def _mutable_tag(image, path: tuple) -> tuple | None:
    if isinstance(image, dict):
        digest = image.get("digest") or image.get("sha")
        tag = image.get("tag")
        if digest or not isinstance(tag, str) or templated(tag):
            return None
        return (path + ("tag",), tag) if tag.strip().lower() in MUTABLE_TAGS else None
    if isinstance(image, str) and not templated(image):
        _, tag, digest = split_image(image.strip())
        if not digest and tag is not None and tag.lower() in MUTABLE_TAGS:
            return path, tag
    return None


# -- running a rule ------------------------------------------------------------------------------

def views(doc: Document, repo, ctx=None) -> list:
    """The merged views a values document is checked in: the base alone, or the base + this overlay. A
    values file in a subdirectory of its chart (env/prod/values.yaml) is an overlay only when claimed."""
    chart = doc.meta.get("chart", posixpath.dirname(doc.file))
    note_unread(repo, chart, ctx)
    base = base_documents(repo, chart) or ([] if doc.meta.get("overlay") else [doc])
    if doc.meta.get("nested"):
        claimed_by = overlay_claim(doc, ctx)
        if claimed_by is None:
            if ctx is not None:
                ctx.note(doc.file, f"values file not read: it is below chart {chart or '.'} and no service "
                                   "(spec.deploy.helm) or CI file names it as an overlay")
            return []
        if non_production(doc.file, chart):
            if ctx is not None:
                ctx.note(doc.file, "values overlay not checked: named for a non-production environment")
            return []
    elif doc.meta.get("overlay") and non_production(doc.file):
        return []
    view = merge(base if not doc.meta.get("overlay") else [d for d in base if d is not doc] + [doc], chart)
    view.overlay = doc if doc.meta.get("overlay") else None
    view.name = chart_name(repo, chart)
    return [view]


Check = Callable[[View, Component, object], Iterator[tuple]]


def check_values(doc: Document, ctx, fn: Check) -> Iterator[Hit]:
    """Run `fn` over every component of every view of `doc`; hits land on the document that set the value."""
    if doc.kind != "helm-values" or not isinstance(doc.data, dict):
        return
    repo = getattr(ctx, "repo", None)
    if repo is not None and doc.file in repo.memo.get(RENDERED_VALUES, ()):
        return    # the chart was rendered: the K8S rules judge what its templates make of these values
    for view in views(doc, repo, ctx):
        alone = set()
        if view.overlay is not None:  # what the base alone already shows is reported once, without a note
            base = merge([d for d in view.docs if d is not view.overlay], view.chart)
            base.name = view.name
            alone = {(id(base.source(p)), tuple(p), m) for c in components(base) for p, m in fn(base, c, ctx)}
        for comp in components(view):
            for path, message in fn(view, comp, ctx):
                where = view.source(path)
                if where is None:
                    continue
                if view.overlay is not None and where is not view.overlay \
                        and (id(where), tuple(path), message) not in alone:
                    message = f"{message} (with {posixpath.basename(view.overlay.file)})"
                yield Hit(where, tuple(path), message)
