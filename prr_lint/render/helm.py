"""Helm charts rendered in-process (helm-python-sdk, the `render` extra), offline, so the K8S rules check the
objects a chart deploys, each field at the template line that emitted it.

Per chart: its files are copied into a temporary directory (regular files only, never through a symlink),
`file://` dependencies are placed in `charts/`, `dependency_list()` names what is still missing (PRR006 at
its line in Chart.yaml), the templates get line markers (markers.py), and the chart is rendered with its
values.yaml and with each production overlay (as `helm -f`). A render that fails is PRR005 at the template line
Helm names. Charts render in threads: the library must never run in a forked child.
"""

from __future__ import annotations

import bisect
import functools
import io
import json
import os
import posixpath
import queue
import re
import stat
import tarfile
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..checks.helm import RENDERED_VALUES, merge, non_production
from ..checks.k8s import helm_test_hook
from ..escape import one_line
from ..loaders import _yaml_documents
from ..loaders.errors import LoadError
from ..model import Document, Span
from ..releases import installed_release
from . import RENDER_FAILED, RENDER_INCOMPLETE, Problem, Rendered, RenderJob
from .cache import RenderCache, render_key
from .markers import instrument, line_map
from .subcharts import file_dependency, subcharts

CHART_FILES = ("Chart.yaml", "Chart.yml")
TEMPLATE_EXT = (".yaml", ".yml")
KINDS = ("k8s", "prometheus-rules")     # rendered documents the rules check
RESOLVED = ("ok", "unpacked")           # dependency_list() statuses of a dependency that is there
MAX_MESSAGE = 400
MAX_ARCHIVE = 64 << 20       # bytes of a chart Helm takes as an archive (its own limits: 100 MiB, 5 MiB a file)
MAX_ARCHIVE_FILE = 4 << 20
MAX_WORKERS = 16       # a bound on the charts held in memory at once, whatever the number of cores
RENDER_TIMEOUT = 60.0   # seconds per chart: a template that loops for ever must not hang the run
MAX_PENDING = 32        # charts rendered ahead of being taken apart: a bound on the rendered text held at once
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)   # never through a symlink
_VALUES_BY_DIR = "helm-values-by-dir"     # repo.memo keys
_BEGUN = "helm-begun"                   # the batch begin() started, for render() to finish
_HELM_PLACE = re.compile(r"([\w.-]+(?:/charts/[\w.-]+)*/templates/[^\s:()\"']+):(\d+)(?::(\d+))?")
_VALUES_REF = re.compile(r"\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")
_WITH_VALUES = re.compile(r"\{\{-?\s*with\s+\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")


@dataclass
class Chart:
    """A chart to render, gathered from the repository on the main thread."""

    directory: str                          # repository-relative
    chart_file: str
    meta: Document                          # the Chart.yaml document
    files: dict[str, bytes]                 # path inside the chart -> bytes
    templates: dict[str, str]               # repository path -> template text (the ones marked)
    local_deps: dict[str, str]              # dependency name -> repository directory (file://, charts/<dir>)
    renders: list[Document | None]          # None: values.yaml alone; else a production overlay
    base_values: list[Document] = field(default_factory=list)
    refs: dict[str, list] = field(default_factory=dict)   # template -> `.Values` paths per line (helm._refs)


@dataclass
class Output:
    """What the library answered for one set of values: manifests by template, or Helm's error."""

    overlay: Document | None
    manifests: dict[str, str] | None = None
    error: str | None = None


@dataclass
class Answer:
    missing: list[tuple[int, str, str]] = field(default_factory=list)   # (dependency index, name, status)
    outputs: list[Output] = field(default_factory=list)
    load_error: str | None = None


