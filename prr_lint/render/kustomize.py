"""Kustomize overlays: build each production overlay with the kustomize binary and check what it deploys.

Kustomizations are found by name (kustomization.yaml, kustomization.yml, Kustomization) and through
`spec.deploy.kustomize` in service manifests. An overlay that no other kustomization builds on is built when its
directory is not named for a non-production environment (the naming rule of Helm values overlays); a base is then
checked only through the overlays that use it. Patch files listed by any kustomization are inputs, never objects.

The overlay is wrapped in a temporary kustomization that asks for origin and transformer annotations, so each
built object names its source file and the kustomizations whose patches, `replicas:` and `images:` changed it.
From those each node of the object gets the line that set it: the patch line, the `replicas:`/`images:` entry,
else the base resource's line. kustomize runs on a temporary copy of the files the overlay reaches, with a
timeout and no network (remote bases are refused before the build).
"""

from __future__ import annotations

import bisect
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..checks.helm import non_production
from ..errors import UsageError
from ..escape import one_line
from ..loaders import read_bytes
from ..loaders.errors import LoadError
from ..loaders.yamlread import MAX_NODES_PER_BYTE, MIN_NODE_BUDGET, load_yaml
from ..model import DEPLOYED_BY, ORIGINS, Document, Path, Span
from . import RENDER_FAILED, Problem, Rendered, RenderJob
from .cache import RenderCache, render_key

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILD_TIMEOUT = 60                 # seconds per overlay
BUILD_WORKERS = 4                  # overlays built at once
MAX_MESSAGE = 500                  # characters of kustomize's error quoted in a PRR005 message
MAX_OUTPUT = 256 << 20             # bytes of built YAML read from kustomize
MAX_COPY_FILES = 20000             # files copied for one build; a larger tree is a failed render
ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
BUILD_ANNOTATIONS = (ORIGIN, TRANSFORMATIONS)
# keys that name the items of a list in a strategic merge patch (containers by name, ports by containerPort, ...)
MERGE_KEYS = ("name", "containerPort", "mountPath", "devicePath", "ip", "topologyKey", "type")
# what a patch names to find its object, not what it sets
IDENTITY: tuple[Path, ...] = (("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace"))
# how a reference to a remote base looks: a URL, an scp-like git address, a repository host, a `?ref=`
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@|^(github|gitlab|bitbucket)\.(com|org)/|\?ref=|\?version=|//",
                     re.IGNORECASE)
_MISSING = object()


@dataclass
class Patch:
    """A patch a kustomization lists: its documents with their spans, and the objects it targets."""

    file: str                     # the patch file, or the kustomization for an inline patch
    entry: Path                   # where the kustomization lists it
    docs: list[tuple[Any, dict]]  # (data, spans); one list of operations for a JSON 6902 patch
    target: dict | None
    inline: bool = False


@dataclass
class Kustomization:
    file: str                     # repository-relative path of kustomization.yaml
    directory: str
    data: dict
    spans: dict
    bases: list[str] = field(default_factory=list)        # directories of the kustomizations it builds on
    resources: list[str] = field(default_factory=list)    # resource files it lists
    patches: list[Patch] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)   # (entry, why): remote or outside bases


def render(job: RenderJob) -> Rendered:
    out = Rendered()
    found = _find(job)
    claimed = _claimed(job, found, out)
    if not found:
        return out
    for kust in found.values():
        out.replaced.update(p.file for p in kust.patches if not p.inline)
        # what a non-production overlay adds of its own (a debug pod) never reaches production
        if _non_production(kust.directory):
            out.replaced.update(kust.resources)
    used = {base for kust in found.values() for base in kust.bases}
    files = set(job.files)
    # a Component is only a part of the overlays that include it: never built alone
    overlays = [k for d, k in sorted(found.items())
                if (d not in used or d in claimed) and k.data.get("kind") != "Component"
                and not _non_production(d)]
    overlays = [k for k in overlays if files & _closure(k, found)]
    if not overlays:
        return out
    command = _command(job)
    if command is None:
        configured = getattr(job.config, "kustomize_bin", None)
        missing = f"kustomize_bin {one_line(configured)} is not found" if configured else \
            "neither kustomize nor kubectl is on PATH (set kustomize_bin)"
        out.notices.append((overlays[0].file, f"Kustomize overlays not built: {missing}; their patches are not "
                                              "checked as objects"))
        return out
    for kust in overlays:
        for member in _members(kust, found):
            out.replaced.update(member.resources)
    # an overlay whose inputs (every file its build copies, the kustomize version) are unchanged is not built
    store = job.repo.cache
    version = _version(command) if store is not None else None
    cache = RenderCache(store, "kustomize") if store is not None and version is not None else None
    # (key, bytes) per overlay: the build copies the very bytes its key was made from
    inputs = [_build_key(kust, found, job, command, version) for kust in overlays] \
        if cache is not None and version is not None else []
    keys = [key for key, _ in inputs]
    results: list[tuple[list[Problem], list[Any]] | None] = [None] * len(overlays)
    if cache is not None:
        for i, (kust, key) in enumerate(zip(overlays, keys, strict=True)):
            built = cache.get_json(kust.directory, key)
            results[i] = ([], built) if isinstance(built, list) else None
    todo = [i for i, result in enumerate(results) if result is None]
    # kustomize runs in its own process: builds overlap. Mapping the objects back reads documents through the
    # repository (and its cache), so it happens here, one overlay after the other, in the overlays' order.
    # imported here: with it comes logging, which a run that builds no overlay does not need
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(BUILD_WORKERS, os.cpu_count() or 1, len(todo) or 1))) as pool:
        def build(i: int) -> tuple[list[Problem], list[Any]]:
            return _build(overlays[i], found, command, job, inputs[i][1] if inputs else None)

        for i, result in zip(todo, pool.map(build, todo), strict=True):
            results[i] = result
            if cache is not None and not result[0]:     # a failed build (maybe a timeout) is built again
                cache.put_json(overlays[i].directory, keys[i], result[1])
    if cache is not None:
        cache.save(found)
    for kust, (problems, objects) in zip(overlays, [r for r in results if r is not None], strict=True):
        out.problems.extend(problems)
        for data in objects:
            doc = _document(data, kust, found, job)
            if doc is not None:
                out.docs.append(doc)
    return out


