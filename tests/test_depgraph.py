"""The service dependency graph: edges from manifests and Backstage Components, cycles, the serial availability
ceiling, and the graph rules (SVC060-062) on runs narrowed to one service."""

import datetime
import json
import os
import time

import jsonschema

from prr_lint import depgraph
from prr_lint.config import DEFAULT_AVAILABILITY_SLOS, Config
from prr_lint.depgraph import DependencyGraph, Edge
from prr_lint.engine import Options, run
from prr_lint.reporters import render
from prr_lint.schemas import load_schema
from prr_lint.service import SLO

from conftest import ROOT, golden, write


def manifest(name: str, tier: int, deps=(), slos=()) -> str:
    text = f"apiVersion: prr-lint/v1\nkind: Service\nmetadata: {{name: {name}, owner: team, tier: {tier}}}\nspec:\n"
    if slos:
        text += "  slos:\n" + "".join(f"    - {{name: {n}, objective: {o}}}\n" for n, o in slos)
    if deps:
        text += "  dependencies:\n" + "".join(f"    - {{name: {d}, critical: {str(c).lower()}}}\n" for d, c in deps)
    return text


def graph_of(tmp_path, files: dict, select=("SVC060",), paths=None):
    write(str(tmp_path), files)
    result = run(Options(paths=[str(p) for p in (paths or [tmp_path])], config=Config(), root=str(tmp_path),
                         select=list(select), today=datetime.date(2026, 11, 1), use_cache=False))
    return result, depgraph.of(result.graph, DEFAULT_AVAILABILITY_SLOS)


def synthetic(edges: list[tuple[str, str]], tiers: dict | None = None) -> DependencyGraph:
    """A graph of critical edges, without manifests."""
    names = {n for e in edges for n in e}
    graph = DependencyGraph(tiers=tiers or {n: 0 for n in names})
    for i, (source, target) in enumerate(edges):
        edge = Edge(source, target, True, ("spec", "dependencies", i))
        graph.edges.append(edge)
        graph._out.setdefault(source, []).append(edge)
    return graph


def test_cycle_is_named_from_its_first_service_whatever_the_edge_order():
    one = synthetic([("orders", "inventory"), ("inventory", "pricing"), ("pricing", "orders"), ("web", "orders")])
    two = synthetic([("web", "orders"), ("pricing", "orders"), ("inventory", "pricing"), ("orders", "inventory")])
    want = ["inventory", "pricing", "orders", "inventory"]
    assert one.cycles() == two.cycles() == {"inventory": want, "orders": want, "pricing": want}


def test_each_service_gets_the_shortest_cycle_through_it():
    # a <-> b, and a longer loop b -> c -> d -> b sharing b
    graph = synthetic([("a", "b"), ("b", "a"), ("b", "c"), ("c", "d"), ("d", "b")])
    assert graph.cycles() == {"a": ["a", "b", "a"], "b": ["a", "b", "a"], "c": ["b", "c", "d", "b"],
                              "d": ["b", "c", "d", "b"]}


def test_self_dependency_is_a_cycle_and_an_acyclic_graph_has_none():
    assert synthetic([("a", "a")]).cycles() == {"a": ["a", "a"]}
    assert synthetic([("a", "b"), ("b", "c"), ("a", "c")]).cycles() == {}


def test_non_critical_and_undeclared_edges_make_no_cycle():
    graph = synthetic([("a", "b")], tiers={"a": 0, "b": 0})
    back = Edge("b", "a", False, ("spec", "dependencies", 0))
    graph.edges.append(back)
    graph._out.setdefault("b", []).append(back)
    assert graph.cycles() == {}
    assert synthetic([("a", "ghost"), ("ghost", "a")], tiers={"a": 0}).cycles() == {}


