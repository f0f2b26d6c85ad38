"""The only types rules see: Span, Document, Hit and Finding."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

Path: TypeAlias = tuple[str | int, ...]  # str keys and int indices

KINDS = (
    "service", "backstage", "openslo", "sloth", "k8s", "helm-chart", "helm-values",
    "terraform", "terraform-plan", "prometheus-rules", "waivers",
)
# the one severity order, most severe first; the rank compares them (fail_on, blocking, SARIF levels)
SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}   # error 3, warning 2, info 1
# Document.meta key of a built object (a Kustomize overlay): {path: file} of nodes set in another file than its own
ORIGINS = "origins"
# Document.meta key of a built object: the file that deploys it (an overlay's kustomization.yaml); its owner owns it
DEPLOYED_BY = "deployed_by"
_MISSING = object()


class _SpanFields(NamedTuple):
    line: int
    col: int
    end_line: int
    end_col: int


class Span(_SpanFields):
    """A 1-based source range, as in SARIF regions (end column exclusive).

    A tuple rather than a dataclass: documents hold one per node, and the parse cache rebuilds
    tens of thousands of them on every run.
    """

    __slots__ = ()

    def __new__(cls, line: int, col: int = 1, end_line: int = 0, end_col: int = 0) -> Span:
        if end_line < line:
            end_line = line
        if end_line == line and end_col < col:
            end_col = col
        return super().__new__(cls, line, col, end_line, end_col)


@dataclass(slots=True, eq=False)
class Document:
    """One object read from a file: plain data plus the span of every node, keyed by path.

    Keeping values plain (dict/list/str/int/...) means rules, JSON Schema and Rego all see the same
    data; positions live beside it in `spans` and are only looked at when a finding is made.
    """

    kind: str
    file: str                     # repository-relative POSIX path
    data: Any
    spans: Mapping[Path, Span] = field(default_factory=dict)
    index: int = 0                # position of the object in a multi-document file
    meta: dict[str, Any] = field(default_factory=dict)
    service: str | None = None    # owning service, set by the service graph

    def get(self, path: Path, default: Any = None) -> Any:
        value = self.data
        for key in path:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return default
        return value

    def has(self, path: Path) -> bool:
        return self.get(path, _MISSING) is not _MISSING

    def locate(self, path: Path) -> Span:
        """Span of the deepest existing node on `path`: a missing key points at its parent mapping."""
        path = tuple(path)
        for n in range(len(path), -1, -1):
            span = self.spans.get(path[:n])
            if span is not None:
                return span
        return Span(1, 1)

    def source(self, path: Path) -> tuple[str, Span]:
        """File and span of the deepest existing node on `path`: the nodes of a built object come from
        several files (a base, the patch that changed them), named in meta[ORIGINS]."""
        origins = self.meta.get(ORIGINS)
        if not origins:
            return self.file, self.locate(path)
        path = tuple(path)
        for n in range(len(path), -1, -1):
            span = self.spans.get(path[:n])
            if span is not None:
                return origins.get(path[:n], self.file), span
        return self.file, Span(1, 1)

    @property
    def span(self) -> Span:
        return self.locate(())

    @property
    def address(self) -> str:
        """A logical name that survives moving code around: used in fingerprints and baselines."""
        if "address" in self.meta:
            address: str = self.meta["address"]   # engine.emit_at sets a str
            return address
        data = self.data if isinstance(self.data, dict) else {}
        metadata = data.get("metadata")
        md = metadata if isinstance(metadata, dict) else {}
        if self.kind in ("k8s", "service", "backstage", "openslo") and md.get("name"):
            ns = md.get("namespace")
            return "/".join(str(p) for p in (data.get("kind"), ns, md.get("name")) if p)
        if self.kind == "sloth" and data.get("service"):
            return f"sloth/{data['service']}"
        return f"{self.kind}#{self.index}"

    def logical_path(self, path: Path) -> str:
        """`path` with list indices replaced by the item's name where it has one."""
        parts: list[str] = []
        value = self.data
        for key in path:
            if isinstance(key, int):
                item = value[key] if isinstance(value, list) and -len(value) <= key < len(value) else None
                name = item.get("name") or item.get("alert") or item.get("record") if isinstance(item, dict) else None
                parts.append(f"[{name}]" if isinstance(name, str) else f"[{key}]")
                value = item
            else:
                parts.append(f".{key}")
                value = value.get(key) if isinstance(value, dict) else None
        return "".join(parts).lstrip(".")

    def walk(self, path: Path = ()) -> Iterator[tuple[Path, Any]]:
        """Every (path, value) under `path`, depth first."""
        stack: list[tuple[Path, Any]] = [(tuple(path), self.get(path))]
        while stack:
            p, v = stack.pop()
            yield p, v
            if isinstance(v, dict):
                stack.extend((p + (k,), c) for k, c in reversed(list(v.items())))
            elif isinstance(v, list):
                stack.extend((p + (i,), c) for i, c in reversed(list(enumerate(v))))


@dataclass(slots=True)
class Hit:
    """What a rule yields: a place in a document and a message. The engine makes it a Finding."""

    doc: Document
    path: Path
    message: str
    span: Span | None = None      # only when the place is not a node (e.g. a parse error)
    severity: str | None = None   # a result's own severity (Rego results may carry one); config still wins
    service: str | None = None    # a result's own service name (Rego results may carry one)


@dataclass(slots=True)
class Suppression:
    kind: str                     # "inline", "waiver" or "baseline"
    justification: str = ""
    owner: str = ""
    expires: str = ""
    source: str = ""              # file:line of the waiver


@dataclass(slots=True)
class Finding:
    rule_id: str
    rule_name: str
    severity: str
    message: str
    file: str
    span: Span
    service: str | None = None
    tier: int | None = None
    address: str = ""             # logical address: document address + logical path
    fingerprint: str = ""
    suppression: Suppression | None = None
    service_level: bool = False

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.span.line, self.span.col, self.rule_id, self.message)