# -- finding kustomizations ---------------------------------------------------------------------

def _find(job: RenderJob) -> dict[str, Kustomization]:
    """Every kustomization of the repository, by directory."""
    repo = job.repo
    out: dict[str, Kustomization] = {}
    # a C-level test of every name first: only the few that end like a kustomization are split
    for rel in (f for f in repo.files if f.endswith(KUSTOMIZATION_NAMES)):
        directory, name = posixpath.split(rel)
        if name in KUSTOMIZATION_NAMES and directory not in out:
            parsed = _yaml(repo, rel)
            data, spans = parsed[0] if parsed else ({}, {})
            out[directory] = _read(rel, directory, data if isinstance(data, dict) else {}, spans, job)
    return out


def _yaml(repo: Any, rel: str) -> list[tuple[Any, dict]]:
    text = repo.read(rel)
    if text is None:
        return []
    try:
        return [(data, spans) for data, spans, _ in load_yaml(text)]
    except LoadError:
        return []


def _read(rel: str, directory: str, data: dict, spans: dict, job: RenderJob) -> Kustomization:
    repo = job.repo
    kust = Kustomization(rel, directory, data, spans)
    for key in ("resources", "bases", "components"):
        entries = data.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, str):
                continue
            if _REMOTE.search(entry):
                kust.refused.append(((key, i), f"remote {key[:-1]} {entry} is not fetched (no network)"))
                continue
            target = _join(directory, entry)
            if target is None or repo.outside(target or "."):
                kust.refused.append(((key, i), f"{key[:-1]} {entry} is outside the repository"))
            elif any(posixpath.join(target, n) in repo.file_set for n in KUSTOMIZATION_NAMES):
                kust.bases.append(target)
            elif target in repo.file_set:
                kust.resources.append(target)
            elif not repo.is_dir(target or "."):
                # kustomize would take a name it cannot find here for a remote base and try to fetch it
                kust.refused.append(((key, i), f"{key[:-1]} {entry} is not in the repository"))
    # generator and transformer configurations may name remote or outside files too (or be written inline)
    for key in ("generators", "transformers", "validators"):
        entries = data.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, str) or "\n" in entry:
                continue
            target = _join(directory, entry)
            if _REMOTE.search(entry):
                kust.refused.append(((key, i), f"remote {key} entry {entry} is not fetched (no network)"))
            elif target is None or repo.outside(target or "."):
                kust.refused.append(((key, i), f"{key} entry {entry} is outside the repository"))
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        entries = data.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            patch = _patch(kust, key, i, entry, job)
            if patch is not None:
                kust.patches.append(patch)
    return kust


def _patch(kust: Kustomization, key: str, i: int, entry: Any, job: RenderJob) -> Patch | None:
    where: Path = (key, i)
    target = entry.get("target") if isinstance(entry, dict) else None
    path = entry.get("path") if isinstance(entry, dict) else entry if isinstance(entry, str) else None
    inline = entry.get("patch") if isinstance(entry, dict) else None
    if key == "patchesStrategicMerge" and isinstance(entry, str) and "\n" in entry:
        path, inline = None, entry   # an inline patch written as a list item
    if isinstance(path, str):
        rel = _join(kust.directory, path)
        if rel is None or rel not in job.repo.file_set:
            return None
        return Patch(rel, where, _yaml(job.repo, rel), target if isinstance(target, dict) else None)
    if isinstance(inline, str):
        try:
            parsed = load_yaml(inline)
        except LoadError:
            parsed = []
        entry = where + ("patch",) if isinstance(entry, dict) else where
        span = kust.spans.get(entry) or Span(1)
        shift = _block_shift(job.repo.read(kust.file) or "", span.line)
        docs = [(data, {p: Span(s.line + shift[0], s.col + shift[1], s.end_line + shift[0], s.end_col + shift[1])
                        for p, s in spans.items()} if shift else _flat_spans(data, span))
                for data, spans, _ in parsed]
        return Patch(kust.file, where, docs, target if isinstance(target, dict) else None, inline=True)
    return None