def test_long_chain_and_large_ring_stay_fast():
    chain = synthetic([(f"s{i:05d}", f"s{i + 1:05d}") for i in range(20000)])
    started = time.perf_counter()
    assert chain.cycles() == {}        # iterative: a 20,000-deep chain exhausts no stack
    ring = synthetic([(f"r{i:04d}", f"r{(i + 1) % 300:04d}") for i in range(300)])
    cycles = ring.cycles()
    assert len(cycles) == 300 and cycles["r0150"][0] == "r0000" and len(cycles["r0150"]) == 301
    assert time.perf_counter() - started < 10


def test_ceiling_multiplies_critical_dependencies_with_an_availability_slo(tmp_path):
    _, graph = graph_of(tmp_path, {
        "web/service.yaml": manifest("web", 0, deps=[("api", True), ("auth", True), ("cache", False),
                                                     ("ghost", True), ("batch", True)]),
        "api/service.yaml": manifest("api", 0, slos=[("availability", 99.9), ("latency", 99.0)]),
        "auth/service.yaml": manifest("auth", 0, slos=[("availability", 99.99), ("uptime", 99.95)]),
        "cache/service.yaml": manifest("cache", 0, slos=[("availability", 90)]),
        "batch/service.yaml": manifest("batch", 2, slos=[("freshness", 95)]),
    })
    value, behind = graph.ceiling("web")
    assert behind == [("api", 99.9), ("auth", 99.95)]       # each with its lowest availability objective
    assert abs(value - 99.85005) < 1e-9
    assert graph.ceiling("api") is None


def test_availability_is_chosen_by_sli_type_first_then_name():
    match = depgraph.availability_matcher(["availability"], ["availability", "*-availability"])

    def slo(name, sli=None):
        return SLO(name, 99.9, "30d", sli, None, ())  # type: ignore[arg-type]

    assert match(slo("availability")) and match(slo("api-availability"))
    assert match(slo("requests", {"type": "availability"}))
    assert not match(slo("availability", {"type": "latency"}))   # a declared type wins over the name
    assert not match(slo("latency"))


def test_backstage_depends_on_is_critical_only_when_annotated(tmp_path):
    component = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: search
  annotations: {prr-lint/tier: "0", prr-lint/critical-dependencies: "index, ranker"}
spec:
  type: service
  owner: team-search
  dependsOn: [component:default/index, component:ranker, resource:default/search-db]
