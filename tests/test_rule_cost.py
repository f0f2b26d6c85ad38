"""Rules do each piece of work once: a warm run validates no unchanged manifest again, and a run parses,
walks and resolves each distinct expression or link once however many rules and services ask. Work is
counted (validations, parses, walks, lookups), never timed; findings stay exactly those of an uncached run."""

import os
import sys

import pytest

from prr_lint.config import load_config
from prr_lint.engine import Options, run
from prr_lint.verdicts import MEMO_KEY, verdict_key

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
@pytest.fixture
def validated(monkeypatch):
    """The manifests (metadata.name) that PRR001 validated (jsonschema-rs first, then jsonschema for the invalid:
    fastschema.py), cleared by each call."""
    from prr_lint import verdicts

    names: list[str] = []
    real = verdicts.known_valid

    def counted(instance, schema_name):
        names.append(instance.get("metadata", {}).get("name") if isinstance(instance, dict) else None)
        return real(instance, schema_name)

    monkeypatch.setattr(verdicts, "known_valid", counted)

    def take() -> list[str]:
        out = sorted(names, key=str)
        names.clear()
        return out

    return take


def test_a_warm_run_validates_no_unchanged_manifest(mono, validated):
    root, check = mono
    every = ["svc-0", "svc-1", "svc-2", "svc-3"]
    uncached = check(use_cache=False)
    assert validated() == every
    cold = check()
    assert validated() == every
    warm = check()
    assert validated() == []
    assert _findings(cold) == _findings(warm) == _findings(uncached)
    # an edited manifest is validated again, the others are not
    _edit(root, "services/svc-2/service.yaml", "owner: team-2", "owner: team-two")
    edited = check()
    assert validated() == ["svc-2"]
    assert _findings(edited) == _findings(check(use_cache=False))


def test_an_invalid_manifest_is_validated_and_reported_on_every_run(mono, validated):
    root, check = mono
    _edit(root, "services/svc-1/service.yaml", "  runbooks:", "  runbook:")
    expected = [f for f in _findings(check(use_cache=False)) if f[0] == "PRR001"]
    assert [f[:3] for f in expected] == [("PRR001", "services/svc-1/service.yaml", 16)]
    assert expected[0][4] == "spec.runbook: Additional properties are not allowed ('runbook' was unexpected)"
    check()
    validated()
    for _ in range(2):
        again = check()
        assert validated() == ["svc-1"]        # the invalid one; the three valid ones are known
        assert [f for f in _findings(again) if f[0] == "PRR001"] == expected


def test_a_one_file_run_keeps_the_verdicts_of_the_other_manifests(mono, validated):
    root, check = mono
    check()
    _edit(root, "services/svc-3/service.yaml", "owner: team-3", "owner: team-three")
    validated()
    check("services/svc-3")
    assert validated() == ["svc-3"]
    check()
    assert validated() == []


def test_verdicts_the_cache_did_not_sign_are_not_trusted(mono, validated):
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
    validated()
    forged = check()
    assert validated() == ["svc-0", "svc-1", "svc-2", "svc-3"]
    assert _findings(forged) == warm_findings


def test_a_verdict_key_tells_json_types_apart():
    keys = {verdict_key({"a": v}, "service.schema.json") for v in (1, 1.0, True, "1", [1], None)}
    assert len(keys) == 6 and None not in keys
    assert verdict_key({"a": 1}, "service.schema.json") != verdict_key({"a": 1}, "waivers.schema.json")
    # what JSON would carry as something else is never given a verdict: always validated
    assert verdict_key({"a": (1,)}, "service.schema.json") is None
    assert verdict_key({1: "a"}, "service.schema.json") is None
    assert verdict_key({"a": float("nan")}, "service.schema.json") is None
    # nor what orjson does not write: validated every run
    assert verdict_key({"a": 1 << 64}, "service.schema.json") is None
    assert verdict_key({"a": "\ud800"}, "service.schema.json") is None
    assert len({verdict_key({"a": v}, "service.schema.json") for v in ("é", "\\u00e9", 1 << 63, -(1 << 63))}) == 4


# -- Repository.real: one lstat per path prefix, the answers of os.path.realpath ------------------------------
def _realpath_answer(repo, rel: str):
    """What Repository.real answered before it resolved by prefix: realpath, then inside the root or None."""
    full = os.path.realpath(os.path.join(repo.root, os.path.normpath(rel)))
    return full if full == repo.real_root or full.startswith(repo.real_root + os.sep) else None


