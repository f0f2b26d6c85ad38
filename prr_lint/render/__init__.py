"""What gets deployed: renderers turn sources (a Helm chart, a Kustomize overlay) into the objects that reach
the cluster, so the K8S rules check those rather than the templates and patches they are made from.

A renderer is a callable `render(job: RenderJob) -> Rendered`. It is given every document the run read and the
service graph, and answers with the objects it built (Documents whose `file` and spans point at the source line a
person edits), the files whose own documents must no longer be checked as whole objects (a Kustomize patch, a
base reached through its overlays), the problems that make a render failed or partial (PRR005/PRR006 findings),
and notices (a renderer that is not installed). Renderers never raise for a bad input: it is a problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from ..model import Document

if TYPE_CHECKING:
    from ..config import Config
    from ..repo import Repository
    from ..service import ServiceGraph

RENDER_FAILED = "PRR005"      # a chart or overlay that could not be rendered: nothing of it was checked
RENDER_INCOMPLETE = "PRR006"  # rendered without a part (a chart dependency): its results are partial
DRAIN_EVERY = 64              # files parsed between two looks at the charts rendered meanwhile
T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """A render that failed or is partial, at the line a person must fix."""

    rule_id: str                  # RENDER_FAILED or RENDER_INCOMPLETE
    file: str                     # repository-relative
    line: int
    col: int
    message: str
    address: str                  # a stable name for the fingerprint (e.g. "helm/charts/shop")


@dataclass
class Rendered:
    docs: list[Document] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)      # files whose own documents are not checked
    problems: list[Problem] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)   # (file, message)

    def extend(self, other: Rendered) -> None:
        self.docs.extend(other.docs)
        self.replaced |= other.replaced
        self.problems.extend(other.problems)
        self.notices.extend(other.notices)


@dataclass
class RenderJob:
    root: str                     # absolute repository root
    repo: Repository
    graph: ServiceGraph
    config: Config
    docs: Sequence[Document]      # every document the run read
    files: Sequence[str]          # the files the run read (a scoped run renders only what they touch)
    scope: Sequence[str] = ()     # the paths the run checks ("" is the whole project): a template in scope counts


Renderer = Callable[[RenderJob], Rendered]

# (module, function) of each renderer, imported on first use so a run without charts pays nothing
RENDERERS: list[tuple[str, str]] = [(".helm", "render"), (".kustomize", "render")]


def render_all(job: RenderJob) -> Rendered:
    import importlib

    out = Rendered()
    for module, name in RENDERERS:
        renderer: Renderer = getattr(importlib.import_module(module, __package__), name)
        out.extend(renderer(job))
    return out


def inputs(repo: Repository) -> set[str]:
    """The files begin() parses to start the renders (Chart.yaml and values files): parsed before the others."""
    return {rel for rel, how in repo.candidates.items() if how in ("helm-chart", "helm-values")}


def begin(job: RenderJob) -> None:
    """Start the renders whose inputs are known before the run has parsed the repository (Helm charts: their
    files, Chart.yaml and values), so the library renders them in threads while the run parses the rest;
    render_all with the same files and scope finishes them. `job.docs` and `job.graph` are not read."""
    if job.repo.chart_dirs:
        from .helm import begin as begin_helm

        begin_helm(job)


def meanwhile(repo: Repository, files: Iterable[T]) -> Iterator[T]:
    """`files` (or parse pool answers), one by one; every DRAIN_EVERY of them, the charts begun early and rendered
    since are taken apart (documents, template lines, value origins), so that little waits once parsing ends."""
    if not repo.chart_dirs:
        yield from files
        return
    from .helm import drain

    for n, item in enumerate(files, 1):
        yield item
        if n % DRAIN_EVERY == 0:
            drain(repo)