"""
    result, graph = graph_of(tmp_path, {"search/catalog-info.yaml": component,
                                        "index/service.yaml": manifest("index", 2),
                                        "ranker/service.yaml": manifest("ranker", 0)})
    assert [(e.target, e.critical) for e in graph.out_edges("search")] == [
        ("index", True), ("ranker", True), ("search-db", False)]
    assert [(f.rule_id, f.span.line) for f in result.findings] == [("SVC060", 9)]


def test_as_json_lists_services_edges_and_cycles(tmp_path):
    _, graph = graph_of(tmp_path, {
        "a/service.yaml": manifest("a", 0, deps=[("b", True), ("db", True)], slos=[("availability", 99.9)]),
        "b/service.yaml": manifest("b", 1, deps=[("a", True), ("c", False)]),
        "c/service.yaml": manifest("c", 3),
    })
    assert graph.as_json() == {
        "services": [{"name": "a", "tier": 0, "availability": 99.9, "ceiling": None},
                     {"name": "b", "tier": 1, "availability": None, "ceiling": 99.9},
                     {"name": "c", "tier": 3, "availability": None, "ceiling": None}],
        "edges": [{"from": "a", "to": "b", "critical": True, "declared": True},
                  {"from": "a", "to": "db", "critical": True, "declared": False},
                  {"from": "b", "to": "a", "critical": True, "declared": True},
                  {"from": "b", "to": "c", "critical": False, "declared": True}],
        "cycles": [["a", "b", "a"]],
    }


def test_graph_rules_see_every_manifest_when_one_service_is_checked(tmp_path):
    files = {
        "orders/service.yaml": manifest("orders", 0, deps=[("stock", True)]),
        "stock/service.yaml": manifest("stock", 1, deps=[("orders", True)]),
        "web/service.yaml": manifest("web", 1, deps=[("ghost", True)]),
    }
    result, _ = graph_of(tmp_path, files, select=["SVC060", "SVC062"], paths=[tmp_path / "orders"])
    assert sorted((f.rule_id, f.file, f.span.line, f.severity) for f in result.findings) == [
        ("SVC060", "orders/service.yaml", 6, "error"), ("SVC062", "orders/service.yaml", 6, "error")]


def test_undeclared_critical_dependency_is_info_once_per_name(tmp_path):
    result, _ = graph_of(tmp_path, {
        "a/service.yaml": manifest("a", 0, deps=[("payments-db", True)]),
        "b/service.yaml": manifest("b", 1, deps=[("payments-db", True), ("payments-db", True)]),
    })
    assert [(f.file, f.span.line, f.severity) for f in result.findings] == [("a/service.yaml", 6, "info")]
    assert "'payments-db' is not declared" in result.findings[0].message


def test_duplicate_manifest_of_a_name_adds_no_edges(tmp_path):
    _, graph = graph_of(tmp_path, {
        "a/service.yaml": manifest("a", 0, deps=[("b", True)]),
        "z/service.yaml": manifest("a", 0, deps=[("c", True)]),
        "b/service.yaml": manifest("b", 0),
    })
    assert [(e.source, e.target) for e in graph.edges] == [("a", "b")]


# -- the graph in reports -----------------------------------------------------------------------

DEPENDENCY_REPO = os.path.join(ROOT, "tests", "data", "dependency-repo")


def dependency_run():
    return run(Options(paths=[DEPENDENCY_REPO], config=Config(), root=DEPENDENCY_REPO,
                       select=["SVC060", "SVC061", "SVC062"], today=datetime.date(2026, 11, 1), use_cache=False))


def test_graph_rules_on_the_dependency_repository():
    got = sorted((f.rule_id, f.file, f.span.line, f.severity) for f in dependency_run().findings)
    assert got == [("SVC060", "api/service.yaml", 8, "error"),
                   ("SVC060", "storefront/service.yaml", 11, "info"),
                   ("SVC061", "storefront/service.yaml", 6, "error"),
                   ("SVC062", "orders/service.yaml", 6, "error"),
                   ("SVC062", "stock/service.yaml", 6, "error")]


def test_summary_shows_the_dependency_graph():
    golden("summary-dependencies.md", render("markdown", dependency_run()))


def test_json_report_carries_the_graph_and_validates():
    report = json.loads(render("json", dependency_run()))
    assert list(jsonschema.Draft202012Validator(load_schema("report.schema.json")).iter_errors(report)) == []
    graph = report["graph"]
    assert [s["name"] for s in graph["services"]] == ["api", "auth", "catalog", "orders", "stock", "storefront"]
    assert graph["cycles"] == [["orders", "stock", "orders"]]
    assert {"from": "storefront", "to": "payments-db", "critical": True, "declared": False} in graph["edges"]
    assert next(s for s in graph["services"] if s["name"] == "auth")["availability"] == 99.95
    assert next(s for s in graph["services"] if s["name"] == "storefront")["ceiling"] == 99.85005


def test_summary_escapes_names_from_the_repository(tmp_path):
    component = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: "web|<b>x</b>"
  annotations: {prr-lint/tier: "1"}
spec:
  type: service
  owner: team-web
  dependsOn: ["component:a`b\\n<i>z", "component:c|d"]
"""
    result, _ = graph_of(tmp_path, {"web/catalog-info.yaml": component})
    section = render("markdown", result).split("### Dependencies", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith("| web"))
    assert row == "| web\\|&lt;b&gt;x&lt;/b&gt; | 1 | — | a\\`b\\\\n&lt;i&gt;z, `c\\|d` | — |"
    assert all("\n" not in line for line in section.splitlines())
