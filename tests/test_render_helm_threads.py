"""How charts are rendered: worker threads whose answers are taken as each render ends (never polled, never in
chart order), a chart given up at its deadline without holding up the others, and charts loaded from an archive
made in memory that render exactly as from a directory. Counted and ordered, never timed."""

import threading

import pytest
from test_render_helm import CHART, chart_repo, helm_sdk  # noqa: F401  (fixture)

from prr_lint.engine import Options, run
from prr_lint.render import helm as helm_renderer
from prr_lint.render.helm import Answer


class Named:
    """A stand-in for a gathered chart: _Renders only hands it to _render_safely."""

    def __init__(self, name: str) -> None:
        self.directory = name


def slow_until(may_end: threading.Event):
    """A render that answers at once with the chart's name, but for the chart named "slow" (after `may_end`)."""
    def render(helm, chart):
        if chart.directory == "slow":
            assert may_end.wait(10)
        return Answer(load_error=chart.directory)

    return render


def test_each_chart_is_answered_as_its_render_ends(monkeypatch):
    first_may_end = threading.Event()
    monkeypatch.setattr(helm_renderer, "_render_safely", slow_until(first_may_end))
    answers = helm_renderer._Renders(None, [Named("slow"), Named("quick")], workers=2).rest()
    # the second chart's answer comes while the first still renders: the caller takes it apart meanwhile
    assert next(answers) == (1, Answer(load_error="quick"))
    first_may_end.set()
    assert next(answers) == (0, Answer(load_error="slow"))
    assert list(answers) == []


def test_a_chart_given_up_at_its_deadline_does_not_hold_up_the_others(monkeypatch):
    never = threading.Event()
    rendered_by: dict[str, str] = {}

    def render(helm, chart):
        rendered_by[chart.directory] = threading.current_thread().name
        if chart.directory == "loops":
            never.wait(30)        # a template that never ends: its thread is left behind
        return Answer(load_error=f"{chart.directory} rendered")

    monkeypatch.setattr(helm_renderer, "_render_safely", render)
    monkeypatch.setattr(helm_renderer, "RENDER_TIMEOUT", 0.3)
    charts = [Named("loops"), Named("a"), Named("b"), Named("c")]
    try:
        answers = dict(helm_renderer._Renders(None, charts, workers=1).rest())
    finally:
        never.set()
    assert answers == {0: Answer(load_error="rendering took longer than 0.3 seconds; given up"),
                       1: Answer(load_error="a rendered"), 2: Answer(load_error="b rendered"),
                       3: Answer(load_error="c rendered")}
    assert sorted(rendered_by) == ["a", "b", "c", "loops"]


def test_one_render_thread_per_core_and_one_more(monkeypatch):
    monkeypatch.setattr(helm_renderer.os, "cpu_count", lambda: 2)
    assert helm_renderer.worker_count() == 3
    monkeypatch.setattr(helm_renderer.os, "cpu_count", lambda: None)
    assert helm_renderer.worker_count() == 2
    monkeypatch.setattr(helm_renderer.os, "cpu_count", lambda: 64)
    assert helm_renderer.worker_count() == helm_renderer.MAX_WORKERS == 16


BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.nothing.here }}\n"
HIDDEN = BROKEN.replace("ConfigMap", "Secret")          # a PRR005 if Helm read it


@pytest.mark.parametrize("extra", [
    {},
    {"charts/shop/templates/.wip.yaml": HIDDEN},                 # Helm never reads a hidden template
    {"charts/shop/templates/.drafts/deployment.yaml": HIDDEN},
    {"charts/shop/templates/broken.yaml": BROKEN},
    {"charts/shop/Chart.yaml": "apiVersion: v2\nname: shop\n"},           # no version: Helm refuses the chart
    {"charts/shop/Chart.yaml": "apiVersion: v2\nname: [shop\n"},
    {"charts/shop/values.yaml": "replicaCount: [3\n"},
], ids=["plain", "hidden-template", "hidden-directory", "broken-template", "no-version", "bad-chart-yaml",
        "bad-values"])
def test_a_chart_from_an_archive_in_memory_renders_as_from_a_directory(tmp_path, monkeypatch, extra):
    root = chart_repo(tmp_path, extra)
    loads: list[str] = []
    real_archive, real_directory = helm_renderer._archive, helm_renderer._needs_directory

    def archive(copy):
        loads.append("archive")
        return real_archive(copy)

    def needs_directory(copy):
        if real_directory(copy):
            loads.append("directory")
            return True
        return False

    def report():
        result = run(Options(paths=[root], root=root, use_cache=False))
        return [(f.rule_id, f.file, f.span.line, f.message) for f in result.findings]

    monkeypatch.setattr(helm_renderer, "_archive", archive)
    monkeypatch.setattr(helm_renderer, "_needs_directory", needs_directory)
    from_archive = report()
    assert loads == ["archive"]
    monkeypatch.setattr(helm_renderer, "_needs_directory", lambda copy: True)
    assert from_archive == report()
    assert loads == ["archive"]


def test_the_hidden_templates_helm_skips_would_be_findings(tmp_path):
    """What makes the hidden-template cases above mean something: the same file, not hidden, is reported."""
    def failed(extra, base):
        root = chart_repo(base, extra)
        return [f.file for f in run(Options(paths=[root], root=root, use_cache=False)).findings
                if f.rule_id == "PRR005"]

    assert failed({"charts/shop/templates/.wip.yaml": HIDDEN}, tmp_path / "hidden") == []
    assert failed({"charts/shop/templates/wip.yaml": HIDDEN}, tmp_path / "shown") == ["charts/shop/templates/wip.yaml"]