class _Batch:
    """The charts of one run being rendered: their cached results, the threads rendering the others, and what
    was taken apart so far (in chart order at the end, whatever order they rendered in)."""

    def __init__(self, job: RenderJob) -> None:
        self.job, self.files, self.scope = job, list(job.files), list(job.scope)
        self.out = Rendered()
        self.charts = [c for c in (_gather(job, d) for d in _chart_dirs(job)) if c is not None]
        self.cache: RenderCache | None = None
        self.keys: list[str] = []
        self.parts: list[tuple[Rendered, set[str]] | None] = []
        self.todo: list[int] = []
        self.renders: _Renders | None = None
        if not self.charts:
            return
        charts, store = self.charts, job.repo.cache
        # render results are keyed by the SDK's release from its package metadata: importing it loads its native
        # library, which only a chart to render needs
        sdk = installed_release("helm_python", "helm-python-sdk") if store is not None else None
        cache = self.cache = RenderCache(store, "helm", job.repo.spans_packed) \
            if store is not None and sdk is not None else None
        self.keys = [_chart_key(job, chart, sdk) for chart in charts] if cache is not None and sdk is not None else []
        self.parts = [cache.get(chart.directory, key) for chart, key in zip(charts, self.keys, strict=True)] \
            if cache is not None else [None] * len(charts)
        self.todo = [i for i, hit in enumerate(self.parts) if hit is None]
        if not self.todo:
            return
        try:
            import helm_python

            helm_python.helm_sdk_version()      # loads the native library: it may not run on this machine
        except ImportError:
            self.out.notices.append((charts[0].chart_file, "Helm templates were not rendered: helm-python-sdk is "
                                     "not installed (pip install 'prr-lint[render]'); Helm values are checked by "
                                     "HELM001-005 only"))
            self.charts = []
            return
        except Exception as e:
            self.out.notices.append((charts[0].chart_file, f"Helm templates were not rendered: helm-python-sdk "
                                     f"cannot run here ({_detail(e, type(e).__name__)}); Helm values are checked "
                                     f"by HELM001-005 only"))
            self.charts = []
            return
        self.renders = _Renders(helm_python, [charts[i] for i in self.todo], pending=MAX_PENDING)

    def serves(self, job: RenderJob) -> bool:
        """Whether this batch renders what `job` asks for (the run read the files it was started with)."""
        return job.repo is self.job.repo and list(job.files) == self.files and list(job.scope) == self.scope

    def drain(self) -> None:
        """Take apart the charts rendered so far, without waiting for the others."""
        if self.renders is not None:
            for n, answer in self.renders.ready():
                self._take(n, answer)

    def finish(self) -> Rendered:
        out, job = self.out, self.job
        if not self.charts:
            return out
        if self.renders is not None:
            # each chart's output is taken apart as soon as it is rendered, while the threads render the next ones
            for n, answer in self.renders.rest():
                self._take(n, answer)
        rendered_values: set[str] = job.repo.memo.setdefault(RENDERED_VALUES, set())
        for done in self.parts:       # in chart order, whatever order they rendered in
            assert done is not None     # every chart is a cache hit or was answered
            rendered_values |= done[1]
            out.extend(done[0])
        if self.cache is not None:
            self.cache.save(job.repo.chart_dirs)
        _share_neighbours(job, out.docs)
        return out

    def _take(self, n: int, answer: Answer) -> None:
        i = self.todo[n]
        chart, part, judged = self.charts[i], Rendered(), set[str]()
        try:
            _collect(self.job, chart, answer, part, judged)
        except Exception as e:  # a chart the renderer cannot take apart is a finding, not a crashed run
            part = Rendered(problems=[Problem(RENDER_FAILED, chart.chart_file, 1, 1,
                                              f"chart {_release_name(chart)} could not be checked: "
                                              f"{_detail(e, type(e).__name__)}",
                                              f"helm/{chart.directory or '.'}")])
        # a load error may be passing (a timeout, the file system): such a chart renders again next run
        if self.cache is not None and answer.load_error is None:
            self.cache.put(chart.directory, self.keys[i], part, judged)
        self.parts[i] = (part, judged)


def begin(job: RenderJob) -> None:
    """Start rendering the charts `job.files` touch before the run parses the rest of the repository: the
    library renders in threads (Go, without the GIL) while the main thread parses, and takes apart what is
    rendered at each drain(). render() with the same files and scope picks the batch up."""
    job.repo.memo[_BEGUN] = _Batch(job)


def drain(repo: Any) -> None:
    """Take apart the charts a begun batch rendered so far (nothing when none was begun)."""
    batch: _Batch | None = repo.memo.get(_BEGUN)
    if batch is not None:
        batch.drain()


def render(job: RenderJob) -> Rendered:
    begun: _Batch | None = job.repo.memo.pop(_BEGUN, None)
    batch = begun if begun is not None and begun.serves(job) else _Batch(job)
    return batch.finish()


