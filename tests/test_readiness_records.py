"""Rule pack v2's readiness records (SVC034, SVC070, SVC071, SVC080) and graph rules: tier numbers from the config,
Backstage Components, and manifests whose fields have the wrong shape."""

import datetime

import pytest

from prr_lint.config import load_config
from prr_lint.engine import Options, run
from prr_lint.errors import UsageError

from conftest import write

V2_RULES = ["SVC034", "SVC060", "SVC061", "SVC062", "SVC070", "SVC071", "SVC080"]


def check(root, config_file=None, select=V2_RULES):
    result = run(Options(paths=[str(root)], config=load_config(config_file), root=str(root), use_cache=False,
                         select=list(select) + ["PRR007"], today=datetime.date(2026, 11, 1)))
    assert not result.errors, result.errors
    return sorted((f.rule_id, f.file, f.span.line, f.severity) for f in result.findings)


SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata: {name: orders, owner: team-orders, tier: 1}
spec:
  rollback: {strategy: canary, maxDuration: 45m}
  capacity:
    plan: https://wiki.example.com/orders/capacity
    headroom: 15
    loadTest: {lastRun: 2026-06-01, report: https://grafana.example.com/d/k6}
  review: {approver: sre-leads, date: 2025-09-01, record: https://wiki.example.com/prr/orders}
"""


def test_defaults_then_tier_numbers_from_the_config(tmp_path):
    write(tmp_path, {"orders/service.yaml": SERVICE})
    assert check(tmp_path) == [("SVC034", "orders/service.yaml", 5, "warning"),
                               ("SVC070", "orders/service.yaml", 8, "warning"),
                               ("SVC080", "orders/service.yaml", 10, "warning")]
    write(tmp_path, {".prr-lint.yaml": 'tiers:\n  "1": {rollback_max_duration: 1h, min_capacity_headroom: 10,\n'
                                       '        load_test_within_days: 30, review_within_days: 730}\n'})
    assert check(tmp_path, str(tmp_path / ".prr-lint.yaml")) == [("SVC071", "orders/service.yaml", 9, "warning")]


def test_a_tier_without_numbers_is_not_checked(tmp_path):
    write(tmp_path, {"orders/service.yaml": SERVICE,
                     ".prr-lint.yaml": 'tiers:\n  "1": {rollback_max_duration: null, min_capacity_headroom: null,\n'
                                       '        load_test_within_days: null, review_within_days: null}\n'})
    assert check(tmp_path, str(tmp_path / ".prr-lint.yaml")) == []


@pytest.mark.parametrize("text,where", [
    ('tiers:\n  "0": {rollback_max_duration: fast}\n', ":2: "),
    ('tiers:\n  "0": {min_capacity_headroom: 130}\n', ":2: "),
    ("availability_slos: {names: availability}\n", ":1: "),
])
def test_bad_numbers_are_a_config_error_with_a_line(tmp_path, text, where):
    write(tmp_path, {".prr-lint.yaml": text})
    with pytest.raises(UsageError) as err:
        load_config(str(tmp_path / ".prr-lint.yaml"))
    assert where in str(err.value)


def test_availability_slo_names_alone_keep_the_default_types(tmp_path):
    write(tmp_path, {".prr-lint.yaml": "availability_slos: {names: [success-rate]}\n"})
    assert load_config(str(tmp_path / ".prr-lint.yaml")).availability_slos == {
        "types": ["availability"], "names": ["success-rate"]}


def messages(root, select) -> list:
    result = run(Options(paths=[str(root)], config=load_config(None), root=str(root), use_cache=False,
                         select=list(select), today=datetime.date(2026, 11, 1)))
    assert not result.errors, result.errors
    return sorted((f.rule_id, f.span.line, f.message) for f in result.findings)


def test_backstage_component_keeps_its_records_in_annotations_and_links(tmp_path):
    """A Component has no `spec.capacity` or `spec.review`: the records are `prr-lint/*` annotations or
    titled links, and findings point at and name those."""
    write(tmp_path, {"search/catalog-info.yaml": """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: search
  annotations:
    prr-lint/tier: "0"
    prr-lint/capacity-headroom: "15%"
    prr-lint/load-test-date: "2026-03-01"
    prr-lint/review-approver: sre-leads
    prr-lint/review-date: "2026-10-01"
    prr-lint/review-record: docs/prr.md
  links:
    - {title: Capacity plan, url: https://wiki.example.com/search/capacity}
    - {title: Load test report, url: docs/load-test.md}
spec:
  type: service
  owner: team-search
"""})
    assert check(tmp_path, select=["SVC070", "SVC071", "SVC080"]) == [
        ("SVC070", "search/catalog-info.yaml", 7, "error"), ("SVC071", "search/catalog-info.yaml", 8, "error"),
        ("SVC071", "search/catalog-info.yaml", 14, "error"), ("SVC080", "search/catalog-info.yaml", 11, "error")]
    assert messages(tmp_path, ["SVC070", "SVC071", "SVC080"]) == [
        ("SVC070", 7, "search (tier 0): capacity headroom 15% is under the tier 0 minimum of 30%; add capacity (or "
                      "lower the planned peak) and update the annotation prr-lint/capacity-headroom"),
        ("SVC071", 8, "search (tier 0): last load test was 2026-03-01 (245 days ago), more than the 90 days allowed "
                      "for tier 0; run it again and update the annotation prr-lint/load-test-date"),
        ("SVC071", 14, "search (tier 0): load test report 'docs/load-test.md' (a metadata.links entry titled "
                       "\"Load test report\") does not exist; correct the path or add the file"),
        ("SVC080", 11, "search (tier 0): review record 'docs/prr.md' (the annotation prr-lint/review-record) does "
                       "not exist; correct the path or add the file")]


def test_backstage_component_without_records_is_told_which_annotations_to_add(tmp_path):
    write(tmp_path, {"search/catalog-info.yaml": """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: search
  annotations: {prr-lint/tier: "1"}
spec:
  type: service
  owner: team-search
  capacity: {plan: https://wiki.example.com/search/capacity, headroom: 50}
"""})
    got = messages(tmp_path, ["SVC070", "SVC071", "SVC080"])
    assert [(rule, line) for rule, line, _ in got] == [("SVC070", 5), ("SVC071", 5), ("SVC080", 5)]
    assert got[0][2] == ('search (tier 1): no capacity plan; add the annotation prr-lint/capacity-plan (or a '
                         'metadata.links entry titled "Capacity plan") and the annotation prr-lint/capacity-headroom '
                         '(tier 1: at least 20%)')
    assert got[1][2] == ('search (tier 1): no load test recorded; run one and add the annotation '
                         'prr-lint/load-test-date and the annotation prr-lint/load-test-report (or a metadata.links '
                         'entry titled "Load test report") (tier 1: at least every 180 days)')
    assert got[2][2] == ('search (tier 1): no production-readiness review on record; hold one and add the annotation '
                         'prr-lint/review-approver, the annotation prr-lint/review-date and the annotation '
                         'prr-lint/review-record (or a metadata.links entry titled "Readiness review") (tier 1: at '
                         'least every 365 days)')


def test_fields_of_the_wrong_shape_are_findings_not_crashes(tmp_path):
    write(tmp_path, {
        "a/service.yaml": """\
apiVersion: prr-lint/v1
kind: Service
metadata: {name: a, owner: t, tier: 0}
spec:
  rollback: {strategy: canary, maxDuration: [15m]}
  capacity: {plan: [x], headroom: true, loadTest: {lastRun: yesterday, report: ""}}
  review: {approver: "", date: 20260101, record: {path: x}}
  slos: [{name: availability, objective: "99.9%"}, 7, {name: uptime, objective: 250}]
  dependencies: [b, {name: 3, critical: true}, {critical: true}, null, {name: b, critical: "yes"}]
""",
        "b/service.yaml": """\
apiVersion: prr-lint/v1
kind: Service
metadata: {name: b, owner: t, tier: "1"}
spec:
  capacity: "plenty"
  review: [yes]
  slos: {availability: 99.9}
  dependencies: {name: a, critical: true}
""",
    })
    got = check(tmp_path)
    assert not [f for f in got if f[0] == "PRR007"]
    assert got == sorted([("SVC034", "a/service.yaml", 5, "error"),
                   ("SVC070", "a/service.yaml", 6, "error"), ("SVC070", "a/service.yaml", 6, "error"),
                   ("SVC071", "a/service.yaml", 6, "error"), ("SVC071", "a/service.yaml", 6, "error"),
                   ("SVC080", "a/service.yaml", 7, "error"), ("SVC080", "a/service.yaml", 7, "error"),
                   ("SVC080", "a/service.yaml", 7, "error"),
                   ("SVC070", "b/service.yaml", 5, "warning"), ("SVC071", "b/service.yaml", 5, "warning"),
                   ("SVC080", "b/service.yaml", 6, "warning")])


@pytest.mark.parametrize("age,flagged", [(90, False), (91, True), (-1, True)])
def test_load_test_window_edges(tmp_path, age, flagged):
    ran = (datetime.date(2026, 11, 1) - datetime.timedelta(days=age)).isoformat()
    write(tmp_path, {"p/service.yaml": f"""\
apiVersion: prr-lint/v1
kind: Service
metadata: {{name: p, owner: t, tier: 0}}
spec:
  capacity: {{plan: https://wiki.example.com/p, headroom: 30, loadTest: {{lastRun: {ran}, report: https://x.example.com/r}}}}
  review: {{approver: sre-leads, date: {(datetime.date(2026, 11, 1) - datetime.timedelta(days=age + 275)).isoformat()},
           record: https://wiki.example.com/prr/p}}
"""})
    # the review is 275 days older than the load test: 365 days old exactly when the load test is 90
    want = [("SVC071", "p/service.yaml", 5, "error"), ("SVC080", "p/service.yaml", 6, "error")] if flagged else []
    if age == -1:     # a load test in the future; the review, 274 days old, is within its window
        want = [("SVC071", "p/service.yaml", 5, "error")]
    assert check(tmp_path, select=["SVC070", "SVC071", "SVC080"]) == want
