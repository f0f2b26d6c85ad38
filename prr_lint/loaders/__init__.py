"""Turn files into Documents. Classification is by content (and name where content is not enough)."""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field

from ..model import Document, Path, Span
from .errors import LoadError
from .templates import BROKEN_NOTICE, has_placeholders, is_template_document, skeleton_notice, templates_notice

YAML_EXT = (".yaml", ".yml")
# cheap substrings that a YAML file of a kind we read must contain; others are skipped unparsed
_YAML_MARKERS = ("apiVersion", "groups:", "version:", "kind:")
VALUES_NAMES = ("values.yaml", "values.yml")
OPENSLO = ("openslo/v1", "openslo/v1alpha")
WAIVER_FILE = ".prr-waivers.yaml"
CONFIG_FILES = (".prr-lint.yaml", ".prr-lint.yml")
DUPLICATE_KEYS = "duplicate_keys"   # Document.meta key: [{path, key, line, col, first}] (rule PRR008)


@dataclass(slots=True)
class Loaded:
    """What one file gave: documents, or an error, or a notice that it was skipped (one per file of a run)."""

    file: str
    docs: list = field(default_factory=list)
    error: LoadError | None = None
    notice: str | None = None


def is_values_file(name: str) -> bool:
    return name in VALUES_NAMES or (name.startswith("values-") or name.startswith("values.") or
                                    name.endswith(".values.yaml") or name.endswith(".values.yml")) \
        and name.endswith(YAML_EXT)


def candidate_kind(rel: str, chart_dirs: set) -> str | None:
    """Which loader a file goes to, from its name alone; None means not ours."""
    directory, _, name = rel.rpartition("/")     # called once per listed file: no posixpath call
    if name.endswith(".tf"):
        return "terraform"
    if name.endswith(".json"):
        return "json"
    if not name.endswith(YAML_EXT) or name in CONFIG_FILES:
        return None
    if name == WAIVER_FILE:
        return "waivers"
    # chart templates are Go templates, not YAML: never parse them
    if "templates/" in rel:
        parts = rel.split("/")
        for i, part in enumerate(parts[:-1]):
            if part == "templates" and "/".join(parts[:i]) in chart_dirs:
                return None
    if directory in chart_dirs:
        if name in ("Chart.yaml", "Chart.yml"):
            return "helm-chart"
        if is_values_file(name):
            return "helm-values"
    elif is_values_file(name) and values_chart(directory, chart_dirs) is not None:
        return "helm-values"   # env/prod/values.yaml: checked only as an overlay something claims
    return "yaml"


def values_chart(directory: str, chart_dirs: set) -> str | None:
    """The chart a values file in `directory` belongs to: that directory's, else the nearest chart above it."""
    probe = directory
    while True:
        if probe in chart_dirs:
            return probe
        if not probe:
            return None
        probe = posixpath.dirname(probe)


def classify(data) -> tuple[str | None, dict]:
    """Document kind of one parsed YAML object."""
    if not isinstance(data, dict):
        return None, {}
    api = data.get("apiVersion")
    kind = data.get("kind")
    if isinstance(api, str):
        if api == "prr-lint/v1" and kind == "Service":
            return "service", {}
        if api.startswith("backstage.io/"):
            return "backstage", {}
        if api in OPENSLO:
            return "openslo", {}
        if api.startswith("sloth.slok.dev/"):
            return "sloth", {"slos_path": ("spec", "slos"), "service_path": ("spec", "service")}
        if kind == "PrometheusRule":
            return "prometheus-rules", {"groups_path": ("spec", "groups")}
        if isinstance(kind, str) and kind:
            return "k8s", {}
    if data.get("version") == "prometheus/v1" and "slos" in data:
        return "sloth", {"slos_path": ("slos",), "service_path": ("service",)}
    groups = data.get("groups")
    if isinstance(groups, list) and groups and all(isinstance(g, dict) and "rules" in g for g in groups):
        return "prometheus-rules", {"groups_path": ("groups",)}
    return None, {}


def _shift(spans: dict, prefix: tuple) -> dict:
    n = len(prefix)
    return {p[n:]: s for p, s in spans.items() if p[:n] == prefix}


def _yaml_documents(rel: str, text: str, forced: str | None, meta: dict) -> list[Document]:
    from .yamlread import load_yaml

    docs: list[Document] = []
    duplicates: list = []
    # load_yaml fills `duplicates` with one entry per document it returns
    for (data, spans, _line), dups in zip(load_yaml(text, duplicates), duplicates, strict=True):
        if forced:
            docs.append(Document(forced, rel, data if data is not None else {}, spans, len(docs),
                                 _with_duplicates(meta, dups)))
            continue
        if isinstance(data, dict) and data.get("kind") == "List" and isinstance(data.get("items"), list):
            items = [(item, _shift(spans, ("items", i)), [d for d in dups if d["path"][:2] == ["items", i]])
                     for i, item in enumerate(data["items"])]
        else:
            items = [(data, spans, dups)]
        for item, item_spans, item_dups in items:
            kind, extra = classify(item)
            if kind:
                docs.append(Document(kind, rel, item, item_spans, len(docs),
                                     _with_duplicates({**meta, **extra}, item_dups)))
    return docs


def _with_duplicates(meta: dict, duplicates: list) -> dict:
    """A document's meta with the keys written twice in it (rule PRR008), only when there are some."""
    return {**meta, DUPLICATE_KEYS: duplicates} if duplicates else dict(meta)


