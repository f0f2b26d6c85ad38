"""What a one-file run pays besides the owning service, counted rather than timed: one lstat per listed file
(shared by replay and the Repository), no full collection after a small load, no schema validation of a config
or of built-in rule metadata already known valid, no import of jsonschema, the helm SDK or pathspec unless needed."""

import gc
import os

import pytest
from test_linear_cost import monorepo
from test_render_helm import helm_sdk  # noqa: F401  (fixture: the real SDK, required under CI)

from prr_lint import cache as cache_module
from prr_lint import heap
from prr_lint.config import Config
from prr_lint.discover import list_files
from prr_lint.engine import Options, run

EDITED = "services/svc-3/k8s/deployment.yaml"


def _check(root: str, home: str, *paths: str, replay: bool = True) -> list[tuple]:
    result = run(Options(paths=[os.path.join(root, p) for p in paths] or [root], config=Config(), root=root,
                         cache_home=home, parse_workers=0, replay={} if replay else None))
    assert not result.errors
    return [(f.rule_id, f.file, f.span.line, f.message) for f in result.findings]


def test_a_one_file_run_lstats_each_listed_file_once(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = monorepo(tmp_path / "mono", 6)
    home = str(tmp_path / "home")
    _check(root, home)
    _check(root, home)
    with open(os.path.join(root, EDITED), "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    listed = {os.path.join(root, rel) for rel in list_files(root, [""], [], [])}
    calls: dict[str, int] = {}
    lstat = os.lstat

    def counted(path, *args, **kwargs):
        path_text = os.fspath(path)
        if path_text in listed:
            calls[path_text] = calls.get(path_text, 0) + 1
        return lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", counted)
    _check(root, home, EDITED)
    # the edited file's first run goes without replay (replay._seen_before): the Repository's own pass, one lstat
    # per file it may read and none of the others (Markdown files); the owning service's files are looked at again
    assert len(calls) < len(listed)
    assert [path for path in calls if path.endswith(".md") and "/services/svc-3/" not in path] == []
    assert all(os.path.relpath(path, root).startswith("services/svc-3/") for path, n in calls.items() if n > 1)
    calls.clear()
    _check(root, home, EDITED)
    # the same content again takes the replay's way: replay stamps every listed file; the Repository reuses those
    # stamps for its candidates. Only the files of the service the run reports on are looked at again (read,
    # rendered, resolved)
    assert len(calls) == len(listed)
    again = sorted(os.path.relpath(path, root) for path, n in calls.items() if n > 1)
    assert again and all(rel.startswith("services/svc-3/") for rel in again), again


def test_a_load_of_any_size_makes_no_full_collection_and_freezes_what_is_left():
    for size in (1000, 300_000):          # the second far past the point of a full collection
        full = gc.get_stats()[2]["collections"]
        with heap.loading():
            kept = [{"n": [i]} for i in range(size)]
        assert gc.get_stats()[2]["collections"] == full
        assert gc.get_freeze_count() >= len(kept)
        gc.unfreeze()


def test_the_helm_sdk_release_comes_from_its_package_metadata_without_importing_it(tmp_path, monkeypatch):
    from prr_lint.releases import installed_release

    site = tmp_path / "site"
    (site / "native_sdk_probe").mkdir(parents=True)
    (site / "native_sdk_probe" / "__init__.py").write_text("raise ImportError('imported')\n")
    (site / "Native_SDK_Probe-9.8.7.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert installed_release("native_sdk_probe", "native-sdk-probe") == "native-sdk-probe 9.8.7"
    (site / "native_sdk_probe-9.8.8.dist-info").mkdir()      # two releases side by side: not known which
    assert installed_release("native_sdk_probe", "native-sdk-probe") is None
    assert installed_release("no_such_module_here", "none") is None


def _config_run(root: str, home: str, monkeypatch) -> tuple[int, list, str]:
    """(config validations, findings) of `prr-lint check` on the repository, with XDG_CACHE_HOME=home."""
    from prr_lint import cli, config

    validated = []
    schema_errors = config.schema_errors

    def counted(instance, name):
        validated.append(name)
        return schema_errors(instance, name)

    monkeypatch.setattr(config, "schema_errors", counted)
    monkeypatch.setenv("XDG_CACHE_HOME", home)
    monkeypatch.setenv("PRR_LINT_TODAY", "2026-01-01")
    monkeypatch.chdir(root)
    out = os.path.join(home, "report.json")
    if os.path.exists(out):
        os.unlink(out)
    code = cli.main(["check", "--format", "json", "-o", out, "."])
    report = ""
    if os.path.exists(out):
        with open(out, encoding="utf-8") as fh:
            report = fh.read()
    monkeypatch.undo()
    return code, validated, report


def test_a_config_validated_once_is_not_validated_again_until_its_data_changes(tmp_path, monkeypatch):
    root = monorepo(tmp_path / "mono", 2)
    home = str(tmp_path / "home")
    config_file = os.path.join(root, ".prr-lint.yaml")
    first = _config_run(root, home, monkeypatch)       # makes the cache key: nothing to sign a verdict with yet
    assert first[1] == ["config.schema.json"]
    assert _config_run(root, home, monkeypatch)[1] == ["config.schema.json"]     # validated, verdict kept
    again = _config_run(root, home, monkeypatch)
    assert again[1] == [] and again[0] == first[0] and again[2] == first[2]
    with open(config_file, "a", encoding="utf-8") as fh:
        fh.write("# a comment: the same data\n")
    assert _config_run(root, home, monkeypatch)[1] == []
    with open(config_file, "a", encoding="utf-8") as fh:
        fh.write("fail_on: warning\n")
    assert _config_run(root, home, monkeypatch)[1] == ["config.schema.json"]
    assert _config_run(root, home, monkeypatch)[1] == []


def test_an_invalid_config_is_an_error_on_every_run_and_a_forged_verdict_is_no_verdict(tmp_path, monkeypatch,
                                                                                          capsys):
    from prr_lint.config_verdicts import NAME

    root = monorepo(tmp_path / "mono", 2)
    home = str(tmp_path / "home")
    config_file = os.path.join(root, ".prr-lint.yaml")
    _config_run(root, home, monkeypatch)
    _config_run(root, home, monkeypatch)
    verdicts = os.path.join(home, "prr-lint", NAME)
    assert os.path.isfile(verdicts)
    with open(config_file, "a", encoding="utf-8") as fh:
        fh.write("fail_on: sometimes\n")
    capsys.readouterr()
    for _ in range(2):
        assert _config_run(root, home, monkeypatch) == (2, ["config.schema.json"], "")
        assert capsys.readouterr().err == ("prr-lint: error: .prr-lint.yaml:2: fail_on: 'sometimes' is not one of "
                                           "['error', 'warning', 'info', 'never']\n")
    with open(verdicts, "rb") as fh:
        magic, mac, payload = fh.read().split(b"\n", 2)
    with open(verdicts, "wb") as fh:          # a key list written by someone without the MAC key
        fh.write(magic + b"\n" + mac + b"\n" + payload.replace(b"]", b', "0"]'))
    with open(config_file, encoding="utf-8") as fh:
        text = fh.read()
    with open(config_file, "w", encoding="utf-8") as fh:
        fh.write(text.replace("fail_on: sometimes\n", ""))
    assert _config_run(root, home, monkeypatch)[1] == ["config.schema.json"]


def test_every_built_in_rule_has_metadata_the_rule_schema_accepts():
    """Runs no longer validate the built-in pack's metadata: this does, for every rule."""
    from prr_lint.registry import load_rules, validate_meta

    rules = [r for r in load_rules() if r.origin == "builtin"]
    assert len(rules) > 50
    for r in rules:
        validate_meta(r.check.__prr_rule__, r.directory)


PROBE = """
import sys
from prr_lint.cli import main
code = main(sys.argv[1:])
print(sorted(m for m in ("jsonschema", "helm_python", "pathspec", "importlib.metadata", "concurrent.futures")
             if m in sys.modules))
sys.exit(code)
"""


def test_a_warm_one_file_run_imports_no_schema_validator_helm_sdk_pathspec_package_metadata_or_thread_pool(tmp_path):
    import subprocess
    import sys

    root = monorepo(tmp_path / "mono", 4)        # every generated service has a chart, rendered
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "home"), "PRR_LINT_TODAY": "2026-01-01"}

    def imported(*paths: str) -> str:
        proc = subprocess.run([sys.executable, "-c", PROBE, "check", "--format", "json", "-o", os.devnull, *paths],
                              cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), proc.stderr
        return proc.stdout.strip()

    assert imported() == "['helm_python', 'importlib.metadata', 'jsonschema']"    # first run: renders, validates
    imported()                                              # makes the config verdict
    with open(os.path.join(root, EDITED), "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    assert imported(EDITED) == "[]"


def _edited_run_expansions(tmp_path, monkeypatch, n: int) -> tuple[int, int, int]:
    """(index entries expanded of files that say who owns what, of other files, index entries) in a one-file run
    after an edit, warm cache, at n services."""
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = monorepo(tmp_path / f"mono{n}", n)
    home = str(tmp_path / f"home{n}")
    _check(root, home)
    _check(root, home, replay=False)       # a warm full run: every stamp and chart dependency known
    with open(os.path.join(root, EDITED), "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    expanded = []
    expand = cache_module._expand
    monkeypatch.setattr(cache_module, "_expand", lambda text: expanded.append(text) or expand(text))
    opened = []
    init = cache_module.ParseCache.__init__

    def counted_init(store, *args, **kwargs):
        init(store, *args, **kwargs)
        opened.append(store)

    monkeypatch.setattr(cache_module.ParseCache, "__init__", counted_init)
    _check(root, home, EDITED)
    monkeypatch.undo()
    context = [text for text in expanded if set(text.split("|")[3].split(",")) & set(cache_module.CONTEXT_KINDS)]
    return len(context), len(expanded) - len(context), len(opened[0].index)


def test_a_one_file_run_expands_the_index_entries_of_one_service(tmp_path, monkeypatch):
    """Manifests and SLO files are decoded on every run (who owns what); of the other files' entries, only
    those of the service the run reports on."""
    small_context, small, small_index = _edited_run_expansions(tmp_path, monkeypatch, 6)
    large_context, large, large_index = _edited_run_expansions(tmp_path, monkeypatch, 12)
    assert large_index > 1.9 * small_index
    assert 0 < small == large <= small_index / 6      # the files of one service
    assert (small_context, large_context) == (2 * 6, 2 * 12)


def test_an_index_entry_is_one_string_unless_a_part_holds_a_separator():
    entry = ["ab12", ["k8s", "service"], "ctx", [1, 2, 3, 4, "yaml", 5242880]]
    assert cache_module._compact(entry) == "ab12|ctx|1,2,3,4,yaml,5242880|k8s,service"
    assert cache_module._expand(cache_module._compact(entry)) == entry
    assert cache_module._expand("ab12|12|-|") == ["ab12", [], "12", None]
    odd = ["ab12", ["a|b"], "ctx", None]
    assert cache_module._compact(odd) is odd          # kept as a list, which the index also reads
    for broken in ("ab12|ctx|1,2,x,4,yaml,5|k8s", "ab12|ctx|1,2|k8s", "ab12|ctx"):
        assert cache_module._expand(broken) is None


def test_a_cache_of_the_previous_format_is_a_miss_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = monorepo(tmp_path / "mono", 3)
    home = str(tmp_path / "home")
    magic = cache_module.MAGIC
    monkeypatch.setattr(cache_module, "MAGIC", magic.replace(f" {cache_module.FORMAT} ".encode(), b" 6 "))
    uncached = _check(root, home)          # written as a cache of format 6 would be
    monkeypatch.setattr(cache_module, "MAGIC", magic)
    parsed = []
    put = cache_module.ParseCache.put
    monkeypatch.setattr(cache_module.ParseCache, "put",
                        lambda store, rel, *args, **kwargs: parsed.append(rel) or put(store, rel, *args, **kwargs))
    assert _check(root, home) == uncached
    assert len(parsed) > 20              # every file parsed again: the old files were not read


@pytest.mark.usefixtures("helm_sdk")
@pytest.mark.parametrize("large", [False, True])
def test_a_one_file_run_compresses_the_spans_of_the_files_it_parses_only(tmp_path, monkeypatch, large):
    # the other services' manifests are read to know who owns what: their stored spans are kept as text, not
    # compressed (that is for the documents a whole run holds to its end); what it parses and renders is
    # compressed in a run as large as a parse pool takes only
    from prr_lint import repo as repo_module

    monkeypatch.setattr(repo_module, "PACKED_SPANS_FROM", 1 if large else repo_module.DEFAULT_MIN_FILES)
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0)
    root = monorepo(tmp_path / "mono", 6)
    home = str(tmp_path / "home")
    _check(root, home)
    with open(os.path.join(root, EDITED), "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    packed: list[int] = []
    pack = cache_module._packed
    monkeypatch.setattr(cache_module, "_packed", lambda text: packed.append(len(text)) or pack(text))
    lazy: list[bool] = []
    stored_spans = cache_module.StoredSpans.__init__

    def made(self, text, pack=True):
        lazy.append(pack)
        stored_spans(self, text, pack)

    monkeypatch.setattr(cache_module.StoredSpans, "__init__", made)
    _check(root, home, EDITED)
    # compressed in a large run: the edited file's two documents, parsed again, and its chart's two rendered
    # objects (from the render cache); every service's manifest came lazily, as text
    assert len(packed) == lazy.count(True) == (4 if large else 0)
    assert lazy.count(False) >= (6 if large else 10)