@pytest.mark.parametrize("extra", [
    {"charts/shop/.helmignore": "templates/pdb.yaml\n"},
    {"charts/shop/Chart.yaml": CHART.replace("v2", "v1"),
     "charts/shop/requirements.yaml": "dependencies:\n  - name: cache\n    version: 0.3.0\n"
                                      "    repository: https://charts.example.com\n"},
    {"charts/shop/Chart.yaml": CHART + "dependencies:\n  - name: cache\n    version: 0.3.0\n"
                               "    repository: https://charts.example.com\n"},
], ids=["helmignore", "requirements", "dependencies"])
def test_a_chart_with_dependencies_or_a_helmignore_loads_from_a_directory(tmp_path, monkeypatch, extra):
    root = chart_repo(tmp_path, extra)
    made: list[str] = []
    real = helm_renderer.tempfile.TemporaryDirectory

    def directory(*args, **kwargs):
        made.append("directory")
        return real(*args, **kwargs)

    monkeypatch.setattr(helm_renderer.tempfile, "TemporaryDirectory", directory)
    run(Options(paths=[root], root=root, use_cache=False))
    assert made == ["directory"]


def test_answers_not_taken_yet_hold_back_the_next_renders(monkeypatch):
    """At most `pending` rendered charts wait to be taken apart: a thread waits for a slot before it starts."""
    started: list[str] = []
    two_started = threading.Event()

    def render(helm, chart):
        started.append(chart.directory)
        if len(started) == 2:
            two_started.set()
        return Answer(load_error=chart.directory)

    monkeypatch.setattr(helm_renderer, "_render_safely", render)
    names = ["a", "b", "c", "d", "e"]
    renders = helm_renderer._Renders(None, [Named(n) for n in names], workers=3, pending=2)
    assert two_started.wait(10)
    # both slots are held by answers nobody took: no third render may start
    assert renders.slots.acquire(blocking=False) is False
    assert sorted(started) == ["a", "b"]
    taken = sorted(answer.load_error for _, answer in renders.rest())
    assert taken == names and sorted(started) == names
    assert list(renders.ready()) == []


def test_ready_takes_what_is_rendered_without_waiting(monkeypatch):
    may_end = threading.Event()
    monkeypatch.setattr(helm_renderer, "_render_safely", slow_until(may_end))
    renders = helm_renderer._Renders(None, [Named("quick"), Named("slow")], workers=2)
    got: list = []
    while not got:                # the quick chart's answer arrives; the slow one is not waited for
        got = list(renders.ready())
    assert got == [(0, Answer(load_error="quick"))]
    may_end.set()
    assert list(renders.rest()) == [(1, Answer(load_error="slow"))]


def _generated(tmp_path, services: int) -> str:
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
    from generate import generate

    root = str(tmp_path / "repo")
    generate(services, root)
    return root


def test_a_whole_run_begins_rendering_before_it_parses_and_finds_the_same(tmp_path, monkeypatch):
    import os

    from prr_lint import engine
    from prr_lint import render as renderers
    from prr_lint.config import load_config
    from prr_lint.repo import Repository

    root = _generated(tmp_path, 6)
    events: list[str] = []
    real_init, real_prefetch, real_render = helm_renderer._Batch.__init__, Repository.prefetch, helm_renderer.render

    def batch(self, job):
        events.append(f"batch of {len(job.files)} files")
        real_init(self, job)

    def prefetch(self, rels, *args, **kwargs):
        events.append("parse")
        real_prefetch(self, rels, *args, **kwargs)

    def render(job):
        events.append("render")
        return real_render(job)

    monkeypatch.setattr(helm_renderer._Batch, "__init__", batch)
    monkeypatch.setattr(Repository, "prefetch", prefetch)
    monkeypatch.setattr(helm_renderer, "render", render)

    def findings(paths, workers=0):
        result = run(Options(paths=paths, config=load_config(os.path.join(root, ".prr-lint.yaml")), root=root,
                             use_cache=False, parse_workers=workers, parse_pool_min=1))
        rendered = [(d.file, d.index, d.meta["values"]) for d in result.docs if "values" in d.meta]
        return rendered, [(f.rule_id, f.file, f.span.line, f.span.col, f.message, f.fingerprint)
                          for f in result.findings]

    early = findings([root])
    files = len(Repository(root).candidates)
    # the charts' batch is made from the listing while the files are parsed, and the render finishes it
    assert events == ["parse", f"batch of {files} files", "parse", "render"]
    # each chart's rendered objects were checked
    assert sorted({file.split("/")[1] for file, _, _ in early[0]}) == [f"svc-{n}" for n in range(6)] and early[1]
    monkeypatch.setattr(renderers, "DRAIN_EVERY", 1)    # taken apart between any two files parsed
    assert findings([root]) == early
    events.clear()
    assert findings([root], workers=2) == early       # and between any two answers of the parse pool
    assert events == ["parse", f"batch of {files} files", "parse", "render"]
    events.clear()
    monkeypatch.setattr(engine, "begin_renders", lambda job: None)
    assert findings([root]) == early                # begun only once all is parsed: the same findings
    assert events == ["parse", "parse", "render", f"batch of {files} files"]
    events.clear()
    one = os.path.join(root, "services", "svc-0", "service.yaml")
    findings([one])                  # a narrower run begins nothing early: it learns its charts from the graph
    assert "batch" not in events[0]
    events.clear()
    monkeypatch.undo()
    monkeypatch.setattr(helm_renderer._Batch, "__init__", batch)
    monkeypatch.setattr(Repository, "prefetch", prefetch)
    monkeypatch.setattr(helm_renderer, "render", render)
    monkeypatch.setattr(engine, "EARLY_RENDER_CHARTS", 5)
    # more charts than that: rendered once the parse's cache text is written, with the same findings
    assert findings([root]) == early
    assert events == ["parse", "parse", "render", f"batch of {files} files"]
