"""resolve_path's shortcut for plain references gives what the join and normpath give, for any reference."""

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from prr_lint.service import resolve_path


def _by_normpath(base_dir: str, ref: str, anchor: str = "") -> str:
    ref = ref.split("#", 1)[0]
    joined = posixpath.join(anchor, ref.lstrip("/")) if ref.startswith("/") else posixpath.join(base_dir, ref)
    norm = posixpath.normpath(joined) if joined else "."
    return "" if norm == "." else norm


PART = st.sampled_from(["", ".", "..", "...", "a", "k8s", ".hidden", "b.yaml", " ", "x#y", "..a"])
PATH = st.lists(PART, max_size=5).map("/".join) | st.lists(PART, max_size=5).map(lambda p: "/" + "/".join(p))


@given(base_dir=PATH, ref=PATH | st.text(max_size=12), anchor=PATH)
def test_resolve_path_is_the_normalised_join(base_dir, ref, anchor):
    assert resolve_path(base_dir, ref, anchor) == _by_normpath(base_dir, ref, anchor)


def test_plain_references_and_the_rest():
    cases = [("services/a", "k8s/"), ("services/a", "k8s//"), ("services/a", "./k8s"), ("services/a", "../b/c"),
             ("", "charts/x"), ("services/a", "/infra"), ("services/a", "docs/runbook.md#rollback"),
             ("services/a", "."), ("services/a", ""), ("a/./b", "c"), ("a/", "c"), ("services/a", "k8s/./x")]
    assert [resolve_path(b, r, "proj") for b, r in cases] == [_by_normpath(b, r, "proj") for b, r in cases]
    assert resolve_path("services/a", "k8s/") == "services/a/k8s"