def _chart_key(job: RenderJob, chart: Chart, sdk: str) -> str:
    """Everything a chart's render result depends on: the bytes of every file copied for it (templates, values,
    Chart.yaml, vendored archives, file:// dependencies), which of them are values and overlays, the size
    limit and the SDK version (prr-lint's own version is part of every render key)."""
    return render_key("helm", sdk, chart.directory, chart.chart_file, str(job.repo.max_file_size),
                      json.dumps(sorted(chart.local_deps.items())),
                      json.dumps([d.file for d in chart.base_values]),
                      json.dumps([d.file if d is not None else None for d in chart.renders]),
                      chart.files.items())


# -- which charts, and their files ------------------------------------------------------------------

def _chart_dirs(job: RenderJob) -> list[str]:
    """Charts with a file the run read, except subcharts: those vendored in another's charts/ or named by
    another's `file://` dependency are rendered as part of their parent, with its values."""
    repo = job.repo
    chart_dirs = repo.chart_dirs
    touched: set[str] = set()
    for rel in job.files:         # each file's ancestors: O(files x depth), not files x charts
        directory = posixpath.dirname(rel)
        while True:
            if directory in chart_dirs:
                touched.add(directory)
            if not directory:
                break
            directory = posixpath.dirname(directory)
    candidates = []
    for directory in sorted(chart_dirs):
        parts = directory.split("/")
        if any(parts[i] == "charts" and "/".join(parts[:i]) in chart_dirs for i in range(len(parts))):
            continue
        prefix = directory + "/" if directory else ""
        if directory in touched or any(
                s == "" or s == directory or s.startswith(prefix) or directory.startswith(s + "/") for s in job.scope):
            candidates.append(directory)
    if not candidates:
        return []                 # a run that touches no chart reads no Chart.yaml
    # every chart's file:// dependencies (subcharts render with their parent), from the cache for unchanged ones
    chart_files = {d: found for d in sorted(chart_dirs) if (found := _chart_file(job, d)) is not None}
    inside = subcharts(job.repo, chart_files, lambda rel: _chart_meta(job, rel))
    return [d for d in candidates if d not in inside]


def _chart_file(job: RenderJob, directory: str) -> str | None:
    for name in CHART_FILES:
        rel = posixpath.join(directory, name) if directory else name
        if rel in job.repo.file_set:
            return rel
    return None


def _chart_meta(job: RenderJob, chart_file: str) -> Document:
    # lazy: spans only when a finding needs them
    docs = [d for d in job.repo.load(chart_file, lazy=True).docs if d.kind == "helm-chart"]
    return docs[0] if docs else Document("helm-chart", chart_file, {}, {})


def _chart_yaml(job: RenderJob, directory: str) -> tuple[str, Document] | None:
    rel = _chart_file(job, directory)
    return (rel, _chart_meta(job, rel)) if rel is not None else None


def _read_tree(job: RenderJob, directory: str) -> dict[str, bytes]:
    """The regular files under a repository directory (path inside it -> bytes); symlinks are not followed."""
    repo = job.repo
    prefix = directory + "/" if directory else ""
    out: dict[str, bytes] = {}
    # the sorted file list, shared by every chart: a chart's files are one range of it, not a scan of all
    ordered = repo.sorted_files
    for i in range(bisect.bisect_left(ordered, prefix), len(ordered)):
        rel = ordered[i]
        if not rel.startswith(prefix):
            break
        # a directory on the way that leads out of the checkout (asked once per directory, not per file)
        if repo.real(posixpath.dirname(rel)) is None:
            continue
        full = os.path.join(repo.root, rel)
        try:
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode) or st.st_size > repo.max_file_size:
                continue          # a symlink, a FIFO, a device, or too large
            with os.fdopen(os.open(full, _READ_FLAGS), "rb") as fh:
                out[rel[len(prefix):]] = fh.read(repo.max_file_size + 1)
        except OSError:
            continue
    return out


