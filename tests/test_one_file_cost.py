"""A one-file run (pre-commit, warm cache) does work for the service it touches, not for the repository: as the
monorepo doubles it reads the same Chart.yaml files, decodes the same cache shards and the same render results.
And it stays right: after an edit, an added, deleted or renamed chart, or a new `file://` dependency, a cached
one-file run reports exactly what an uncached one reports. Work is counted, never timed."""

import json
import os
import shutil

import pytest
from test_linear_cost import monorepo
from test_render_helm import CHART, DEPLOYMENT, MANIFEST, VALUES, helm_sdk  # noqa: F401  (fixture)

from prr_lint import cache as cache_module
from prr_lint.cache import default_directory, open_cache
from prr_lint.config import Config
from prr_lint.engine import Options, run
from prr_lint.render import cache as render_cache
from prr_lint.render import subcharts as subcharts_module
from prr_lint.repo import Repository

from conftest import write

EDITED = "services/svc-3/k8s/deployment.yaml"


class Work:
    """What a run read: Chart.yaml documents loaded, signed cache files read, render results decoded."""

    def __init__(self, monkeypatch):
        self.charts: list[str] = []
        self.cache_files: list[str] = []
        self.render_results = 0
        load, read, decode = Repository.load, cache_module.read_signed, render_cache._decode

        def counted_load(repo, rel, lazy=False):
            if os.path.basename(rel) == "Chart.yaml" and rel not in repo._loaded:    # not loaded yet this run
                self.charts.append(rel)
            return load(repo, rel, lazy)

        def counted_read(key, directory, name, *how):
            self.cache_files.append(name)
            return read(key, directory, name, *how)

        def counted_decode(obj, *how):
            self.render_results += 1
            return decode(obj, *how)

        monkeypatch.setattr(Repository, "load", counted_load)
        monkeypatch.setattr(cache_module, "read_signed", counted_read)
        monkeypatch.setattr(render_cache, "_decode", counted_decode)

    def kinds(self) -> list[str]:
        """The cache files read, by what they hold (shard and project names left out)."""
        return sorted(name.split("-")[0] + ("-" + name.split("-")[1] if name.startswith("render-") else "")
                      for name in self.cache_files)


def check(root: str, home: str, *paths: str, use_cache: bool = True) -> list[tuple]:
    result = run(Options(paths=[os.path.join(root, p) for p in paths] or [root], config=Config(), root=root,
                         cache_home=home, use_cache=use_cache, parse_workers=0))
    assert not result.errors
    return [(f.rule_id, f.file, f.span.line, f.message) for f in result.findings]


def edit(root: str, rel: str, text: str = "# edited\n") -> None:
    with open(os.path.join(root, rel), "a", encoding="utf-8") as fh:
        fh.write(text)


@pytest.fixture
def one_file_work(tmp_path, monkeypatch):
    """The work of a one-file run after an edit, warm cache, at N and 2N services."""
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)     # a test's files are seconds old at most

    def measure(n: int) -> Work:
        root = monorepo(tmp_path / f"mono{n}", n)
        home = str(tmp_path / f"home{n}")
        check(root, home)          # cold: parses, renders and stores
        check(root, home)          # warm: every file's stamp is trusted now
        edit(root, EDITED)
        with monkeypatch.context() as m:
            work = Work(m)
            check(root, home, EDITED)
        return work

    return measure


def test_a_one_file_run_does_the_same_work_in_a_repository_twice_as_large(one_file_work):
    small, large = one_file_work(8), one_file_work(16)
    # the one chart of the edited service, never every chart to find subcharts
    assert small.charts == large.charts == ["services/svc-3/chart/Chart.yaml"]
    # the index and journal, the context shard (manifests, SLOs), the shards of the service's directories,
    # the chart -> file:// dependencies map and one shard of render results
    assert small.kinds() == large.kinds()
    assert small.cache_files == large.cache_files
    assert [k for k in large.kinds() if k.startswith("render-")] == ["render-helm"]
    assert large.kinds().count("helm") == 1          # helm-subcharts: one small file, not a Chart.yaml each
    assert large.kinds().count("docs") <= 8
    # the edited service's chart result only
    assert small.render_results == large.render_results == 1