def test_real_paths_are_those_of_realpath_through_symlinks(tmp_path):
    from prr_lint.repo import Repository

    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "back").symlink_to(tmp_path / "repo" / "docs")
    root = tmp_path / "repo"
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "docs" / "runbook.md").write_text("# Runbook\n")
    (root / "docs" / "deep" / "x.md").write_text("x\n")
    (root / "alias").symlink_to("docs")                       # a directory symlink inside
    (root / "chain").symlink_to("alias/deep")                 # a symlink through a symlink
    (root / "out").symlink_to(outside)                        # out of the root
    (root / "relout").symlink_to("../outside/sub")
    (root / "loop").symlink_to("loop")
    (root / "dangling").symlink_to("nowhere/at/all")
    (root / "docs" / "up").symlink_to("..")
    repo = Repository(str(root))
    paths = ["", ".", "docs", "docs/runbook.md", "alias/runbook.md", "alias/deep/x.md", "chain/x.md", "chain",
             "out", "out/sub", "out/back/runbook.md", "relout", "relout/x", "loop", "loop/x", "dangling",
             "dangling/x", "docs/up/alias/runbook.md", "docs/up/out", "missing/a/b", "docs/missing.md",
             "docs/./deep/../runbook.md", "alias/../docs/runbook.md"]
    for rel in paths + paths:       # asked twice: the second answer comes from the memo
        assert repo.real(rel) == _realpath_answer(repo, rel), rel
    assert repo.real("out/back/runbook.md") == str((root / "docs" / "runbook.md").resolve())
    assert repo.real("../repo/docs") is None and repo.real("/etc/passwd") is None


def test_real_looks_up_each_path_prefix_once(tmp_path, monkeypatch):
    from prr_lint.repo import Repository

    root = tmp_path / "repo"
    for i in range(5):
        (root / "services" / f"svc-{i}" / "docs").mkdir(parents=True)
    repo = Repository(str(root))
    looked: list[str] = []
    lstat = os.lstat

    def counted(path, *args, **kwargs):
        looked.append(os.path.relpath(path, repo.real_root))
        return lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", counted)
    for i in range(5):
        for name in ("runbook.md", "rollback.md", "dr.md"):
            repo.real(f"services/svc-{i}/docs/{name}")
    # services once, each service and its docs once, each file once: no component looked at twice
    assert sorted(looked) == sorted(set(looked))
    assert len(looked) == 1 + 5 * 2 + 15


def test_exists_is_dir_and_read_stat_a_path_only_past_a_symlink(tmp_path, monkeypatch):
    """The lstat real() made of a path that is no symlink answers exists and is_dir (and read's "regular file?"):
    a path asked about many times a run (a runbook) is not stat-ed at all, a symlink's target at most once."""
    from prr_lint.repo import Repository

    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "runbook.md").write_text("# Runbook\n")
    (root / "alias.md").symlink_to("docs/runbook.md")
    (root / "dangling").symlink_to("nowhere")
    repo = Repository(str(root))
    stated: list[str] = []
    stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: stated.append(os.path.relpath(path, repo.real_root))
                        or stat(path, *a, **k))
    for _ in range(3):
        assert repo.exists("docs/runbook.md") and not repo.is_dir("docs/runbook.md")
        assert repo.read("docs/runbook.md") == repo.read("alias.md") == "# Runbook\n"
        assert repo.is_dir("docs/") and repo.exists(".") and repo.is_dir("")
        assert not repo.exists("docs/missing.md") and not repo.exists("dangling")
    # the root, and where the dangling symlink leads (alias.md leads to a path real() looked at already)
    assert sorted(stated) == [".", "nowhere"]
    # a missing file's read is stat-ed for the error's own words, as before
    assert repo.read_text("docs/missing.md") == (None, "cannot be read (No such file or directory)")