def _gather(job: RenderJob, directory: str) -> Chart | None:
    found = _chart_yaml(job, directory)
    if found is None:
        return None
    chart_file, meta = found
    data = meta.data if isinstance(meta.data, dict) else {}
    if str(data.get("type", "")).strip() == "library":
        return None
    files = _read_tree(job, directory)
    local_deps: dict[str, str] = {}
    for rel in files:
        parts = rel.split("/")
        if len(parts) > 2 and parts[0] == "charts" and parts[2] in CHART_FILES:
            local_deps[parts[1]] = posixpath.join(directory, "charts", parts[1])
    for dep in data.get("dependencies") or []:
        target = file_dependency(directory, dep) if isinstance(dep, dict) else None
        if target is not None and target in job.repo.chart_dirs:
            for rel, raw in _read_tree(job, target).items():
                files[f"charts/{dep['name']}/{rel}"] = raw
            local_deps[dep["name"]] = target
    templates = {}
    for rel, raw in files.items():
        place = _repo_path(directory, local_deps, rel)
        if place is not None and "/templates/" in "/" + rel and rel.endswith(TEMPLATE_EXT):
            try:
                templates[place] = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
    # from the repository, not job.docs: a run scoped to one template has not read the chart's values
    values = [d for rel in _values_files(job).get(directory, ()) for d in job.repo.load(rel).docs
              if d.kind == "helm-values"]
    base = [d for d in values if not d.meta.get("overlay")]
    overlays = sorted({d.file: d for d in values if d.meta.get("overlay") and not non_production(d.file)}.values(),
                      key=lambda d: d.file)
    renders: list[Document | None] = [None, *overlays]
    return Chart(directory, chart_file, meta, files, templates, local_deps, renders, base)


def _values_files(job: RenderJob) -> dict[str, list[str]]:
    """The Helm values files of the repository by directory (in candidate order), made once per run."""
    by_dir: dict[str, list[str]] | None = job.repo.memo.get(_VALUES_BY_DIR)
    if by_dir is None:
        by_dir = job.repo.memo.setdefault(_VALUES_BY_DIR, {})
        for rel, how in job.repo.candidates.items():
            if how == "helm-values":
                by_dir.setdefault(posixpath.dirname(rel), []).append(rel)
    return by_dir


def _repo_path(directory: str, local_deps: dict[str, str], inside: str) -> str | None:
    """The repository file a path inside the chart copy comes from (None: from an archive)."""
    parts = inside.split("/")
    if len(parts) > 2 and parts[0] == "charts" and parts[1] in local_deps:
        nested = _repo_path(local_deps[parts[1]], {}, "/".join(parts[2:]))
        return nested
    if parts[0] == "charts" and len(parts) > 1:
        return None
    return posixpath.join(directory, inside) if directory else inside


# -- rendering (worker threads: no repository access here) --------------------------------------------

class _Renders:
    """Charts rendered by a few worker threads (threads: the library must never run in a forked child), each
    answer taken as its render ends. The library is Go behind ctypes, which releases the GIL during each call,
    so the caller takes one chart's output apart (or parses other files) while others render. At most
    `pending` answers wait to be taken: a thread waits for a slot before it starts a chart. A chart still
    rendering after RENDER_TIMEOUT is given up: its daemon thread is left behind (it dies with the run) and a
    new one takes its place."""

    def __init__(self, helm: Any, charts: list[Chart], workers: int | None = None, pending: int | None = None) -> None:
        self.helm, self.charts, self.left = helm, charts, len(charts)
        self.todo = deque(range(len(charts)))
        self.running: dict[int, float] = {}     # chart index -> deadline; a chart given up is no longer here
        self.lock = threading.Lock()
        self.done: queue.SimpleQueue[tuple[int, Answer]] = queue.SimpleQueue()
        self.slots = threading.Semaphore(pending or len(charts) or 1)
        for _ in range(min(workers or worker_count(), len(charts))):
            self._start()

    def _start(self) -> None:
        threading.Thread(target=self._work, name="prr-helm", daemon=True).start()

    def _work(self) -> None:
        while True:
            self.slots.acquire()
            with self.lock:
                if not self.todo:
                    self.slots.release()
                    return
                i = self.todo.popleft()
                self.running[i] = time.monotonic() + RENDER_TIMEOUT
            answer = _render_safely(self.helm, self.charts[i])
            with self.lock:
                if self.running.pop(i, None) is None:
                    return              # given up: its answer came too late, and a new thread took over
            self.done.put((i, answer))

    def _taken(self, item: tuple[int, Answer]) -> tuple[int, Answer]:
        self.left -= 1
        self.slots.release()
        return item

    def ready(self) -> Iterator[tuple[int, Answer]]:
        """The answers there now, without waiting."""
        self._give_up_late()
        while self.left:
            try:
                item = self.done.get_nowait()
            except queue.Empty:
                return
            yield self._taken(item)

    def rest(self) -> Iterator[tuple[int, Answer]]:
        """Every answer not taken yet, as each render ends."""
        while self.left:
            with self.lock:
                # wake at the first deadline (a chart that starts later has a later one: checked next time round)
                wake = min(self.running.values(), default=time.monotonic() + RENDER_TIMEOUT)
            try:
                item = self.done.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                self._give_up_late()
                continue
            yield self._taken(item)

    def _give_up_late(self) -> None:
        with self.lock:
            now = time.monotonic()
            late = [i for i, deadline in self.running.items() if deadline <= now]
            for i in late:
                del self.running[i]
        for i in late:
            # its slot passes to this answer; the thread left behind never puts one
            self.done.put((i, Answer(load_error=f"rendering took longer than {RENDER_TIMEOUT:g} seconds; "
                                                "given up")))
            self._start()


