"""Rendered charts kept in the cache: a warm run renders nothing again and reports exactly what a fresh render
reports; a change to a chart's template, values, overlay or dependency archive renders that chart only.
Renders are counted (the real helm-python-sdk renders; the count wraps it), never timed."""

import glob
import io
import json
import os
import shutil
import tarfile

import pytest
from test_cache import SAMPLE
from test_render_helm import CHART, DEPLOYMENT, MANIFEST, PDB, VALUES, helm_sdk  # noqa: F401  (fixture)

from prr_lint import cli
from prr_lint.cache import default_directory
from prr_lint.model import ORIGINS, Document, Span
from prr_lint.render import Problem, Rendered
from prr_lint.render import helm as helm_renderer
from prr_lint.render import kustomize as kustomize_renderer
from prr_lint.render.cache import RenderCache, shard_of

from conftest import require_kustomize, write

CART_MANIFEST = MANIFEST.replace("shop", "cart")


def _archive(replicas: int) -> bytes:
    """A vendored dependency, charts/cache-0.3.0.tgz, whose Deployment asks for `replicas`."""
    template = DEPLOYMENT.replace("name: {{ .Release.Name }}", "name: {{ .Release.Name }}-cache") \
        .replace("{{ .Values.replicaCount }}", str(replicas))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, text in {"cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.3.0\n",
                           "cache/values.yaml": VALUES, "cache/templates/deployment.yaml": template}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def two_charts(base) -> str:
    """charts/shop (template, values, a production overlay) and charts/cart (a vendored dependency archive)."""
    cart_chart = CHART.replace("shop", "cart") + \
        "dependencies:\n  - name: cache\n    version: 0.3.0\n    repository: https://charts.example.com\n"
    return write(str(base), {
        "services/shop/service.yaml": MANIFEST,
        "charts/shop/Chart.yaml": CHART,
        "charts/shop/values.yaml": VALUES,
        "charts/shop/values-prod.yaml": "replicaCount: 2\n",
        "charts/shop/templates/deployment.yaml": DEPLOYMENT,
        "charts/shop/templates/pdb.yaml": PDB,
        "services/cart/service.yaml": CART_MANIFEST,
        "charts/cart/Chart.yaml": cart_chart,
        "charts/cart/values.yaml": VALUES,
        "charts/cart/templates/deployment.yaml": DEPLOYMENT.replace("shop", "cart"),
        "charts/cart/charts/cache-0.3.0.tgz": _archive(1),
    })


@pytest.fixture
def renders(monkeypatch, tmp_path):
    """The chart directories the SDK rendered, per run; runs use a private user cache directory."""
    home = tmp_path / "xdg-cache"
    home.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.setenv("PRR_LINT_CACHE_DIR", "")
    monkeypatch.setenv("PRR_LINT_ALLOW_CONFIG_CACHE_DIR", "")
    monkeypatch.setenv("PRR_LINT_NO_REPLAY", "1")      # the render cache itself, not result replay
    rendered: list[str] = []
    real = helm_renderer._render_chart

    def counted(helm, chart):
        rendered.append(chart.directory)
        return real(helm, chart)

    monkeypatch.setattr(helm_renderer, "_render_chart", counted)
    return rendered


def run(root, renders, *args) -> tuple[str, list[str]]:
    """The JSON report of `prr-lint check` on root, and the charts that run rendered (sorted)."""
    out = os.path.join(os.path.dirname(root), "report.json")
    renders.clear()
    code = cli.main(["check", "-f", "json", "-o", out, "--today", "2026-11-01", *args, root])
    assert code in (0, 1)
    with open(out, encoding="utf-8") as fh:
        return fh.read(), sorted(renders)


def render_files(root) -> list[str]:
    directory = default_directory(os.environ["XDG_CACHE_HOME"], root)
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(directory, "render-*.json")))


def test_a_warm_run_renders_nothing_and_reports_the_same(tmp_path, renders):
    root = two_charts(tmp_path / "repo")
    fresh, rendered = run(root, renders, "--no-cache")
    assert rendered == ["charts/cart", "charts/shop"]
    assert {f["file"] for f in json.loads(fresh)["findings"]} >= {"charts/shop/templates/deployment.yaml",
                                                                   "charts/cart/Chart.yaml"}
    assert run(root, renders) == (fresh, ["charts/cart", "charts/shop"])     # cold: renders and stores
    # one file per shard of the charts, not one per chart
    assert [name.rsplit("-", 1)[0] for name in render_files(root)] == \
        sorted({f"render-helm-{shard_of(chart)}" for chart in ("charts/cart", "charts/shop")})
    assert run(root, renders) == (fresh, [])                                 # warm: renders nothing