def test_a_whole_run_reads_every_render_shard_once(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = monorepo(tmp_path / "mono", 16)
    home = str(tmp_path / "home")
    check(root, home)
    work = Work(monkeypatch)
    check(root, home)
    render_files = [name for name in work.cache_files if name.startswith("render-helm-")]
    assert len(render_files) == len(set(render_files)) == \
        len({render_cache.shard_of(f"services/svc-{i}/chart") for i in range(16)})
    assert work.render_results == 16


# -- staying right -------------------------------------------------------------------------------------

SHOP_TEMPLATE = "charts/shop/templates/deployment.yaml"


def shop_and_cart(base) -> str:
    return write(str(base), {
        "services/shop/service.yaml": MANIFEST,
        "charts/shop/Chart.yaml": CHART,
        "charts/shop/values.yaml": VALUES,
        SHOP_TEMPLATE: DEPLOYMENT,
        "services/cart/service.yaml": MANIFEST.replace("shop", "cart"),
        "charts/cart/Chart.yaml": CHART.replace("shop", "cart"),
        "charts/cart/values.yaml": VALUES,
        "charts/cart/templates/deployment.yaml": DEPLOYMENT.replace("shop", "cart"),
    })


def _depends_on_cart(root):
    edit(root, "charts/shop/Chart.yaml",
         "dependencies:\n  - name: cart\n    version: 1.0.0\n    repository: file://../cart\n")


def _new_chart(root):      # vendored in shop's charts/: a subchart that renders with shop
    write(root, {"charts/shop/charts/extra/Chart.yaml": CHART.replace("shop", "extra"),
                 "charts/shop/charts/extra/templates/deployment.yaml": DEPLOYMENT.replace("shop", "extra")})


def _renamed_chart_yaml(root):
    os.rename(os.path.join(root, "charts/cart/Chart.yaml"), os.path.join(root, "charts/cart/Chart.yml"))


def _deleted_chart(root):
    shutil.rmtree(os.path.join(root, "charts/cart"))


@pytest.mark.parametrize(("change", "paths", "differs"), [
    (_depends_on_cart, ["charts/cart/templates/deployment.yaml"], True),    # cart now renders inside shop
    (_depends_on_cart, [SHOP_TEMPLATE], False),
    (_new_chart, ["charts/shop"], True),
    (_renamed_chart_yaml, ["charts/cart/templates/deployment.yaml"], True),
    (_deleted_chart, [SHOP_TEMPLATE], False),
], ids=["dependency-added/subchart-file", "dependency-added/parent-file", "chart-added", "chart-yaml-renamed",
        "chart-deleted"])
def test_a_cached_one_file_run_reports_what_an_uncached_one_reports(tmp_path, monkeypatch, change, paths, differs):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = shop_and_cart(tmp_path / "repo")
    home = str(tmp_path / "home")
    check(root, home)
    check(root, home)
    before = check(root, home, *paths, use_cache=False)
    change(root)
    after = check(root, home, *paths, use_cache=False)
    assert check(root, home, *paths) == after
    assert check(root, home, *paths) == after       # and once more, from what the last run stored
    assert (after != before) is differs


def test_a_dependency_entry_made_from_other_bytes_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = shop_and_cart(tmp_path / "repo")
    home = str(tmp_path / "home")
    check(root, home)
    check(root, home)
    cart = "charts/cart/templates/deployment.yaml"
    expected = check(root, home, cart, use_cache=False)
    assert [f for f in expected if f[1] == cart]        # cart renders on its own: it is nobody's subchart
    store = open_cache(default_directory(home, root), os.path.join(home, "prr-lint"), "", root)
    name = store.side_name("helm-subcharts")
    stored = store.read_side(name)
    assert stored["charts"]["charts/shop/Chart.yaml"][1] == []
    # an entry that says shop depends on cart, made from bytes shop's Chart.yaml does not have
    stored["charts"]["charts/shop/Chart.yaml"] = ["0" * 40, ["charts/cart"]]
    store.write_side(name, json.dumps(stored))
    work = Work(monkeypatch)
    assert check(root, home, cart) == expected
    assert "charts/shop/Chart.yaml" in work.charts      # read again, since the entry is not of its bytes


def test_dependency_targets_never_leave_the_repository():
    from prr_lint.model import Document

    meta = Document("helm-chart", "charts/a/Chart.yaml", {"dependencies": [
        {"name": "b", "repository": "file://../b"},
        {"name": "up", "repository": "file://../../../outside"},
        {"name": "..", "repository": "file://../c"},
        {"name": "d", "repository": "https://charts.example.com"},
        "not a mapping",
    ]}, {})
    assert subcharts_module.dependency_targets("charts/a", meta) == ["charts/b"]
    assert json.dumps(subcharts_module.dependency_targets("charts/a", Document("helm-chart", "x", {}, {}))) == "[]"


def test_the_manifests_shard_is_decoded_while_git_lists_the_files(tmp_path, monkeypatch):
    import subprocess

    from prr_lint import discover

    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = monorepo(tmp_path / "mono", 4)
    subprocess.run(["git", "init", "-q", root], check=True)
    home = str(tmp_path / "home")
    check(root, home)
    events: list[str] = []
    popen, read = discover.subprocess.Popen, cache_module.read_signed

    class Listing(popen):
        def __init__(self, args, **kwargs):
            super().__init__(args, **kwargs)
            events.append("git started")

        def communicate(self, *args, **kwargs):
            events.append("git read")
            return super().communicate(*args, **kwargs)

    def counted_read(key, directory, name, *how):
        events.append("ctx" if name.endswith("-ctx.json") else "other")
        return read(key, directory, name, *how)

    monkeypatch.setattr(discover.subprocess, "Popen", Listing)
    monkeypatch.setattr(cache_module, "read_signed", counted_read)
    assert check(root, home, EDITED) == check(root, home, EDITED, use_cache=False)
    listing = [e for e in events if e != "other"]
    assert listing[:3] == ["git started", "ctx", "git read"]
    assert events.count("ctx") == 1


def test_a_cache_entry_is_parsed_only_when_asked_for(tmp_path, monkeypatch):
    from prr_lint.loaders import Loaded
    from prr_lint.model import Document, Span

    files = [f"app/{i}.yaml" for i in range(3)]     # one directory: one shard
    store = cache_module.ParseCache(str(tmp_path), b"k" * 32)
    for i, rel in enumerate(files):
        store.put(rel, f"key{i}", Loaded(rel, docs=[Document("k8s", rel, {"kind": "ConfigMap", "n": i},
                                                             {(): Span(1, 1)})]))
    store.save(files)
    again = cache_module.ParseCache(str(tmp_path), b"k" * 32)
    parsed: list[int] = []
    loads = cache_module.orjson.loads
    monkeypatch.setattr(cache_module.orjson, "loads", lambda text: parsed.append(len(text)) or loads(text))
    assert again.get(files[1], "key1").docs[0].data == {"kind": "ConfigMap", "n": 1}
    # the shard file (a string per entry), that one entry's text, its spans: never the other entries
    assert len(parsed) == 3 and parsed[1] < parsed[0] / 2
    shard = cache_module.shard_of(files[2])
    again._shards[shard]["key2"] = "[not json"       # signed by us, so never expected: a miss, not an error
    assert again.get(files[2], "key2") is None