def worker_count() -> int:
    """Render threads: one per core keeps the library busy, and one more covers each chart's Python part
    (marking templates, writing the copy) while the others render."""
    return min((os.cpu_count() or 1) + 1, MAX_WORKERS)


def _render_safely(helm: Any, chart: Chart) -> Answer:
    try:
        return _render_chart(helm, chart)
    except Exception as e:  # the library or the file system failed on this chart: the others go on
        return Answer(load_error=_detail(e, type(e).__name__))


def _render_chart(helm: Any, chart: Chart) -> Answer:
    answer = Answer()
    copy = _chart_copy(chart)
    if not _needs_directory(copy):
        # loaded from an archive made in memory: no temporary files to write and remove
        try:
            loaded = helm.Chart.load_archive(_archive(copy))
        except helm.HelmError as e:
            answer.load_error = _detail(e)
            return answer
        _render_values(helm, chart, loaded, answer)
        return answer
    with tempfile.TemporaryDirectory(prefix="prr-helm-") as tmp:
        root = os.path.join(tmp, "chart")
        for inside, raw in copy.items():
            target = os.path.join(root, *inside.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(raw)
        # the values of each render (values.yaml alone, then with each overlay): a dependency switched on in any
        # of them is needed
        each_values = [merge(chart.base_values + ([o] if o is not None else [])).data for o in chart.renders]
        try:
            listed = helm.dependency_list(root)
        except helm.HelmError as e:
            answer.load_error = _detail(e)
            return answer
        declared = chart.meta.get(("dependencies",)) or []
        for dep in listed:
            status = str(dep.get("status", ""))
            if status in RESOLVED:
                continue
            index = next((i for i, d in enumerate(declared)
                          if isinstance(d, dict) and d.get("name") == dep.get("name")), 0)
            spec = declared[index] if index < len(declared) and isinstance(declared[index], dict) else {}
            if all(_switched_off(spec, values) for values in each_values):
                continue
            answer.missing.append((index, str(dep.get("name", "")), status))
        try:
            loaded = helm.Chart.load(root)
        except helm.HelmError as e:
            answer.load_error = _detail(e)
            return answer
        _render_values(helm, chart, loaded, answer)
    return answer


def _chart_copy(chart: Chart) -> dict[str, bytes]:
    """The files the library loads (path inside the chart -> bytes), with the templates marked."""
    copy = {}
    for inside, raw in chart.files.items():
        if any(p in ("", ".", "..") for p in inside.split("/")):
            continue
        place = _repo_path(chart.directory, chart.local_deps, inside)
        copy[inside] = instrument(chart.templates[place])[0].encode("utf-8") if place in chart.templates else raw
    return copy


def _needs_directory(copy: dict[str, bytes]) -> bool:
    """Whether the chart must be loaded from a directory, as Helm loads one: to list its dependencies (only
    a directory has that call), to apply its .helmignore, or when it is larger than an archive may be."""
    chart_yaml = next((copy[name] for name in CHART_FILES if name in copy), b"")
    # an apiVersion v1 chart may declare its dependencies in requirements.yaml
    return b"dependencies" in chart_yaml or "requirements.yaml" in copy or "requirements.yml" in copy or \
        ".helmignore" in copy or \
        sum(map(len, copy.values())) > MAX_ARCHIVE or any(len(raw) > MAX_ARCHIVE_FILE for raw in copy.values())


def _archive(copy: dict[str, bytes]) -> bytes:
    """A chart archive (.tgz) of the copy, holding what Helm's directory loader would read: not the files
    of a hidden name under templates/ (Helm's built-in ignore rule `templates/.?*`)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        for inside, raw in sorted(copy.items()):
            if inside.startswith("templates/."):
                continue
            info = tarfile.TarInfo(f"chart/{inside}")
            info.size, info.mode = len(raw), 0o644
            tar.addfile(info, io.BytesIO(raw))
    return out.getvalue()


def _render_values(helm: Any, chart: Chart, loaded: Any, answer: Answer) -> None:
    """Render the loaded chart with values.yaml alone, then with each production overlay."""
    with loaded:
        name = _release_name(chart)
        for overlay in chart.renders:
            given = _plain(overlay.data) if overlay is not None and isinstance(overlay.data, dict) else None
            try:
                answer.outputs.append(Output(overlay, manifests=loaded.render(given, name=name,
                                                                              namespace="default")))
            except helm.HelmError as e:
                answer.outputs.append(Output(overlay, error=_detail(e)))


def _release_name(chart: Chart) -> str:
    name = chart.meta.get(("name",))
    text = name.strip().lower() if isinstance(name, str) else ""
    text = re.sub(r"[^a-z0-9-]", "-", text).strip("-")[:53]
    return text or "release"


def _switched_off(spec: dict, values: dict) -> bool:
    """A dependency whose `condition` is false in the values is not rendered, so its absence is no gap."""
    condition = spec.get("condition")
    if not isinstance(condition, str):
        return False
    for path in condition.split(","):
        value: Any = values
        for key in path.strip().split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, bool):
            return not value
    return False


def _plain(values: dict) -> dict:
    """Values as JSON can carry them (a YAML date becomes its text, as Helm reads it)."""
    plain: dict = json.loads(json.dumps(values, default=str))
    return plain


def _detail(error: Exception, kind: str = "") -> str:
    text = " ".join(str(getattr(error, "detail", None) or error).split())
    text = one_line(f"{kind}: {text}" if kind else text)
    return text[:MAX_MESSAGE] + ("..." if len(text) > MAX_MESSAGE else "")


# -- back on the main thread: problems and documents ------------------------------------------------------

def _collect(job: RenderJob, chart: Chart, answer: Answer, out: Rendered, rendered_values: set[str]) -> None:
    name = _release_name(chart)
    address = f"helm/{chart.directory or '.'}"
    if answer.load_error is not None:
        out.problems.append(Problem(RENDER_FAILED, chart.chart_file, 1, 1,
                                    f"chart {name} could not be rendered: {answer.load_error}", address))
        return
    for index, dep, status in answer.missing:
        span = chart.meta.locate(("dependencies", index))
        if status == "missing":
            message = (f"dependency {dep} of chart {name} is missing (not vendored in charts/ nor a file:// path): "
                       "the chart was rendered without it, so its objects were not checked")
        else:   # "wrong version", "corrupt", "misnamed", ...: what was rendered is not what Chart.yaml asks for
            message = (f"dependency {dep} of chart {name} in charts/ is {one_line(status)}: what was rendered and "
                       "checked is not the dependency Chart.yaml asks for")
        out.problems.append(Problem(RENDER_INCOMPLETE, chart.chart_file, span.line, span.col, message,
                                    f"{address}/{dep}"))
    seen_errors: set[tuple[str, int, str]] = set()
    seen_docs: set[tuple[str, str]] = set()
    indices: dict[str, int] = {}
    for output in answer.outputs:
        label = posixpath.basename(output.overlay.file) if output.overlay is not None else "values.yaml"
        values_docs = chart.base_values + ([output.overlay] if output.overlay is not None else [])
        if output.error is not None:
            file, line, col = _error_place(chart, output.error)
            if (file, line, output.error) in seen_errors:
                continue      # the same failure with another values file: one finding
            seen_errors.add((file, line, output.error))
            out.problems.append(Problem(RENDER_FAILED, file, line, col,
                                        f"chart {name} failed to render with {label}: {output.error}", address))
            continue
        # the merged values, made once per set of values (not per template), when a template needs them
        view = functools.cache(functools.partial(merge, values_docs, chart.directory))
        for key, text in sorted((output.manifests or {}).items()):
            try:
                docs = _documents(chart, key, text, view, job.repo.max_file_size)
            except BadOutput as e:   # Helm would refuse to install it too
                out.problems.append(Problem(RENDER_FAILED, e.file, e.line, 1,
                                            f"chart {name} rendered with {label}: {e.message}", address))
                continue
            for doc in docs:
                # the K8S rules judge these values now; a chart that renders no object keeps the values rules
                rendered_values.update(d.file for d in values_docs)
                identity = (doc.file, json.dumps(doc.data, sort_keys=True, default=str))
                if identity in seen_docs:
                    continue      # the same object from another values file: checked once
                seen_docs.add(identity)
                doc.index = indices.get(doc.file, 0)
                indices[doc.file] = doc.index + 1
                doc.meta["values"] = label
                out.docs.append(doc)


def _error_place(chart: Chart, message: str) -> tuple[str, int, int]:
    """The template, line and column Helm's error names (markers never move a line), else Chart.yaml."""
    for m in _HELM_PLACE.finditer(message):
        inside = m.group(1).split("/", 1)[1]
        place = _repo_path(chart.directory, chart.local_deps, inside)
        if place is not None and place in chart.templates:
            last = max(1, len(chart.templates[place].rstrip("\n").split("\n")))   # "unclosed action" names EOF
            line = int(m.group(2))
            return (place, line, int(m.group(3) or 1)) if line <= last else (place, last, 1)
    return chart.chart_file, 1, 1


class BadOutput(Exception):
    """Rendered text that is no set of objects, at the template line that emitted its first bad line."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(message)
        self.file, self.line, self.message = file, line, message


def _documents(chart: Chart, key: str, text: str, values_view: Callable[[], Any], max_size: int) -> list[Document]:
    inside = key.split("/", 1)[1] if "/" in key else key
    place = _repo_path(chart.directory, chart.local_deps, inside)
    if not text.strip() or inside.endswith("NOTES.txt"):
        return []
    if place is None or place not in chart.templates:
        # from an archived subchart: its objects are checked at the dependency's line in Chart.yaml
        sub = inside.split("/")[1] if inside.startswith("charts/") else ""
        declared = chart.meta.get(("dependencies",)) or []
        index = next((i for i, d in enumerate(declared) if isinstance(d, dict) and d.get("name") == sub), None)
        span = chart.meta.locate(("dependencies", index)) if index is not None else Span(1, 1)
        lines: list[int | None] = [span.line] * (text.count("\n") + 1)
        file, source, marked = chart.chart_file, "", set[int]()
    else:
        (lines, marked), file, source = line_map(text), place, chart.templates[place]
    if len(text) > max_size:
        raise BadOutput(file, lines[0] or 1, f"the output of {inside} is larger than max_file_size ({max_size} "
                                             "bytes); not checked")
    try:
        docs = _yaml_documents(file, _without_crds(text), None, {"chart": chart.directory})
    except LoadError as e:
        where = lines[e.line - 1] if 0 < e.line <= len(lines) else None
        raise BadOutput(file, where or 1, f"the output of {inside} cannot be read: {one_line(e.message)}") \
            from None
    docs = [d for d in docs if d.kind in KINDS and not helm_test_hook(d)]
    if not docs:
        return []
    template_lines = source.split("\n")
    if source and file not in chart.refs:
        chart.refs[file] = _refs(template_lines)
    refs = chart.refs.get(file, [])
    view = values_view()
    out = []
    for doc in docs:
        spans = {}
        exact = 0
        for path, span in doc.spans.items():
            line = lines[span.line - 1] if 0 < span.line <= len(lines) else None
            fits = source and line and line <= len(template_lines) and span.col <= len(template_lines[line - 1])
            spans[path] = Span(line or 1, span.col if fits else 1)
            exact += span.line - 1 in marked
        doc.spans = spans
        doc.meta["mapped"] = (exact, len(spans))   # fields on a line with its own marker, fields
        if source:
            doc.meta["value_origin"] = _value_origins(doc, refs, view)
        out.append(doc)
    return out


_CRD = re.compile(r"^kind:\s*[\"']?CustomResourceDefinition[\"']?\s*(#.*)?$", re.MULTILINE)
_DOCUMENT_START = re.compile(r"^---", re.MULTILINE)


def _without_crds(text: str) -> str:
    """The rendered text with each CustomResourceDefinition blanked out (its lines kept, empty): no rule reads
    one, and a CRD's schema can be most of what a chart renders (50k fields for prometheus-operator's)."""
    if not _CRD.search(text):
        return text
    starts = [0] + [m.start() for m in _DOCUMENT_START.finditer(text)] + [len(text)]
    parts = [text[a:b] for a, b in zip(starts, starts[1:], strict=False) if b > a]
    return "".join("\n" * part.count("\n") if _CRD.search(part) else part for part in parts)


# -- where a value came from --------------------------------------------------------------------------------

def _refs(template_lines: list[str]) -> list[list[tuple[str, ...]]]:
    """For each template line, the `.Values` paths it names, else the one of the `with .Values.x` around it."""
    out: list[list[tuple[str, ...]]] = []
    blocks: list[tuple[str, ...] | None] = []      # open if/with/range/define blocks: the `with` path, or None
    for text in template_lines:
        found = [tuple(m.group(1)[1:].split(".")) for m in _VALUES_REF.finditer(text)]
        around = next((b for b in reversed(blocks) if b is not None), None)
        out.append(found or ([around] if around is not None else []))
        for m in re.finditer(r"\{\{-?\s*(if|with|range|define|block|end)\b", text):
            if m.group(1) == "end":
                if blocks:
                    blocks.pop()
                continue
            with_values = _WITH_VALUES.match(text, m.start()) if m.group(1) == "with" else None
            blocks.append(tuple(with_values.group(1)[1:].split(".")) if with_values else None)
    return out


def _value_origins(doc: Document, refs: list[list[tuple[str, ...]]], view: Any) -> dict[tuple, str]:
    """For each rendered field whose value comes from the values files: `values-prod.yaml:7`."""
    out: dict[tuple, str] = {}
    for path, value in doc.walk():
        if isinstance(value, (dict, list)) or not path:
            continue
        line = doc.locate(path).line
        best: tuple[int, str] | None = None
        for ref in refs[line - 1] if 0 < line <= len(refs) else ():
            for n in range(len(path) + 1):
                full = ref + tuple(path[n:])
                if not view.has(full):
                    continue
                given = view.get(full)
                exact = type(given) is type(value) and given == value
                if not exact and not (isinstance(given, (str, int, float)) and not isinstance(given, bool)
                                      and str(given) and str(given) in str(value)):
                    continue
                source = view.source(full)
                if source is None:
                    continue
                rank = 2 * exact + bool(source.meta.get("overlay"))
                if best is None or rank >= best[0]:
                    best = (rank, f"{source.file}:{source.locate(full).line}")
                break
        if best is not None:
            out[tuple(path)] = best[1]
    return out


def _share_neighbours(job: RenderJob, docs: list[Document]) -> None:
    """An unowned chart's workloads are judged with the HPAs and PDBs it renders: the K8S rules look for
    them by directory in repo.memo["k8s-dir-docs"], where rendered templates (never read as files) are not."""
    memo = job.repo.memo.setdefault("k8s-dir-docs", {})
    rendered = [d for d in docs if d.kind == "k8s"]
    directories = {posixpath.dirname(d.file) for d in rendered}
    # each document is near its own directory and the one above it (one pass, not directories x documents)
    nearby: dict[str, list[Document]] = {}
    for d in rendered:
        own = posixpath.dirname(d.file)
        nearby.setdefault(own, []).append(d)
        parent = posixpath.dirname(own)
        if parent != own and parent in directories:
            nearby.setdefault(parent, []).append(d)
    for directory in sorted(directories):
        near = nearby[directory]
        memo[directory] = [d for d in memo.get(directory, []) if d not in near] + near
