"""The readiness scorecard's formula, the dependency graph layout and the comparison of two reports, on small
inputs whose answer is known."""

import json
from types import SimpleNamespace

import pytest

from prr_lint import compare, graphsvg, scorecard
from prr_lint.engine import Result, ServiceSummary
from prr_lint.errors import UsageError
from prr_lint.model import Finding, Span, Suppression
from prr_lint.report import load_report
from prr_lint.rule import Rule
from prr_lint.scorecard import Check, ServiceCard


def _rule(rule_id, tags, severity="error", targets=("service-graph",)):
    return Rule(id=rule_id, name=rule_id.lower(), summary="s", why="w", fix="f", targets=list(targets),
                tags=list(tags), severity={t: severity for t in range(4)}, since="0.1.0")


def _finding(rule_id, severity="error", service="web"):
    return Finding(rule_id, rule_id.lower(), severity, "m", "service.yaml", Span(1), service, 1, "a", "fp")


OWNER = _rule("SVC001", ["ownership"])
SLO = _rule("SVC010", ["slo"])
ROLLBACK = _rule("SVC030", ["rollback"], severity="warning")
DASHBOARD = _rule("SVC050", ["alerting"], severity="info")
CUSTOM = _rule("ORG001", [])


@pytest.mark.parametrize("rule,level", [
    (OWNER, "bronze"), (SLO, "silver"), (ROLLBACK, "gold"), (CUSTOM, "gold"),
    (_rule("SVC002", ["ownership", "alerting"]), "bronze"),      # the lowest level among its tags
    (_rule("SVC033", ["rollback", "availability"]), "gold"),
])
def test_rule_level_comes_from_its_tags(rule, level):
    assert scorecard.rule_level(rule) == level


def _card(tier, failing=(), rules=(OWNER, SLO, ROLLBACK, DASHBOARD, CUSTOM)):
    found = {f.rule_id: [f] for f in failing}
    return ServiceCard("web", tier, "team-web", [Check(r, r.level(tier), found.get(r.id, [])) for r in rules])


def test_every_check_passing_is_gold_and_100():
    card = _card(1)
    assert (card.level, card.target, card.ready, card.score) == ("gold", "gold", True, 100)


def test_a_level_needs_its_checks_and_those_below():
    # a failing slo check (silver) holds the service at bronze, even though every gold check passes
    card = _card(1, [_finding("SVC010")])
    assert card.level == "bronze" and not card.ready
    # a failing ownership check: no level at all
    assert _card(3, [_finding("SVC001")]).level == "none"
    # only a gold check fails: silver, which is enough for tier 2 and not for tier 1
    assert _card(2, [_finding("SVC030", "warning")]).level == "silver"
    assert _card(2, [_finding("SVC030", "warning")]).ready
    assert not _card(1, [_finding("SVC030", "warning")]).ready


def test_info_findings_lower_the_score_but_not_the_level():
    card = _card(1, [_finding("SVC050", "info")])
    assert card.level == "gold"
    # weights: error 3 (SVC001, SVC010, ORG001), warning 2 (SVC030), info 1 (SVC050): 12 in all, 11 passing
    assert card.score == 11 * 100 // 12 == 91


def test_score_rounds_down_so_100_means_nothing_fails():
    rules = [_rule(f"SVC{n:03}", ["slo"]) for n in range(300)]
    card = _card(1, [_finding("SVC000")], rules=rules)
    assert card.score == 99


def test_failing_checks_in_json_most_severe_first():
    card = _card(1, [_finding("SVC050", "info"), _finding("SVC030", "warning"), _finding("SVC001")])
    data = card.as_json()
    assert [c["rule"] for c in data["failing"]] == ["SVC001", "SVC030", "SVC050"]
    assert data["failing"][0] == {"rule": "SVC001", "name": "svc001", "summary": "s", "area": "svc",
                                  "level": "bronze", "severity": "error", "findings": 1}
    assert (data["checks"], data["passing"]) == (5, 2)


def test_a_rule_applies_at_tiers_it_has_a_severity_for_and_to_what_the_service_has():
    k8s_tier0 = Rule(id="K8S009", name="spread", summary="s", why="w", fix="f", targets=["k8s"],
                     tags=["availability"], severity={0: "error", 1: None, 2: None, 3: None}, since="0.1.0")
    assert scorecard._applies(k8s_tier0, 0, {"service", "k8s"})
    assert not scorecard._applies(k8s_tier0, 1, {"service", "k8s"})     # off at tier 1
    assert not scorecard._applies(k8s_tier0, 0, {"service"})            # the service has no Kubernetes object
    assert scorecard._applies(OWNER, 0, {"backstage"})                  # service rules apply to every service