# -- PRR003: a glob claim is tried against the files under its directory, not every file ---------------------
def test_a_glob_claim_is_tried_only_against_the_files_under_its_directory(mono, monkeypatch):
    from prr_lint.checks import globs

    root, check = mono
    for i in range(4):
        _edit(root, f"services/svc-{i}/service.yaml", "kubernetes: [k8s/]",
              'kubernetes: ["k8s/*.yaml", "k8s/**/none-*.yaml", "k8s*/x.yaml"]')
    tried: list[tuple[str, str]] = []
    real = globs.matches_from_root
    monkeypatch.setattr(globs, "matches_from_root", lambda pattern, rel: tried.append((pattern, rel)) or
                        real(pattern, rel))
    result = check(use_cache=False)
    missing = sorted(f[4].split(": ", 1)[1] for f in _findings(result) if f[0] == "PRR003")
    assert missing == sorted(f"Kubernetes manifests path {p!r} does not exist (resolved to services/svc-{i}/{p}); "
                             f"correct the path or remove it" for i in range(4) for p in ("k8s/**/none-*.yaml",
                                                                                          "k8s*/x.yaml"))
    files, asked = result.repo.files, list(tried)
    # a pattern with a literal directory tries the files under it; `k8s*/x.yaml` has none: every file
    within = [(p, rel) for p, rel in asked if "/k8s/" in p]
    assert within and all(rel.startswith(p.split("/k8s/")[0] + "/k8s/") for p, rel in within)
    assert len(asked) - len(within) <= 4 * len(files)
    for pattern in {p for p, _ in asked}:       # the answers of trying every file
        assert globs.matches_any_file(pattern, result.repo) == any(real(pattern, f) for f in files)

def test_rules_resolve_each_link_once_a_run(mono, monkeypatch):
    from prr_lint.checks import links

    _, check = mono
    expected = _findings(check(use_cache=False))
    resolved: list[tuple] = []
    real = links._resolve

    def counted(ref, repo, settings, base_dir, project_dir):
        resolved.append((ref, base_dir))
        return real(ref, repo, settings, base_dir, project_dir)

    monkeypatch.setattr(links, "_resolve", counted)
    result = check(use_cache=False)
    assert _findings(result) == expected
    # PRR003, SVC020, SVC021, SVC022 and PROM002 all ask about each service's runbook and procedure links
    assert len(resolved) == len(set(resolved)) > 0
    assert ("docs/runbook.md#high-error-rate", "services/svc-1") in resolved


def test_a_memoised_link_is_a_copy_the_caller_may_change(mono):
    from prr_lint.checks.links import resolve

    _, check = mono
    result = check(use_cache=False)
    first = resolve("docs/nope.md", result.repo, None, "services/svc-1")
    first.problem, first.local = "changed", "elsewhere"
    again = resolve("docs/nope.md", result.repo, None, "services/svc-1")
    assert (again.problem, again.local, again.missing) == ("services/svc-1/docs/nope.md does not exist",
                                                          "services/svc-1/docs/nope.md", True)


# -- PromQL: one parse and one walk per distinct expression -----------------------------------------------
def test_each_promql_expression_is_parsed_and_walked_once_a_run(mono, monkeypatch):
    import promql_parser

    from prr_lint.checks import promql

    _, check = mono
    expected = _findings(check(use_cache=False))
    parsed: list[str] = []
    walked: list[object] = []
    real_parse, real_nodes = promql_parser.parse, promql._nodes

    def counted_parse(expr):
        parsed.append(expr)
        return real_parse(expr)

    def counted_nodes(ast):
        walked.append(ast)
        return real_nodes(ast)

    monkeypatch.setattr(promql_parser, "parse", counted_parse)
    monkeypatch.setattr(promql, "_nodes", counted_nodes)
    promql.parse.cache_clear()
    promql._facts.cache_clear()
    promql._text_facts.cache_clear()
    result = check(use_cache=False)
    assert _findings(result) == expected
    # 4 services: 2 SLI queries and 2 alert expressions each (PROM006, SVC012, SVC013, PROM004 ask about them)
    assert len(parsed) == len(set(parsed)) == 4 * 4
    assert len(walked) == len(parsed)


# -- garbage collection: the loaded documents are not scanned by the collections rules trigger --------------
def test_rules_run_with_the_loaded_documents_out_of_the_collector(mono):
    import gc

    from prr_lint.rule import Rule

    root, _ = mono
    frozen: list[int] = []

    def check(doc, ctx):
        frozen.append(gc.get_freeze_count())
        return ()

    probe = Rule.from_meta({"id": "X001", "name": "probe", "summary": "s", "why": "w", "fix": "f",
                            "targets": ["service"], "severity": "info"}, check)
    run(Options(paths=[root], config=load_config(os.path.join(root, ".prr-lint.yaml")), root=root,
                use_cache=False, extra_rules=[probe]))
    assert len(frozen) == 4 and min(frozen) > 1000
    assert gc.get_freeze_count() == 0           # and given back to the collector when the run ends


