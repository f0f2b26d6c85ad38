"""Rules do each piece of work once: a warm run validates no unchanged manifest again, and a run parses,
walks and resolves each distinct expression or link once however many rules and services ask. Work is
counted (validations, parses, walks, lookups), never timed; findings stay exactly those of an uncached run."""

import os
import sys

import pytest

from prr_lint.config import load_config
from prr_lint.engine import Options, run
from prr_lint.verdicts import MEMO_KEY, verdict_key, verdicts_of

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from generate import generate  # noqa: E402


def _findings(result) -> list:
    return [(f.rule_id, f.file, f.span.line, f.span.col, f.message) for f in result.findings]


@pytest.fixture
def mono(tmp_path, monkeypatch):
    """(root, run) of a generated four-service monorepo; run(*paths) checks it with a private user cache."""
    from prr_lint import cache

    monkeypatch.setattr(cache, "RACY_SECONDS", 0)   # files of a test are seconds old at most
    root = str(tmp_path / "repo")
    generate(4, root)
    home = str(tmp_path / "home")

    def check(*paths: str, use_cache: bool = True):
        return run(Options(paths=[os.path.join(root, p) for p in paths] or [root],
                           config=load_config(os.path.join(root, ".prr-lint.yaml")), root=root,
                           cache_home=home, use_cache=use_cache))

    return root, check


def _edit(root: str, rel: str, old: str, new: str) -> None:
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert old in text
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace(old, new))


# -- PRR001: schema verdicts -------------------------------------------------------------------------------
def test_a_warm_run_validates_no_unchanged_manifest(mono):
    root, check = mono
    uncached = check(use_cache=False)
    assert verdicts_of(uncached.repo).validations == 4
    cold = check()
    assert verdicts_of(cold.repo).validations == 4
    warm = check()
    assert verdicts_of(warm.repo).validations == 0
    assert _findings(cold) == _findings(warm) == _findings(uncached)
    # an edited manifest is validated again, the others are not
    _edit(root, "services/svc-2/service.yaml", "owner: team-2", "owner: team-two")
    edited = check()
    assert verdicts_of(edited.repo).validations == 1
    assert _findings(edited) == _findings(check(use_cache=False))


def test_an_invalid_manifest_is_validated_and_reported_on_every_run(mono):
    root, check = mono
    _edit(root, "services/svc-1/service.yaml", "  runbooks:", "  runbook:")
    expected = [f for f in _findings(check(use_cache=False)) if f[0] == "PRR001"]
    assert [f[:3] for f in expected] == [("PRR001", "services/svc-1/service.yaml", 16)]
    assert expected[0][4] == "spec.runbook: Additional properties are not allowed ('runbook' was unexpected)"
    check()
    for _ in range(2):
        again = check()
        assert verdicts_of(again.repo).validations == 1        # the invalid one; the three valid ones are known
        assert [f for f in _findings(again) if f[0] == "PRR001"] == expected


def test_a_one_file_run_keeps_the_verdicts_of_the_other_manifests(mono):
    root, check = mono
    check()
    _edit(root, "services/svc-3/service.yaml", "owner: team-3", "owner: team-three")
    one = check("services/svc-3")
    assert verdicts_of(one.repo).validations == 1
    assert verdicts_of(check().repo).validations == 0


def test_verdicts_the_cache_did_not_sign_are_not_trusted(mono, tmp_path):
    root, check = mono
    warm_findings = _findings(check())
    store = check().repo.cache
    name = store.side_name(MEMO_KEY)
    path = os.path.join(store.directory, name)
    assert os.path.exists(path)
    with open(path, "rb") as fh:
        magic, mac, payload = fh.read().split(b"\n", 2)
    with open(path, "wb") as fh:        # the same keys under a forged MAC
        fh.write(magic + b"\n" + b"0" * len(mac) + b"\n" + payload)
    forged = check()
    assert verdicts_of(forged.repo).validations == 4
    assert _findings(forged) == warm_findings


def test_a_verdict_key_tells_json_types_apart():
    keys = {verdict_key({"a": v}, "service.schema.json") for v in (1, 1.0, True, "1", [1], None)}
    assert len(keys) == 6 and None not in keys
    assert verdict_key({"a": 1}, "service.schema.json") != verdict_key({"a": 1}, "waivers.schema.json")
    # what JSON would carry as something else is never given a verdict: always validated
    assert verdict_key({"a": (1,)}, "service.schema.json") is None
    assert verdict_key({1: "a"}, "service.schema.json") is None
    assert verdict_key({"a": float("nan")}, "service.schema.json") is None