# -- the dependency graph layout ------------------------------------------------------------------------------

def _graph(edges, services=None):
    names = services if services is not None else sorted({n for e in edges for n in e})
    return {"services": [{"name": n, "tier": 1} for n in names],
            "edges": [{"from": a, "to": b, "critical": True, "declared": b in names} for a, b in edges]}


def test_layers_put_every_dependency_below_its_dependents():
    lay = graphsvg.layout(_graph([("web", "api"), ("api", "db"), ("web", "db"), ("batch", "db")]))
    assert lay.layers == [["batch", "web"], ["api"], ["db"]]
    assert lay.back_edges == set()
    assert all(lay.position[a][1] < lay.position[b][1] for a, b in [("web", "api"), ("api", "db"), ("batch", "db")])


def test_a_cycle_is_drawn_with_one_back_edge():
    lay = graphsvg.layout(_graph([("a", "b"), ("b", "c"), ("c", "a")]))
    assert lay.layers == [["a"], ["b"], ["c"]]
    assert lay.back_edges == {("c", "a")}
    svg = graphsvg.svg(_graph([("a", "b"), ("b", "c"), ("c", "a")]), {"a": "gold"})
    assert svg.count('class="edge critical cycle"') == 1
    assert 'class="node level-gold" data-service="a"' in svg


def test_barycenter_orders_a_layer_under_its_dependents():
    lay = graphsvg.layout(_graph([("a", "z"), ("b", "y")], services=["a", "b", "y", "z"]))
    assert lay.layers == [["a", "b"], ["z", "y"]]       # z under a, y under b: no crossing


def test_undeclared_dependency_is_a_dashed_box_and_names_are_escaped():
    svg = graphsvg.svg(_graph([("web", "<b>x</b>\n::error::y")], services=["web"]), {"web": "none"})
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;\\n::error::y" in svg
    assert '<g class="node undeclared"' in svg and "\n::error" not in svg


# -- comparing two reports ------------------------------------------------------------------------------------

def _report(services, findings):
    return {"summary": {"errors": sum(f["severity"] == "error" for f in findings),
                        "warnings": sum(f["severity"] == "warning" for f in findings)},
            "services": [{"name": n, "tier": 1, "errors": e, "warnings": w} for n, (e, w, _, _) in services.items()],
            "scorecard": {"services": [{"name": n, "level": lv, "score": s}
                                       for n, (_, _, lv, s) in services.items()]},
            "findings": findings}


def _f(rule, fp, line=1, severity="error", suppressed=None):
    return {"rule": rule, "fingerprint": fp, "line": line, "severity": severity, "file": "x.yaml",
            "message": f"{rule} message", "service": "web", "suppressed": suppressed}


def test_compare_matches_findings_by_fingerprint_not_line():
    base = _report({"web": (2, 0, "bronze", 40)}, [_f("K8S002", "a"), _f("SVC001", "b")])
    head = _report({"web": (2, 0, "bronze", 40)}, [_f("K8S002", "a", line=9), _f("SVC010", "c")])
    c = compare.compare(base, head, "base.json")
    assert [f["rule"] for f in c.new] == ["SVC010"] and [f["rule"] for f in c.fixed] == ["SVC001"]
    assert c.services[0].status == "same"


def test_compare_counts_repeated_fingerprints_and_skips_suppressed():
    base = _report({"web": (1, 0, "none", 0)}, [_f("K8S002", "a")])
    head = _report({"web": (2, 0, "none", 0)}, [_f("K8S002", "a"), _f("K8S002", "a"),
                                                  _f("K8S003", "b", suppressed={"kind": "waiver"})])
    c = compare.compare(base, head, "base.json")
    assert [f["rule"] for f in c.new] == ["K8S002"] and c.fixed == []


@pytest.mark.parametrize("before,after,status", [
    ((0, 0, "silver", 80), (0, 0, "gold", 70), "better"),      # a level counts before the score
    ((0, 0, "gold", 90), (1, 0, "silver", 95), "worse"),
    ((3, 0, "none", 40), (2, 0, "none", 45), "better"),
    ((3, 0, "none", 40), (4, 0, "none", 40), "worse"),         # same level and score, more errors
    ((3, 1, "none", 40), (3, 1, "none", 40), "same"),
])
def test_compare_service_status(before, after, status):
    c = compare.compare(_report({"web": before}, []), _report({"web": after}, []), "b.json")
    assert c.services[0].status == status


