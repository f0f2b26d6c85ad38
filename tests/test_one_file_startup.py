"""What a one-file run pays besides the owning service, counted rather than timed: one lstat per listed file
(shared by replay and the Repository), no full collection after a small load, no schema validation of a config
or of built-in rule metadata already known valid, no import of jsonschema for them."""

import gc
import os

from test_linear_cost import monorepo

from prr_lint import cache as cache_module
from prr_lint import heap
from prr_lint.config import Config
from prr_lint.discover import list_files
from prr_lint.engine import Options, run

EDITED = "services/svc-3/k8s/deployment.yaml"


def _check(root: str, home: str, *paths: str) -> list[tuple]:
    result = run(Options(paths=[os.path.join(root, p) for p in paths] or [root], config=Config(), root=root,
                         cache_home=home, parse_workers=0, replay={}))
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
    # replay stamps every listed file; the Repository reuses those stamps for its candidates. Only the files of
    # the service the run reports on are looked at again (read, rendered, resolved)
    assert len(calls) == len(listed)
    again = sorted(os.path.relpath(path, root) for path, n in calls.items() if n > 1)
    assert again and all(rel.startswith("services/svc-3/") for rel in again), again


def test_a_small_load_makes_no_full_collection():
    full = gc.get_stats()[2]["collections"]
    with heap.loading():
        kept = [{"n": [i]} for i in range(1000)]
    assert gc.get_stats()[2]["collections"] == full
    assert gc.get_freeze_count() >= len(kept)
    gc.unfreeze()
