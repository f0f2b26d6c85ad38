"""The fixture harness over the example Rego policies (examples/policy/): each policy over its own bad/ and good/,
through the real engine, with the exact set of (rule id, file, line) pairs and each bad fixture's findings as users read
them matching the snapshot beside it (PRR_UPDATE_SNAPSHOTS=1 rewrites); and the same findings over an OPA server."""

import os

import pytest

from prr_lint.fixtures import expected, findings, fixtures, snapshot, snapshot_path, stray_snapshots
from prr_lint.policy.runtime import PolicyRuntime, PolicySettings

from conftest import golden
from opa_standin import OpaStandin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples", "policy")

RUNTIME = PolicyRuntime(PolicySettings())
RULES = RUNTIME.load_tree(EXAMPLES)
CASES = [(r, sub, path) for r in RULES for sub in ("bad", "good") for path in fixtures(r.directory, sub)]


def test_examples_hold_at_least_three_policy_rules():
    assert len(RULES) >= 3
    assert all(r.origin == "rego" and r.directory for r in RULES)


@pytest.mark.parametrize("rule,sub,fixture", CASES,
                         ids=[f"{c[0].id}-{c[1]}-{os.path.basename(c[2])}" for c in CASES])
def test_policy_fixture(rule, sub, fixture):
    want = {e for e in expected(fixture) if e[0] == rule.id} if sub == "bad" else set()
    found = findings(fixture, rule.id, extra_rules=RULES)
    assert {(f.rule_id, f.file, f.span.line) for f in found} == want
    if sub == "bad":
        assert want, f"{fixture}: a bad fixture must mark at least one `# expect: {rule.id}` line"
        golden(snapshot_path(fixture), snapshot(found), "pytest tests/test_policy_fixtures.py")


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_policy_rule_has_good_and_bad_cases(rule):
    assert fixtures(rule.directory, "bad") and fixtures(rule.directory, "good")


def test_every_snapshot_belongs_to_a_bad_fixture():
    assert [p for r in RULES for p in stray_snapshots(r.directory)] == []


@pytest.mark.slow
def test_fixtures_give_the_same_findings_on_an_opa_server():
    with OpaStandin() as opa:
        remote = PolicyRuntime(PolicySettings(opa_url=opa.url, timeout=20))
        rules = remote.load_tree(EXAMPLES)
        remote.prepare()
        try:
            for rule, _sub, fixture in CASES:
                twin = next(r for r in rules if r.id == rule.id)
                assert snapshot(findings(fixture, rule.id, extra_rules=rules)) == \
                    snapshot(findings(fixture, rule.id, extra_rules=RULES)), fixture
                assert twin.origin == "rego"
        finally:
            remote.close()
        assert any(m == "POST" and p.startswith("/v1/data/prr/") for m, p in opa.state.requests)