@pytest.mark.parametrize(("path", "content", "chart"), [
    ("charts/shop/templates/deployment.yaml", DEPLOYMENT.replace("revisionHistoryLimit: 5", "paused: false"),
     "charts/shop"),
    ("charts/shop/values.yaml", VALUES.replace("replicaCount: 3", "replicaCount: 1"), "charts/shop"),
    ("charts/shop/values-prod.yaml", "replicaCount: 1\n", "charts/shop"),
    ("charts/shop/values-live.yaml", "replicaCount: 1\n", "charts/shop"),           # a new overlay
    ("charts/cart/charts/cache-0.3.0.tgz", _archive(3), "charts/cart"),
], ids=["template", "values", "overlay", "new-overlay", "dependency-archive"])
def test_a_change_renders_that_chart_only(tmp_path, renders, path, content, chart):
    root = two_charts(tmp_path / "repo")
    run(root, renders)
    write(root, {path: content})
    fresh, _ = run(root, renders, "--no-cache")
    assert run(root, renders) == (fresh, [chart])
    assert run(root, renders) == (fresh, [])


def test_a_removed_chart_leaves_the_cache(tmp_path, renders):
    root = two_charts(tmp_path / "repo")
    run(root, renders)
    shutil.rmtree(os.path.join(root, "charts/cart"))
    os.remove(os.path.join(root, "services/cart/service.yaml"))
    fresh, _ = run(root, renders, "--no-cache")
    assert run(root, renders) == (fresh, [])
    directory = default_directory(os.environ["XDG_CACHE_HOME"], root)
    assert render_files(root)
    for name in render_files(root):
        with open(os.path.join(directory, name), "rb") as fh:
            assert b"charts/cart" not in fh.read()


def test_no_cache_renders_every_time_and_stores_nothing(tmp_path, renders):
    root = two_charts(tmp_path / "repo")
    for _ in range(2):
        assert run(root, renders, "--no-cache")[1] == ["charts/cart", "charts/shop"]
    assert render_files(root) == []