MAX_JSON_DEPTH = 200   # as for YAML: deeper data would overflow the recursion of json, the cache and the rules
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_MAX_DIGITS = 4000     # int() refuses more than 4300 digits (sys.get_int_max_str_digits)


def _json_int(text: str):
    """An integer of plan JSON; one too long for int() becomes a float (inf), a value no rule trusts."""
    return int(text) if len(text) <= _MAX_DIGITS else float(text)


def _check_json_depth(text: str) -> None:
    """LoadError at the first bracket nested deeper than MAX_JSON_DEPTH (strings skipped: in JSON a
    quote always starts a string, so this count is exact)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group(0)
        if tok in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
                raise LoadError(f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels", line, col)
        elif tok in "]}":
            depth -= 1


def _plan_document(rel: str, text: str) -> list[Document]:
    if '"format_version"' not in text or ('"resource_changes"' not in text and '"planned_values"' not in text):
        return []
    _check_json_depth(text)
    try:
        data = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as e:
        raise LoadError(f"invalid JSON: {e.msg}", e.lineno, e.colno) from None
    except RecursionError:  # pragma: no cover - _check_json_depth stops this first
        raise LoadError(f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(data, dict) or "format_version" not in data:
        return []
    spans: dict[Path, Span] = {(): Span(1, 1)}
    try:  # positions: JSON is YAML, and libyaml gives every node a mark; minified plans are all line 1
        from .yamlread import load_yaml

        spans = load_yaml(text)[0][1]
    except LoadError:
        pass
    return [Document("terraform-plan", rel, data, spans, 0, {})]


def load_text(rel: str, text: str, how: str, chart_dirs: set) -> list[Document]:
    """Parse one file's text. Raises LoadError."""
    directory = posixpath.dirname(rel)
    if how == "terraform":
        from .hcl import load_hcl

        data, spans = load_hcl(text)
        return [Document("terraform", rel, data, spans, 0, {"module": directory})]
    if how == "json":
        return _plan_document(rel, text)
    if how == "helm-chart":
        return _yaml_documents(rel, text, "helm-chart", {"chart": directory})
    if how == "helm-values":
        name = posixpath.basename(rel)
        chart = values_chart(directory, chart_dirs)
        chart = directory if chart is None else chart
        return _yaml_documents(rel, text, "helm-values", {"chart": chart, "overlay": name not in VALUES_NAMES
                                                          or chart != directory, "nested": chart != directory})
    if how == "waivers":
        return _yaml_documents(rel, text, "waivers", {})
    if how == "yaml":
        if not any(m in text for m in _YAML_MARKERS):
            return []
        return _yaml_documents(rel, text, None, {})
    return []


def read_bytes(path: str, max_size: int) -> bytes:
    """At most max_size + 1 bytes of a file (one more than allowed, to tell that it is too large).
    Opened without blocking and read only when it is a regular file: a FIFO or a device that took the
    place of a checked file would block the run or never end."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise LoadError("not a regular file; not checked")
            # ask for what the file holds: read(max_size + 1) allocates that much for every small file
            data = fh.read(min(st.st_size, max_size) + 1)
            if st.st_size < len(data) <= max_size:   # it grew, or its size is not known: read on
                data += fh.read(max_size + 1 - len(data))
            return data
    except OSError as e:
        raise LoadError(f"cannot read file: {e.strerror}") from None


def decode(raw: bytes, max_size: int) -> str:
    """A file's bytes as text, or LoadError for what we refuse to read."""
    if len(raw) > max_size:
        raise LoadError(f"file is larger than max_file_size ({max_size} bytes); not checked")
    if b"\0" in raw[:8192]:
        raise LoadError("binary file (NUL bytes); not checked")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise LoadError(f"not UTF-8 text (byte 0x{raw[e.start]:02x})", line, col) from None
    return text.lstrip("\ufeff")


def _without_templates(rel: str, text: str, how: str, chart_dirs: set) -> tuple[list[Document], str | None]:
    """A file's documents and a notice: YAML whose placeholders break it is a template (a notice, not a
    PRR000), and so is each document with a placeholder in a one-line value (the others are kept)."""
    if how not in ("yaml", "helm-values") or not has_placeholders(text):
        return load_text(rel, text, how, chart_dirs), None
    try:
        docs = load_text(rel, text, how, chart_dirs)
    except LoadError:
        return [], BROKEN_NOTICE
    kept = [d for d in docs if not is_template_document(d.data)]
    return kept, templates_notice(len(docs) - len(kept)) if len(kept) < len(docs) else None


def load_file(root: str, rel: str, how: str, chart_dirs: set, max_size: int, raw: bytes | None = None) -> Loaded:
    """Documents of one file; `raw` when the caller has read the bytes already (the cache hashes them)."""
    result = Loaded(rel)
    try:
        if raw is None:
            raw = read_bytes(posixpath.join(root, rel), max_size)
        text = decode(raw, max_size)
        if not text.strip():
            if how in ("helm-chart", "terraform"):
                return result
            result.notice = "empty file"
            return result
        result.notice = skeleton_notice(rel)     # a scaffolder skeleton's files, of any kind, are templates
        if result.notice is None:
            result.docs, result.notice = _without_templates(rel, text, how, chart_dirs)
    except LoadError as e:
        result.error = e
    except RecursionError:
        result.error = LoadError("document is nested too deeply to read")
    return result