def test_compare_new_and_removed_services():
    c = compare.compare(_report({"old": (0, 0, "gold", 100)}, []), _report({"new": (1, 0, "none", 50)}, []), "b")
    assert [(s.name, s.status) for s in c.services] == [("new", "new"), ("old", "removed")]
    assert "removed" in compare.text(c) and ":new: new" in compare.markdown(c)


# -- saved reports are validated input ------------------------------------------------------------------------

@pytest.mark.parametrize("content,message", [
    ("{not json", "not a JSON report"),
    ('{"version": 1}', "not a prr-lint JSON report: 'findings' is a required property"),
    ("[" * 100000 + "]" * 100000, "not a JSON report"),
    (b"\xff\xfe", "not a JSON report"),
])
def test_a_saved_report_that_is_not_one_is_a_usage_error(tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UsageError) as e:
        load_report(str(path))
    assert str(e.value).startswith(f"{path}: {message}")


def test_a_missing_report_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read report: No such file or directory"):
        load_report(str(tmp_path / "none.json"))


def test_a_report_with_a_wrong_scorecard_is_refused(tmp_path):
    report = {"version": 1, "tool": {"name": "prr-lint", "version": "0"},
              "summary": {k: 0 for k in ("errors", "warnings", "info", "suppressed", "files", "documents")},
              "findings": [], "services": [], "notices": [],
              "scorecard": {"levels": [], "targets": {}, "services": [{"name": "x"}]}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    with pytest.raises(UsageError, match="scorecard: 'complete' is a required property"):
        load_report(str(path))


def test_compare_with_a_report_without_a_scorecard_uses_the_counts():
    base = _report({"web": (3, 0, "none", 0)}, [])
    del base["scorecard"]
    c = compare.compare(base, _report({"web": (3, 0, "gold", 100)}, []), "old.json")
    assert c.services[0].status == "same"            # no level before: not "better" for a level it never had
    c = compare.compare(base, _report({"web": (2, 0, "gold", 100)}, []), "old.json")
    assert c.services[0].status == "better"
    assert "level ? -> gold" in compare.text(c)


def test_a_wide_layer_wraps_and_edges_still_point_down():
    edges = [("app", f"dep{n:02}") for n in range(8)] + [(f"dep{n:02}", "db") for n in range(8)]
    lay = graphsvg.layout(_graph(edges))
    assert [len(layer) for layer in lay.layers] == [1, 8, 1]
    rows = sorted({y for _, y in lay.position.values()})
    assert len(rows) == 4                                   # the 8 dependencies on two rows of 6 and 2
    assert all(lay.position[a][1] < lay.position[b][1] for a, b in edges)
    assert lay.width == 2 * graphsvg.MARGIN + 6 * graphsvg.NODE_W + 5 * graphsvg.GAP_X


def test_a_dependency_sits_under_its_dependents():
    lay = graphsvg.layout(_graph([("a", "z")], services=["a", "b", "c"]))
    assert lay.position["z"][0] == lay.position["a"][0] == graphsvg.MARGIN
    # two dependencies that both want the place under their one dependent: side by side, not overlapping
    lay = graphsvg.layout(_graph([("c", "x"), ("c", "y")], services=["a", "b", "c"]))
    step = graphsvg.NODE_W + graphsvg.GAP_X
    assert lay.position["y"][0] - lay.position["x"][0] == step
    assert lay.position["y"][0] + graphsvg.NODE_W + graphsvg.MARGIN <= lay.width     # pushed back inside


def _result(findings, scope=()):
    return Result(root="/r", findings=findings, rules=[OWNER, SLO], notices=[], scope=list(scope),
                  services=[ServiceSummary("web", 1, "web/service.yaml", "team-web")])


def test_waived_findings_pass_their_check_and_baselined_ones_still_fail():
    waived, baselined = _finding("SVC001"), _finding("SVC010")
    waived.suppression = Suppression("waiver", "accepted until the migration", "team-web", "2027-01-31")
    baselined.suppression = Suppression("baseline", "recorded in the baseline")
    card = scorecard.build(_result([waived, baselined])).services[0]
    assert [c.rule.id for c in card.failing] == ["SVC010"] and card.level == "bronze"


def test_a_card_is_partial_when_the_run_did_not_report_all_of_the_service():
    assert scorecard.build(_result([])).as_json()["complete"] is True
    assert scorecard.build(_result([], scope=["web"])).services[0].complete
    partial = scorecard.build(_result([], scope=["web/k8s"]))
    assert not partial.services[0].complete and partial.as_json()["complete"] is False
    diff = _result([])
    diff.diff = SimpleNamespace(base="origin/main")         # a diff-aware run reports changed lines only
    assert not scorecard.build(diff).services[0].complete