def test_a_warm_run_parses_no_promql_expression_it_has_seen(mono, promql_parses):
    root, check = mono
    expected = _findings(check(use_cache=False))
    parsed = promql_parses()
    cold = check()
    assert len(parsed) == 16 and _findings(cold) == expected
    parsed = promql_parses()
    warm = check()
    assert parsed == [] and _findings(warm) == expected
    # a changed alert is parsed again (and what it now says is reported); the rest come from the memo
    _edit(root, "services/svc-2/monitoring/rules.yaml", 'up{job="svc-2"} == 0', 'up{job="svc-2"} == 0 +')
    parsed = promql_parses()
    edited = check()
    assert parsed == ['up{job="svc-2"} == 0 +']
    assert _findings(edited) == _findings(check(use_cache=False))
    assert [f[:3] for f in _findings(edited) if f[0] == "PROM006"] == [
        ("PROM006", "services/svc-2/monitoring/rules.yaml", 15)]


def test_promql_facts_round_trip_exactly():
    from prr_lint.checks import promql, promql_memo

    for expr in ('sum(rate(x{job="a",code=~"5.."}[5m])) / sum(rate(x{job="a"}[1h:30s])) > 0.1',
                 'absent_over_time(up{__name__="up",env="prod"}[90s]) or vector(1)', "holt_winters(x[1d], 0.1, 0.2)",
                 "sum(", "", 'rate(x["a"])'):
        facts = promql.facts(expr)
        assert promql_memo.decode(promql_memo.encode(facts)) == facts, expr
    assert promql_memo.decode([True, None, False, ["x"], [1], [[None, [["a", 1]]]], []]) is None
    assert promql_memo.decode("junk") is None


def test_an_expression_near_the_parser_limits_is_checked_every_run(mono, promql_parses, monkeypatch):
    from prr_lint.checks import promql

    root, check = mono
    monkeypatch.setattr(promql, "NEAR_OPERATORS", 2)     # the burn-rate alerts are near; `up == 0` is not
    checked: list[str] = []
    monkeypatch.setattr(promql._WORKER, "check", lambda expr: checked.append(expr))
    check()
    promql_parses()
    checked.clear()
    check()
    assert len(checked) == 4 and all("http_requests_total" in e for e in checked)


# every PromQL form the parser knows, for the AST order test (functions with string, scalar and range arguments)
PROMQL_FORMS = [
    'sum(rate(http_requests_total{job="a",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="a"}[5m])) > 0.1',
    "topk(5, x)", 'count_values("code", x)', "quantile(0.9, rate(x[5m]))", "-x", "(x)", "x[5m:1m]", "x[1h:]",
    'label_replace(x, "a", "$1", "b", "(.*)")', "x @ 100", "x offset 5m", "rate(x[5m] offset 1h)", "time()",
    "topk(scalar(y), x)", '{__name__="x", a="b" or c="d"}', '"str"', "1", "x + on(a) group_left(b) y",
    "sum by (a) (x) / ignoring(b) group_right sum without (c) (y)", "x > bool 1", "x and y or z unless w",
    "absent_over_time(up[10m])", "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))",
    "holt_winters(x[1d], 0.1, 0.2)", "max_over_time(deriv(x[5m])[1h:5m])", "-(-(x))", "vector(1) + on() x",
    "count(count by (a) (x)) > 2 * (3 - 1) ^ 2 % 5", "predict_linear(x[1h], 4 * 3600) < 0", "x @ start()",
    "sort_desc(sum(x))", "clamp(x, 0, 1)", "round(x, 0.5)", "stddev_over_time(x[5m] @ end())",
    "limitk(2, x)", "avg(x) offset -5m",
]


def _fixture_expressions() -> list[str]:
    """Every `expr:` of the repository's rule fixtures and examples."""
    import glob

    import yaml

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = []
    for path in glob.glob(os.path.join(root, "rules", "**", "*.y*ml"), recursive=True) + \
            glob.glob(os.path.join(root, "examples", "**", "*.y*ml"), recursive=True):
        try:
            with open(path, encoding="utf-8") as fh:
                docs = list(yaml.safe_load_all(fh))
        except (yaml.YAMLError, UnicodeDecodeError, ValueError):     # bad fixtures are bad on purpose
            continue
        stack: list = docs
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("expr"), str):
                    found.append(node["expr"])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return found


