"""Every rule over its own bad/ and good/ fixtures: the exact (rule, file, line) set must match, and each bad
fixture's findings as users read them (`file:line:col ID message`) must match the snapshot beside it.

After an intended change of a message or column: PRR_UPDATE_SNAPSHOTS=1 pytest tests/test_rule_fixtures.py,
then review the diff of rules/**/bad/*.snap."""

import os

import pytest

from prr_lint.fixtures import expected, findings, fixtures, snapshot, snapshot_path, stray_snapshots
from prr_lint.registry import load_rules

from conftest import golden, require_kustomize

RULES = [r for r in load_rules() if r.directory]
CASES = [(r.id, sub, path) for r in RULES for sub in ("bad", "good") for path in fixtures(r.directory, sub)]
HOW = "pytest tests/test_rule_fixtures.py"


@pytest.mark.parametrize("rule_id,sub,fixture", CASES,
                         ids=[f"{c[0]}-{c[1]}-{os.path.basename(c[2])}" for c in CASES])
def test_fixture(rule_id, sub, fixture):
    if os.path.isdir(fixture) and any("kustomization.yaml" in names for _, _, names in os.walk(fixture)):
        require_kustomize()
    want = {e for e in expected(fixture) if e[0] == rule_id} if sub == "bad" else set()
    found = findings(fixture, rule_id)
    assert {(f.rule_id, f.file, f.span.line) for f in found} == want
    if sub == "bad":
        assert want, f"{fixture}: a bad fixture must mark at least one `# expect: {rule_id}` line"
        golden(snapshot_path(fixture), snapshot(found), HOW)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_has_good_and_bad_cases(rule):
    assert fixtures(rule.directory, "bad"), f"{rule.id} has no bad/ fixture"
    assert fixtures(rule.directory, "good"), f"{rule.id} has no good/ fixture"


def test_bad_fixtures_only_expect_their_own_rule():
    for rule in RULES:
        for fixture in fixtures(rule.directory, "bad"):
            others = {e[0] for e in expected(fixture) if e[0] != rule.id}
            assert not others, f"{fixture} expects other rules {others}"


def test_every_snapshot_belongs_to_a_bad_fixture():
    assert [p for r in RULES for p in stray_snapshots(r.directory)] == []
