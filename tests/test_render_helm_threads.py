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
    """A stand-in for a gathered chart: _render_in_threads only hands it to _render_safely."""

    def __init__(self, name: str) -> None:
        self.directory = name


def test_each_chart_is_answered_as_its_render_ends(monkeypatch):
    first_may_end = threading.Event()

    def render(helm, chart):
        if chart.directory == "slow":
            assert first_may_end.wait(10)
        return Answer(load_error=chart.directory)

    monkeypatch.setattr(helm_renderer, "_render_safely", render)
    answers = helm_renderer._render_in_threads(None, [Named("slow"), Named("quick")], workers=2)
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
        answers = dict(helm_renderer._render_in_threads(None, charts, workers=1))
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