def _block_shift(text: str, line: int) -> tuple[int, int] | None:
    """(lines, columns) from a position in an inline patch to the kustomization, when the patch is a literal
    block (`patch: |`) whose text starts on the next line; None for any other style (its nodes then point at
    the entry)."""
    lines = text.splitlines()
    if not 0 < line < len(lines) or not re.search(r"\|[-+]?\s*(#.*)?$", lines[line - 1]):
        return None
    following = lines[line]
    return line, len(following) - len(following.lstrip(" "))


def _flat_spans(data: Any, span: Span) -> dict:
    spans: dict = {}
    stack: list[tuple[Path, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        spans[path] = span
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (n,), v) for n, v in enumerate(value))
    return spans


def _join(directory: str, ref: str) -> str | None:
    """A kustomization's relative reference as a repository path; None when absolute or above the root."""
    if ref.startswith("/") or "\0" in ref:
        return None
    norm = posixpath.normpath(posixpath.join(directory, ref))
    if norm == ".." or norm.startswith("../"):
        return None
    return "" if norm == "." else norm


def _non_production(directory: str) -> bool:
    """An overlay for an environment that is not production: its directory or the one above is named for one
    (overlays/dev, environments/staging/eu-west-1), with the names Helm values overlays use."""
    return any(non_production(part) for part in directory.split("/")[-2:] if part)


def _claimed(job: RenderJob, found: dict[str, Kustomization], out: Rendered) -> set[str]:
    """Directories that services name under spec.deploy.kustomize (a directory or its kustomization.yaml). A
    named directory with no kustomization is a failed render: the service says it deploys what is not there."""
    claimed = set()
    for svc in job.graph.services:
        for claim in svc.claims:
            if claim.kind != "kustomize" or any(ch in claim.target for ch in "*?["):
                continue
            target = claim.target.rstrip("/")
            if posixpath.basename(target) in KUSTOMIZATION_NAMES:
                target = posixpath.dirname(target)
            if target in found:
                claimed.add(target)
            elif job.repo.is_dir(target or "."):
                span = svc.manifest.locate(claim.path)
                out.problems.append(Problem(
                    RENDER_FAILED, svc.manifest.file, span.line, span.col,
                    f"{one_line(svc.name)}: Kustomize overlay {one_line(target or '.')} has no kustomization.yaml; "
                    "nothing of it was built or checked", f"kustomize/{target}"))
    return claimed


def _members(kust: Kustomization, found: dict[str, Kustomization]) -> list[Kustomization]:
    """The kustomization and every one it builds on, each once."""
    seen: dict[str, Kustomization] = {}
    stack = [kust]
    while stack:
        k = stack.pop()
        if k.directory in seen:
            continue
        seen[k.directory] = k
        stack.extend(found[b] for b in k.bases if b in found)
    return list(seen.values())


def _closure(kust: Kustomization, found: dict[str, Kustomization]) -> set[str]:
    """Files an overlay's build reads that the run may look at: kustomizations, resources, patches."""
    out: set[str] = set()
    for k in _members(kust, found):
        out.add(k.file)
        out.update(k.resources)
        out.update(p.file for p in k.patches)
    return out


# -- running kustomize --------------------------------------------------------------------------

def _command(job: RenderJob) -> list[str] | None:
    """`kustomize build` or `kubectl kustomize`: the configured binary, else the first of them on PATH.
    The binary may come from the checked repository's config: only a kustomize or kubectl outside the
    repository is run, never another program."""
    configured = getattr(job.config, "kustomize_bin", None)
    if configured:
        name = posixpath.basename(configured)
        if not name.startswith(("kustomize", "kubectl")):
            raise UsageError(f"kustomize_bin: {one_line(configured)} is not a kustomize or kubectl binary")
        found = shutil.which(configured)
        if found is None:
            return None
        real, root = os.path.realpath(found), os.path.realpath(job.root)
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            raise UsageError(f"kustomize_bin: {one_line(configured)} is inside the checked repository")
        return [found, "kustomize"] if name.startswith("kubectl") else [found, "build"]
    for name, sub in (("kustomize", "build"), ("kubectl", "kustomize")):
        found = shutil.which(name)
        if found is not None:
            return [found, sub]
    return None