def test_the_ast_is_read_in_the_order_and_with_the_nodes_of_promql_parser_walk():
    import promql_parser

    from prr_lint.checks import promql

    exprs = PROMQL_FORMS + _fixture_expressions()
    parsed = 0
    for expr in exprs:
        try:
            ast = promql_parser.parse(expr)
        except Exception:           # the fixtures hold expressions that do not parse, on purpose
            continue
        parsed += 1
        walked: list = []
        promql_parser.walk(ast, walked.append)
        ours = promql._nodes(ast)
        assert [(type(n).__name__, n.prettify()) for n in ours] == \
               [(type(n).__name__, n.prettify()) for n in walked], expr
    assert parsed >= len(PROMQL_FORMS) + 20


def test_a_node_type_the_table_does_not_know_is_left_to_walk(monkeypatch):
    import promql_parser

    from prr_lint.checks import promql

    ast = promql_parser.parse("sum(rate(x[5m])) > 1")
    monkeypatch.delitem(promql._CHILDREN, promql_parser.Call)
    walked: list = []
    promql_parser.walk(ast, walked.append)
    assert [type(n).__name__ for n in promql._nodes(ast)] == [type(n).__name__ for n in walked] == \
        ["BinaryExpr", "AggregateExpr", "Call", "MatrixSelector", "VectorSelector", "NumberLiteral"]


def test_what_rules_worked_out_is_let_go_of_when_the_run_ends(mono):
    from prr_lint import memo

    _, check = mono
    result = check()
    assert memo._MEMOS not in result.repo.memo      # saved, and not held while the reporters run
    store = result.repo.cache
    for kind in (MEMO_KEY, "promql-facts"):
        assert store.read_side(store.side_name(kind))["entries"]


def test_an_expression_shared_by_many_alerts_is_parsed_once(mono, promql_parses):
    root, check = mono
    before = [f[:3] for f in _findings(check(use_cache=False)) if f[0] == "PROM004"]
    assert before
    for i in range(4):      # every service's "down" alert the same text, as after templating
        _edit(root, f"services/svc-{i}/monitoring/rules.yaml", f'up{{job="svc-{i}"}} == 0', "up == 0")
    parsed = promql_parses()
    result = check(use_cache=False)
    assert parsed.count("up == 0") == 1 and len(parsed) == len(set(parsed)) == 3 * 4 + 1
    assert [f[:3] for f in _findings(result) if f[0] == "PROM004"] == before     # still judged per alert


def test_a_memo_that_cannot_be_written_as_json_is_not_kept_and_the_run_goes_on(mono):
    from prr_lint.memo import run_memo, save_run_memos

    _, check = mono
    repo = check().repo
    memo = run_memo(repo, "probe")
    memo.put("k", object())             # no JSON form, no encoder
    save_run_memos(repo, whole=True)
    assert repo.cache.read_side(repo.cache.side_name("probe")) is None


def test_a_memo_decodes_only_the_entries_a_run_asks_for(mono, monkeypatch):
    """A run on one file asks for a few of the thousands of entries a monorepo's memo holds: each entry is its
    own JSON text, decoded when asked for, and a narrower run keeps the others as they were."""
    import json as json_module

    from prr_lint import memo as memo_module
    from prr_lint.memo import RunMemo

    _, check = mono
    store = check().repo.cache
    name = store.side_name("promql-facts")
    stored = store.read_side(name)
    assert stored["format"] == memo_module.FORMAT and len(stored["entries"]) > 16
    assert all(isinstance(text, str) for text in stored["entries"].values())
    decoded: list[str] = []
    real_loads = json_module.loads
    monkeypatch.setattr(memo_module.json, "loads", lambda text, *a, **k: decoded.append(text) or real_loads(text))
    memo = RunMemo(store, "promql-facts")
    key = sorted(stored["entries"])[3]
    assert memo.get(key) == real_loads(stored["entries"][key]) and decoded == [stored["entries"][key]]
    memo.put("new-key", [True])
    memo.save(whole=False)          # a narrower run: every entry known is kept, the new one added
    after = store.read_side(name)["entries"]
    assert after == {**stored["entries"], "new-key": "[true]"}
    memo = RunMemo(store, "promql-facts")
    assert memo.get("new-key") == [True]
    memo.save(whole=True)           # a whole run keeps what it used
    assert store.read_side(name)["entries"] == {"new-key": "[true]"}


def test_a_memo_file_of_an_earlier_format_is_a_miss(mono):
    from prr_lint.memo import RunMemo

    _, check = mono
    store = check().repo.cache
    store.write_side(store.side_name("probe"), '{"entries":{"k":[1,2]}}')     # format 1: values inline
    memo = RunMemo(store, "probe")
    assert memo.get("k") is None