@pytest.mark.parametrize("damage", ["flipped-byte", "truncated", "foreign-name"])
def test_a_damaged_or_foreign_render_file_is_a_miss(tmp_path, renders, damage):
    root = two_charts(tmp_path / "repo")
    fresh, _ = run(root, renders)
    directory = default_directory(os.environ["XDG_CACHE_HOME"], root)
    for name in render_files(root):
        path = os.path.join(directory, name)
        with open(path, "rb") as fh:
            blob = fh.read()
        if damage == "flipped-byte":
            blob = blob[:-20] + bytes([blob[-20] ^ 1]) + blob[-19:]
        elif damage == "truncated":
            blob = blob[: len(blob) // 2]
        else:   # a valid file of another renderer (the name is signed): not this one's
            os.rename(path, path.replace("render-helm-", "render-kustomize-"))
        if damage != "foreign-name":
            with open(path, "wb") as fh:
                fh.write(blob)
    assert run(root, renders) == (fresh, ["charts/cart", "charts/shop"])


def test_the_sample_monorepo_reports_the_same_cold_and_warm(tmp_path, renders):
    root = str(tmp_path / "repo")
    shutil.copytree(SAMPLE, root)
    fresh, rendered = run(root, renders, "--no-cache")
    assert rendered
    assert run(root, renders) == (fresh, rendered)
    assert run(root, renders) == (fresh, [])


# -- the stored form ------------------------------------------------------------------------------------
class _Store:
    """The calls RenderCache makes of the parse cache, in memory."""

    def __init__(self):
        self.files: dict = {}

    def side_name(self, kind):
        return f"{kind}-x.json"

    def read_side(self, name, loads=json.loads):
        return loads(self.files[name]) if name in self.files else None

    def write_side(self, name, payload):
        self.files[name] = payload

    def remove_side(self, name):
        self.files.pop(name, None)


def test_documents_problems_and_meta_round_trip_exactly():
    doc = Document("k8s", "charts/a/templates/d.yaml", {"spec": {"replicas": 1, "ports": [80, None]}},
                   {(): Span(1, 1), ("spec", "replicas"): Span(8, 13)}, 2,
                   {"values": "values.yaml", "mapped": (3, 4), "value_origin": {("spec", "replicas"): "v.yaml:1"},
                    ORIGINS: {("spec", "ports", 0): "base/d.yaml"}, "chart": "charts/a"})
    part = Rendered([doc], {"charts/a/patch.yaml"},
                    [Problem("PRR006", "charts/a/Chart.yaml", 6, 5, "dependency x is missing", "helm/charts/a/x")],
                    [("charts/a/Chart.yaml", "a notice")])
    store = _Store()
    cache = RenderCache(store, "helm")
    cache.put("charts/a", "k1", part, {"charts/a/values.yaml"})
    cache.save(["charts/a"])
    again = RenderCache(store, "helm")
    assert again.get("charts/a", "k2") is None                  # made from other inputs: a miss
    got, judged = again.get("charts/a", "k1")
    assert judged == {"charts/a/values.yaml"}
    assert (got.replaced, got.problems, got.notices) == (part.replaced, part.problems, part.notices)
    (back,) = got.docs
    assert (back.kind, back.file, back.index, back.meta, back.data, dict(back.spans)) == \
        (doc.kind, doc.file, doc.index, doc.meta, doc.data, dict(doc.spans))


def test_what_json_cannot_carry_exactly_is_not_stored():
    store = _Store()
    cache = RenderCache(store, "helm")
    doc = Document("k8s", "t.yaml", {1: "an int key becomes a string in JSON"}, {(): Span(1, 1)})
    cache.put("charts/a", "k", Rendered([doc]), ())
    cache.save(["charts/a"])
    assert store.files == {}
    assert RenderCache(store, "helm").get("charts/a", "k") is None


# -- Kustomize overlays ---------------------------------------------------------------------------------
@pytest.fixture
def builds(renders, monkeypatch):
    """The overlays kustomize built, per run (the real binary builds; the count wraps it)."""
    require_kustomize()
    built: list[str] = []
    real = kustomize_renderer._build

    def counted(kust, found, command, job, files=None):
        built.append(kust.directory)
        return real(kust, found, command, job, files)

    monkeypatch.setattr(kustomize_renderer, "_build", counted)
    return built


def two_overlays(base) -> str:
    from test_render_kustomize import BASE_DEPLOYMENT, BASE_KUSTOMIZATION, PATCH, PDB, PROD_KUSTOMIZATION, SERVICE

    return write(str(base), {
        "service.yaml": SERVICE.replace("[overlays/prod]", "[overlays/prod, overlays/live]"),
        "base/deployment.yaml": BASE_DEPLOYMENT,
        "base/pdb.yaml": PDB,
        "base/kustomization.yaml": BASE_KUSTOMIZATION,
        "overlays/prod/kustomization.yaml": PROD_KUSTOMIZATION,
        "overlays/prod/patch.yaml": PATCH,
        "overlays/live/kustomization.yaml": PROD_KUSTOMIZATION.replace("count: 4", "count: 1"),
        "overlays/live/patch.yaml": PATCH,
    })


def kustomize_run(root, builds, *args) -> tuple[str, list[str]]:
    builds.clear()
    report, _ = run(root, [], *args)
    return report, sorted(builds)


@pytest.mark.parametrize(("path", "old", "new", "built"), [
    ("overlays/prod/patch.yaml", "env:", "image: registry.example.com/web:latest\n          env:", ["overlays/prod"]),
    ("overlays/live/kustomization.yaml", "count: 1", "count: 2", ["overlays/live"]),
    ("base/deployment.yaml", "web:1.4.2", "web:latest", ["overlays/live", "overlays/prod"]),
], ids=["patch", "kustomization", "base"])
def test_a_kustomize_change_builds_the_overlays_it_reaches_only(tmp_path, builds, path, old, new, built):
    root = two_overlays(tmp_path / "repo")
    fresh, first = kustomize_run(root, builds, "--no-cache")
    assert first == ["overlays/live", "overlays/prod"]
    assert any(f["file"] == "overlays/live/kustomization.yaml" for f in json.loads(fresh)["findings"])
    assert kustomize_run(root, builds) == (fresh, first)           # cold
    assert kustomize_run(root, builds) == (fresh, [])              # warm: nothing built
    with open(os.path.join(root, path), encoding="utf-8") as fh:
        text = fh.read()
    assert old in text
    write(root, {path: text.replace(old, new)})
    changed, _ = kustomize_run(root, builds, "--no-cache")
    assert changed != fresh
    assert kustomize_run(root, builds) == (changed, built)
    assert kustomize_run(root, builds) == (changed, [])