def _build(kust: Kustomization, found: dict[str, Kustomization], command: list[str],
           job: RenderJob, files: dict[str, bytes] | None = None) -> tuple[list[Problem], list[Any]]:
    """The objects kustomize builds from an overlay, or the problems that kept it from building them. Runs in a
    worker thread: it only reads the repository's files, never its document cache."""
    problems: list[Problem] = []
    members = _members(kust, found)
    for member in members:
        for entry, why in member.refused:
            span = member.spans.get(entry) or Span(1)
            problems.append(Problem(RENDER_FAILED, member.file, span.line, span.col,
                                    f"Kustomize overlay {one_line(kust.directory or '.')} not built: "
                                    f"{one_line(why)}", f"kustomize/{kust.directory}"))
    if problems:
        return problems, []
    with tempfile.TemporaryDirectory(prefix="prr-lint-kustomize-") as tmp:
        source = os.path.join(tmp, "src")
        copied = _copy(job, _inputs(kust, found, job), source, files)
        if copied is None:
            return [_failed(kust, f"more than {MAX_COPY_FILES} files under its kustomizations")], []
        wrapper = os.path.join(tmp, "build")
        os.mkdir(wrapper)
        overlay = posixpath.join("../src", kust.directory) if kust.directory else "../src"
        # JSON is YAML: a directory name from the repository stays one quoted string, whatever it holds
        with open(os.path.join(wrapper, "kustomization.yaml"), "w", encoding="utf-8") as fh:
            json.dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                       "resources": [overlay], "buildMetadata": ["originAnnotations", "transformerAnnotations"]}, fh)
        try:
            proc = subprocess.run(command + [wrapper], cwd=tmp, capture_output=True, timeout=BUILD_TIMEOUT,
                                  env=_offline_env(tmp), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return [_failed(kust, f"kustomize did not finish within {BUILD_TIMEOUT}s")], []
        except OSError as e:
            return [_failed(kust, f"kustomize could not be run: {e.strerror}")], []
        if proc.returncode != 0:
            message = _error_message(proc.stderr.decode("utf-8", "replace"), tmp)
            if "buildMetadata" in message:   # the wrapper's own field: this kustomize predates origin annotations
                message += " (origin annotations need kustomize 4.5.4 or later: set kustomize_bin)"
            return [_failed(kust, message or f"kustomize exited with status {proc.returncode}")], []
        if len(proc.stdout) > MAX_OUTPUT:
            return [_failed(kust, f"kustomize output is larger than {MAX_OUTPUT >> 20} MiB")], []
        try:
            built = list(yaml.load_all(proc.stdout, Loader=_OutputLoader))
        except (yaml.YAMLError, RecursionError) as e:
            return [_failed(kust, f"kustomize output is not YAML: {e}")], []
        # aliases are shared when read: a few bytes could stand for more nodes than any rule can walk
        if _nodes_over(built, MAX_NODES_PER_BYTE * len(proc.stdout) + MIN_NODE_BUDGET):
            return [_failed(kust, "kustomize output expands to too many nodes (YAML aliases?)")], []
    return [], built


# kubectl logs the error through klog: `E1202 09:50:53.212603   11047 run.go:72] "command failed" err="..."`
_KLOG = re.compile(r'^[IWEF]\d{4} [\d:.]+\s+\d+ [^\]]*\] (?:"command failed" err=)?')
# the layer of the error that is about the temporary wrapper, not the overlay
_WRAPPER = re.compile(r"^accumulating resources: accumulation err='accumulating resources from '\.\./src[^']*': "
                      r"'[^']*' must resolve to a file': (?:couldn't make target for path '[^']*': |"
                      r"recursed accumulation of path '[^']*': )?")


def _error_message(stderr: str, tmp: str) -> str:
    """kustomize's error, as a person reads it: without the log prefix, the wrapper and the temporary paths."""
    text = stderr.strip()
    klog = _KLOG.match(text)
    if klog:
        text = text[klog.end():]
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    text = text.removeprefix("Error: ")
    text = _WRAPPER.sub("", text)
    for prefix in (os.path.join(tmp, "src") + "/", "../src/", tmp + "/"):
        text = text.replace(prefix, "")
    return text.strip()


def _nodes_over(data: Any, budget: int) -> bool:
    """Whether `data`, walked as the rules walk it (a shared alias once per use), has more than `budget` nodes."""
    stack = [data]
    while stack:
        budget -= 1
        if budget < 0:
            return True
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


class _OutputLoader(yaml.CSafeLoader):
    """kustomize's output read as the loaders read YAML (keys as written, dates as text), without their spans:
    a built object's spans come from its sources, and its YAML is kustomize's, not the repository's."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        return {key.value if isinstance(key, yaml.ScalarNode) else str(self.construct_object(key, deep=True)):
                self.construct_object(value, deep=deep) for key, value in node.value}


_OutputLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)
_OutputLoader.add_constructor("tag:yaml.org,2002:binary", lambda loader, node: node.value)


def _failed(kust: Kustomization, why: str) -> Problem:
    text = one_line(why)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "..."
    span = kust.spans.get(()) or Span(1)
    return Problem(RENDER_FAILED, kust.file, span.line, span.col,
                   f"Kustomize overlay {one_line(kust.directory or '.')} could not be built: {text}",
                   f"kustomize/{kust.directory}")


def _offline_env(home: str) -> dict[str, str]:
    """kustomize's environment: nothing of the caller's (not even PATH: a local build runs no other program),
    and every way to the network closed."""
    unreachable = "http://127.0.0.1:9"
    return {"PATH": "", "HOME": home, "KUBECONFIG": os.devnull,
            "HTTP_PROXY": unreachable, "HTTPS_PROXY": unreachable, "http_proxy": unreachable,
            "https_proxy": unreachable, "NO_PROXY": "", "no_proxy": "", "GIT_ALLOW_PROTOCOL": "none",
            "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


def _inputs(kust: Kustomization, found: dict[str, Kustomization], job: RenderJob) -> list[str]:
    """The repository files an overlay's build is given: those under its kustomizations' directories, but not
    those of other kustomizations nested there (the overlay does not build on them) unless one names them."""
    members = _members(kust, found)
    others = [d for d in found if d not in {m.directory for m in members}]
    listed = {f for m in members for f in m.resources + [p.file for p in m.patches]}
    return _chosen(job, [m.directory for m in members], others, listed)


def _read_input(job: RenderJob, rel: str) -> bytes | None:
    """A file's bytes as a build gets them: inside the repository, within max_file_size, else None."""
    real = job.repo.real(rel)
    if real is None:
        return None
    try:
        raw = read_bytes(real, job.repo.max_file_size)
    except LoadError:
        return None
    return raw if len(raw) <= job.repo.max_file_size else None


def _version(command: list[str]) -> str | None:
    """What the build key names of the binary: its path and version output (None: unknown, then no cache)."""
    asks = [command[0], "version", "--client"] if command[1] == "kustomize" else [command[0], "version"]
    try:
        with tempfile.TemporaryDirectory(prefix="prr-lint-kustomize-") as home:
            proc = subprocess.run(asks, capture_output=True, timeout=BUILD_TIMEOUT, env=_offline_env(home),
                                  stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{command}\n{proc.stdout.decode('utf-8', 'replace')}" if proc.returncode == 0 and proc.stdout else None


def _build_key(kust: Kustomization, found: dict[str, Kustomization], job: RenderJob, command: list[str],
               version: str) -> tuple[str, dict[str, bytes]]:
    """The key of an overlay's build (the binary, the overlay, the bytes of every file it is given) and those
    bytes."""
    inputs = _inputs(kust, found, job)
    files = {} if len(inputs) > MAX_COPY_FILES else \
        {rel: raw for rel in inputs if (raw := _read_input(job, rel)) is not None}
    return render_key("kustomize", version, kust.directory, str(len(inputs)), files.items()), files


def _chosen(job: RenderJob, directories: list[str], others: list[str], listed: set[str]) -> list[str]:
    """The files under `directories`, but not those of the kustomizations in `others` unless `listed` names them."""
    repo = job.repo
    members = set(directories)
    nested = [o for o in others if any(not p or o.startswith(p + "/") for p in members)]
    # a file goes with the innermost kustomization directory it is in: copied when that one is the overlay's
    innermost = sorted(members | set(nested), key=len, reverse=True)

    def wanted(rel: str) -> bool:
        home = next((d for d in innermost if not d or rel.startswith(d + "/")), None)
        return home in members

    # only the files under the members' directories are looked at: a slice of the sorted listing each, so
    # gathering every overlay's inputs does not walk the whole repository once per overlay
    picked = {rel for rel in listed if rel in repo.file_set}
    for directory in members:
        picked.update(rel for rel in _under(repo.files, directory) if wanted(rel))
    return sorted(picked)


def _under(files: list[str], directory: str) -> list[str]:
    """The paths under `directory` in the sorted listing `files` (all of them for the root)."""
    if not directory:
        return files
    # "/" sorts just before "0": every "dir/..." path lies between the two bounds
    return files[bisect.bisect_left(files, directory + "/"):bisect.bisect_left(files, directory + "0")]


def _copy(job: RenderJob, chosen: list[str], dest: str, files: dict[str, bytes] | None = None) -> int | None:
    """Copy the files `chosen` (_inputs) into `dest`, with the bytes in `files` when already read: only files
    inside the repository, within max_file_size, never through a symlink out of it. None when there are too many."""
    if len(chosen) > MAX_COPY_FILES:
        return None
    for rel in chosen:
        raw = files.get(rel) if files is not None else _read_input(job, rel)
        if raw is None:
            continue
        target = os.path.join(dest, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(raw)
    return len(chosen)


# -- mapping built objects back to their sources ------------------------------------------------

def _document(data: Any, kust: Kustomization, found: dict[str, Kustomization], job: RenderJob) -> Document | None:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return None
    metadata: dict = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    annotations: dict = metadata["annotations"] if isinstance(metadata.get("annotations"), dict) else {}
    origin = _annotation(annotations.get(ORIGIN))
    transformations = _annotation(annotations.get(TRANSFORMATIONS))
    for key in BUILD_ANNOTATIONS:
        annotations.pop(key, None)
    if "annotations" in metadata and not annotations:
        del metadata["annotations"]
    by_file: dict[str, Kustomization] = {k.file: k for k in found.values()}
    origin_file = _source_path(origin.get("path") if isinstance(origin, dict) else None) or \
        _source_path(origin.get("configuredIn") if isinstance(origin, dict) else None) or kust.file

    spans: SpanSink
    origins: dict[Path, str] = {}
    base = _base_document(job, origin_file, data)
    names = {metadata.get("name"), base.get(("metadata", "name")) if base is not None else None} - {None}
    if base is not None:
        # the base's spans, looked up when asked (what _map(patch=False) would copy): a large base such as a
        # CRD is not copied path by path into every overlay that builds it. Its origins would all be
        # origin_file, which the document's ORIGINS leaves out anyway.
        spans = _BuiltSpans(base.data, base.spans, data)
    else:
        # a generated object (configMapGenerator, secretGenerator): all of it at its generator's entry
        generator = by_file.get(origin_file)
        entry = _generator_entry(generator, data) if generator is not None else None
        spans = _flat_spans(data, generator.spans.get(entry) or Span(1)) if generator is not None and entry \
            else {(): Span(1)}
    # what each kustomization on the way changed, in the order kustomize applied them
    seen: list[str] = []
    for step in transformations if isinstance(transformations, list) else []:
        configured = _source_path(step.get("configuredIn")) if isinstance(step, dict) else None
        if configured is not None and configured not in seen:
            seen.append(configured)
    for configured in seen:
        changer = by_file.get(configured)
        if changer is None:
            continue
        _map_metadata(changer, data, spans, origins)
        for patch in changer.patches:
            if _targets(patch, data, names):
                _apply_patch(patch, data, spans, origins)
        _map_replicas(changer, data, names, spans, origins)
        _map_images(changer, data, spans, origins)
    file = origin_file
    return Document("k8s", file, data, spans, base.index if base is not None else 0,
                    meta={ORIGINS: {p: f for p, f in origins.items() if f != file}, "overlay": kust.file,
                          DEPLOYED_BY: kust.file})


def _annotation(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    try:
        return yaml.load(value, Loader=_OutputLoader)
    except yaml.YAMLError:
        return None


def _source_path(value: Any) -> str | None:
    """A path kustomize reports relative to the wrapper (`../src/base/deployment.yaml`) as a repository one."""
    if not isinstance(value, str) or not value.startswith("../src/"):
        return None
    return posixpath.normpath(value[len("../src/"):])


def _base_document(job: RenderJob, file: str, built: dict) -> Document | None:
    """The document of the origin file the object was built from: same kind, and the name it had there."""
    docs = [d for d in job.repo.load(file).docs if d.kind == "k8s" and isinstance(d.data, dict)
            and d.data.get("kind") == built.get("kind")] if file in job.repo.candidates else []
    name = str(built.get("metadata", {}).get("name", ""))
    exact = [d for d in docs if d.get(("metadata", "name")) == name]
    within = sorted((d for d in docs if str(d.get(("metadata", "name"), "")) in name),
                    key=lambda d: -len(str(d.get(("metadata", "name")))))
    return (exact or within or docs or [None])[0]


def _map(src: Any, src_spans: Mapping, src_path: Path, built: Any, built_path: Path, file: str,
         spans: SpanSink, origins: dict[Path, str], patch: bool) -> None:
    """Give the nodes of `built` that `src` set the span of the source line. A patch takes over the scalars it
    sets, what it deletes (null, `$patch: delete`) and what it adds; a mapping it only merges into keeps the
    base's line, so a finding about what the base lacks still points at the base."""
    span = src_spans.get(src_path)
    directive = isinstance(src, dict) and src.get("$patch") in ("delete", "replace")
    if patch and built_path in IDENTITY:
        return
    if span is not None and (not patch or built_path not in spans or directive or src is None
                             or not isinstance(src, (dict, list))
                             or (isinstance(src, list) and not all(isinstance(v, dict) for v in src))):
        spans[built_path] = span
        origins[built_path] = file
    if isinstance(src, dict):
        for key, value in src.items():
            if isinstance(key, str) and key.startswith("$"):
                continue
            child = built.get(key, _MISSING) if isinstance(built, dict) else _MISSING
            _map(value, src_spans, src_path + (key,), child, built_path + (key,), file, spans, origins, patch)
    elif isinstance(src, list):
        for i, item in enumerate(src):
            j = _matching_item(item, i, built)
            if j is not None:
                _map(item, src_spans, src_path + (i,), built[j], built_path + (j,), file, spans, origins, patch)


class _BuiltSpans(Mapping):
    """The spans of a built object: those set by its patches, metadata, replicas and images (`own`) over those
    of the base document it was built from. A base span is found when asked, by following the built path back
    to the base the way _map(patch=False) walks forward; where _map writes a path twice (two base list items
    matching one built item), the later write wins here too."""

    def __init__(self, base: Any, base_spans: Mapping[Path, Span], built: Any):
        self.base, self.base_spans, self.built = base, base_spans, built
        self.own: dict[Path, Span] = {}

    def __setitem__(self, path: Path, span: Span) -> None:
        self.own[path] = span

    def __getitem__(self, path: Path) -> Span:
        span = self.own.get(path)
        if span is None:
            span = _base_span(self.base, self.base_spans, (), self.built, path)
        if span is None:
            raise KeyError(path)
        return span

    def _all(self) -> dict[Path, Span]:
        every: dict[Path, Span] = {}
        _map(self.base, self.base_spans, (), self.built, (), "", every, {}, patch=False)
        return every | self.own

    def __iter__(self) -> Iterator[Path]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


# where the mapping steps write spans: a plain dict, or a built object's spans over its base
SpanSink = dict[Path, Span] | _BuiltSpans


def _base_span(src: Any, src_spans: Mapping[Path, Span], src_path: Path, built: Any, path: Path) -> Span | None:
    """The span _map(patch=False) gives the built `path` (relative to `built`) from the base node `src`."""
    if not path:
        return src_spans.get(src_path)
    key, rest = path[0], path[1:]
    if isinstance(src, dict):
        if key not in src or (isinstance(key, str) and key.startswith("$")):
            return None
        child = built.get(key, _MISSING) if isinstance(built, dict) else _MISSING
        return _base_span(src[key], src_spans, src_path + (key,), child, rest)
    if isinstance(src, list) and isinstance(built, list) and isinstance(key, int):
        for i in range(len(src) - 1, -1, -1):     # the last base item that maps here wrote last
            if _matching_item(src[i], i, built) == key:
                span = _base_span(src[i], src_spans, src_path + (i,), built[key], rest)
                if span is not None:
                    return span
    return None


def _matching_item(item: Any, index: int, built: Any) -> int | None:
    """The index in the built list of a source list item: by its merge key (a container by name), else by position."""
    if not isinstance(built, list):
        return None
    if isinstance(item, dict):
        for key in MERGE_KEYS:
            if key in item:
                return next((j for j, b in enumerate(built) if isinstance(b, dict) and b.get(key) == item[key]), None)
    return index if index < len(built) else None


def _targets(patch: Patch, obj: dict, names: set) -> bool:
    """Whether a patch applies to a built object: its `target:` selector, else its own kind and name. A name
    written as a pattern, or a selector more complex than `key=value` pairs, counts as a match (the object's
    transformer annotation already says that this kustomization changed it); a pattern from the repository is
    never run as a Python regular expression, which could backtrack for ever."""
    kind = obj.get("kind")
    metadata: dict = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
    if patch.target is not None:
        target = patch.target
        if isinstance(target.get("kind"), str) and target["kind"] != kind:
            return False
        name = target.get("name")
        if isinstance(name, str) and not re.search(r"[\\^$|?*+()\[\]{}]", name) and name not in names:
            return False
        for key, where in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
            if isinstance(target.get(key), str) and not _selects(target[key], metadata.get(where)):
                return False
        return True
    return any(isinstance(d, dict) and d.get("kind") == kind and d.get("metadata", {}).get("name") in names
               for d, _ in patch.docs)


def _selects(selector: str, labels: Any) -> bool:
    """A `key=value,key!=value` selector against labels; any other form of selector counts as a match."""
    labels = labels if isinstance(labels, dict) else {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        m = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term)
        if m is None:
            return True
        key, op, value = m.groups()
        if (labels.get(key) == value) != (op != "!="):
            return False
    return True


def _apply_patch(patch: Patch, obj: dict, spans: SpanSink, origins: dict[Path, str]) -> None:
    for data, patch_spans in patch.docs:
        if isinstance(data, list):
            _map_json6902(data, patch_spans, patch.file, obj, spans, origins)
        elif isinstance(data, dict) and (patch.target is not None or data.get("kind") == obj.get("kind")):
            _map(data, patch_spans, (), obj, (), patch.file, spans, origins, patch=True)


def _map_json6902(ops: list, op_spans: dict, file: str, obj: dict, spans: SpanSink,
                  origins: dict[Path, str]) -> None:
    for i, op in enumerate(ops):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            continue
        path = _pointer(op["path"], obj)
        span = op_spans.get((i, "value")) or op_spans.get((i,))
        if path is None or span is None:
            continue
        spans[path] = span
        origins[path] = file
        if op.get("op") in ("add", "replace") and "value" in op:
            built = _get(obj, path)
            _map(op["value"], op_spans, (i, "value"), built, path, file, spans, origins, patch=False)


def _pointer(pointer: str, obj: Any) -> Path | None:
    """A JSON pointer as a path into the built object (`-`, the end of a list, is its last item)."""
    if not pointer.startswith("/"):
        return None
    path: list[str | int] = []
    value = obj
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list):
            index = len(value) - 1 if token == "-" else int(token) if token.isdigit() else None
            if index is None:
                return None
            path.append(index)
            value = value[index] if 0 <= index < len(value) else None
        else:
            path.append(token)
            value = value.get(token) if isinstance(value, dict) else None
    return tuple(path)


def _get(obj: Any, path: Path) -> Any:
    for key in path:
        try:
            obj = obj[key]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return obj


GENERATORS = ("configMapGenerator", "secretGenerator")
# where a kustomization's labels go in an object besides metadata.labels (selectors and the pod template)
LABEL_PLACES: tuple[Path, ...] = (("metadata", "labels"), ("spec", "selector", "matchLabels"), ("spec", "selector"),
                                  ("spec", "template", "metadata", "labels"))


def _generator_entry(kust: Kustomization, obj: dict) -> Path | None:
    """The configMapGenerator/secretGenerator entry that made an object (its name, maybe with a hash suffix)."""
    name = str(obj.get("metadata", {}).get("name", ""))
    for key in GENERATORS:
        entries = kust.data.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            wanted = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(wanted, str) and wanted and (name == wanted or wanted in name):
                return (key, i)
    return None


def _map_metadata(kust: Kustomization, obj: dict, spans: SpanSink, origins: dict[Path, str]) -> None:
    """What a kustomization's `namespace:`, `namePrefix:`/`nameSuffix:`, labels and annotations set."""
    def set_at(path: Path, where: Path) -> None:
        span = kust.spans.get(where)
        if span is not None and _get(obj, path) is not _MISSING:
            spans[path] = span
            origins[path] = kust.file

    data = kust.data
    if isinstance(data.get("namespace"), str):
        set_at(("metadata", "namespace"), ("namespace",))
    for key in ("namePrefix", "nameSuffix"):
        if isinstance(data.get(key), str):
            set_at(("metadata", "name"), (key,))
    labels = data.get("commonLabels")
    for label in labels if isinstance(labels, dict) else {}:
        for place in LABEL_PLACES:
            set_at(place + (label,), ("commonLabels", label))
    entries = data.get("labels")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        pairs = entry.get("pairs") if isinstance(entry, dict) else None
        for label in pairs if isinstance(pairs, dict) else {}:
            for place in LABEL_PLACES:
                set_at(place + (label,), ("labels", i, "pairs", label))
    annotations = data.get("commonAnnotations")
    for name in annotations if isinstance(annotations, dict) else {}:
        set_at(("metadata", "annotations", name), ("commonAnnotations", name))


def _map_replicas(kust: Kustomization, obj: dict, names: set, spans: SpanSink,
                  origins: dict[Path, str]) -> None:
    entries = kust.data.get("replicas")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and entry.get("name") in names and "replicas" in obj.get("spec", {}):
            span = kust.spans.get(("replicas", i, "count")) or kust.spans.get(("replicas", i))
            if span is not None:
                spans[("spec", "replicas")] = span
                origins[("spec", "replicas")] = kust.file


def _map_images(kust: Kustomization, obj: dict, spans: SpanSink, origins: dict[Path, str]) -> None:
    entries = kust.data.get("images")
    if not isinstance(entries, list):
        return
    for path, image in _images(obj):
        repository = re.split(r"@", image, maxsplit=1)[0]
        repository = repository.rsplit(":", 1)[0] if ":" in repository.rsplit("/", 1)[-1] else repository
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and repository in (entry.get("newName"), entry.get("name")):
                span = next((kust.spans[("images", i, k)] for k in ("newTag", "digest", "newName")
                             if ("images", i, k) in kust.spans), kust.spans.get(("images", i)))
                if span is not None:
                    spans[path] = span
                    origins[path] = kust.file


def _images(obj: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every container image of an object: (path, image) under any `containers`/`initContainers` list."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("containers", "initContainers", "ephemeralContainers") and isinstance(value, list):
                for i, container in enumerate(value):
                    if isinstance(container, dict) and isinstance(container.get("image"), str):
                        yield path + (key, i, "image"), container["image"]
            elif isinstance(value, (dict, list)):
                yield from _images(value, path + (key,))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _images(value, path + (i,))
