"""list_files keeps a listing whole without a step per path only when no path needs one: what it returns is what
the per-path filter returns (directories prr-lint never reads, names that are not UTF-8)."""

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from prr_lint import discover

PART = st.sampled_from(["a", "svc", "k8s", "b.yaml", "x.tf", "node_modules", ".terraform", ".git", "gitx",
                        "x.venv", "é", "\udcff.yaml", "\udcfe.md", "__pycache__", ".prr-lint-cache"])
LISTING = st.lists(st.lists(PART, min_size=1, max_size=4).map("/".join), max_size=12)


def _per_path(paths: list[str]) -> tuple[list[str], dict]:
    kept, problems = [], {}
    for rel in paths:
        if discover._SKIPPED.search(rel):
            continue
        if discover.has_surrogates(rel):
            if rel.endswith(discover.READ_EXT):
                problems[discover.printable(rel)] = "file name is not valid UTF-8; not checked"
            continue
        kept.append(rel)
    return sorted(set(kept)), problems


@settings(max_examples=300, deadline=None)
@given(paths=LISTING)
def test_a_listing_is_filtered_the_same_whole_or_path_by_path(tmp_path_factory, paths):
    root = str(tmp_path_factory.mktemp("repo"))
    os.mkdir(os.path.join(root, ".git"))
    original = discover._git_files
    discover._git_files = lambda *args, **kwargs: list(paths)
    try:
        problems: dict = {}
        assert (discover.list_files(root, [""], [], [], problems=problems), problems) == _per_path(paths)
    finally:
        discover._git_files = original


def test_a_clean_listing_takes_no_step_per_path(tmp_path, monkeypatch):
    os.mkdir(tmp_path / ".git")
    searched: list[str] = []
    pattern = discover._SKIPPED

    class Counted:
        def search(self, rel):
            searched.append(rel)
            return pattern.search(rel)

    clean = [f"services/svc-{i}/k8s/deployment.yaml" for i in range(500)]
    monkeypatch.setattr(discover, "_SKIPPED", Counted())
    monkeypatch.setattr(discover, "_git_files", lambda *args, **kwargs: list(clean))
    assert discover.list_files(str(tmp_path), [""], [], []) == sorted(clean)
    assert searched == []
    with_skipped = clean + ["services/svc-1/node_modules/x.yaml"]
    monkeypatch.setattr(discover, "_git_files", lambda *args, **kwargs: list(with_skipped))
    assert discover.list_files(str(tmp_path), [""], [], []) == sorted(clean)
    assert len(searched) == len(with_skipped)
