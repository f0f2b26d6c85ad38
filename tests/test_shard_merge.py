"""`--shard K/N` and `prr-lint merge`: the N shards of a run, merged, equal the unsharded run; a merge that lacks
a part, repeats one, mixes splits or versions, or reads something that is not a report, is exit 2."""

import json
import os
import subprocess
import sys

import pytest

from conftest import run_cli, sarif_errors

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from generate import generate  # noqa: E402

TODAY = {"PRR_LINT_TODAY": "2026-06-01"}


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory):
    """40 generated services in a git work tree, with readiness gaps and an unparsable file no service owns."""
    root = str(tmp_path_factory.mktemp("sharded"))
    generate(40, root)
    os.makedirs(os.path.join(root, "shared"))
    with open(os.path.join(root, "shared", "broken.yaml"), "w") as fh:
        fh.write("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: [web\n")
    subprocess.run(["git", "init", "-q", root], check=True)
    subprocess.run(["git", "-C", root, "add", "-A"], check=True)
    subprocess.run(["git", "-C", root, "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm",
                    "generated"], check=True)
    return root


def _check(root, *args, fmt="json"):
    r = run_cli("check", "--no-cache", "-f", fmt, *args, ".", cwd=root, env=TODAY)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


def _shards(root, tmp_path, n, fmt="json", ext="json"):
    paths = []
    for k in range(1, n + 1):
        path = tmp_path / f"shard-{k}.{ext}"
        path.write_text(_check(root, "--shard", f"{k}/{n}", fmt=fmt))
        paths.append(str(path))
    return paths


def _key(f):
    return (f["file"], f["line"], f["column"], f["rule"], f["severity"], f["message"], f["service"],
            f["fingerprint"])


@pytest.mark.parametrize("n", [2, 5])
def test_merged_shards_equal_the_unsharded_run(monorepo, tmp_path, n):
    full = json.loads(_check(monorepo))
    paths = _shards(monorepo, tmp_path, n)
    parts = [json.loads(open(p).read()) for p in paths]
    assert all(p["shard"] == {"index": k, "count": n} for k, p in enumerate(parts, 1))
    # every shard did a part of the work, and no finding is made twice
    assert all(p["findings"] for p in parts)
    assert sum(len(p["findings"]) for p in parts) == len(full["findings"])

    r = run_cli("merge", *paths, cwd=monorepo)
    assert r.returncode == 1, r.stderr   # the generated repository has errors
    merged = json.loads(r.stdout)
    assert sorted(map(_key, merged["findings"])) == sorted(map(_key, full["findings"]))
    assert merged["summary"] == full["summary"]
    assert merged["services"] == full["services"]
    assert merged["notices"] == full["notices"]
    assert "shard" not in merged and "shard" not in full
    # the unowned broken file is reported once, by the shard its path falls in
    assert sum(1 for f in merged["findings"] if f["rule"] == "PRR000") == 1


def test_a_shard_reads_its_own_files_and_the_manifests(monorepo):
    full = json.loads(_check(monorepo))
    parts = [json.loads(_check(monorepo, "--shard", f"{k}/4")) for k in range(1, 5)]
    assert sum(p["summary"]["files"] for p in parts) == full["summary"]["files"]
    assert all(p["summary"]["files"] < full["summary"]["files"] / 2 for p in parts)


def test_merged_text_and_exit_code_follow_fail_on(monorepo, tmp_path):
    paths = _shards(monorepo, tmp_path, 3)
    r = run_cli("merge", "-f", "text", *paths, cwd=monorepo)
    assert r.returncode == 1 and "errors" in r.stdout.splitlines()[-1]
    assert run_cli("merge", "--fail-on", "never", *paths, cwd=monorepo).returncode == 0


def test_merged_sarif_is_one_valid_run(monorepo, tmp_path):
    full = json.loads(_check(monorepo, fmt="sarif"))
    paths = _shards(monorepo, tmp_path, 3, fmt="sarif", ext="sarif")
    r = run_cli("merge", *paths, cwd=monorepo)
    assert r.returncode == 1, r.stderr   # the generated repository has errors
    merged = json.loads(r.stdout)
    assert sarif_errors(merged) == []
    assert len(merged["runs"]) == 1
    run = merged["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[res["ruleIndex"]]["id"] == res["ruleId"] for res in run["results"])

    def key(res):
        loc = res["locations"][0]["physicalLocation"]
        return (loc["artifactLocation"]["uri"], loc["region"]["startLine"], res["ruleId"], res["message"]["text"])

    assert sorted(map(key, run["results"])) == sorted(map(key, full["runs"][0]["results"]))


def test_merged_gate_blocks_when_one_shard_blocks(monorepo, tmp_path):
    reports = []
    for k in (1, 2):
        path = tmp_path / f"gate-{k}.json"
        r = run_cli("gate", "--no-cache", "--shard", f"{k}/2", "--report", str(path), ".", cwd=monorepo, env=TODAY)
        assert r.returncode in (1, 2), r.stdout
        reports.append(json.loads(path.read_text()))
    # the unowned broken file makes its shard undecidable, and so the merged decision
    assert sorted(rep["decision"] for rep in reports) in (["blocked", "error"], ["error", "error"])
    out = tmp_path / "gate.json"
    r = run_cli("merge", "-o", str(out), str(tmp_path / "gate-1.json"), str(tmp_path / "gate-2.json"), cwd=monorepo)
    assert r.returncode == 2 and "COULD NOT DECIDE" in r.stdout
    assert "cannot read or parse" in r.stderr
    assert json.loads(out.read_text())["decision"] == "error"


def _gate_report(tmp_path, name, decision, shard=None, blocking=()):
    import prr_lint

    report = {"version": 1, "tool": {"name": "prr-lint", "version": prr_lint.__version__}, "decision": decision,
              "reasons": ["x.yaml:1: cannot read or parse: bad"] if decision == "error" else [],
              "summary": {"blocking": len(blocking), "errors": len(blocking)}, "services": [],
              "blocking": list(blocking)}
    if shard:
        report["shard"] = {"index": shard[0], "count": shard[1]}
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return str(path)


def test_gate_merge_decisions(tmp_path):
    finding = {"file": "a.yaml", "line": 3, "rule": "K8S002", "message": "no memory limit"}
    passing = [_gate_report(tmp_path, f"p{k}.json", "pass", (k, 2)) for k in (1, 2)]
    r = run_cli("merge", *passing)
    assert (r.returncode, r.stdout.strip()) == (0, "prr-lint merge: PASS (2 reports)")
    blocked = _gate_report(tmp_path, "b.json", "blocked", (2, 2), [finding])
    r = run_cli("merge", passing[0], blocked)
    assert r.returncode == 1 and "BLOCKED (1 blocking finding" in r.stdout and "a.yaml:3  K8S002" in r.stdout
    error = _gate_report(tmp_path, "e.json", "error", (2, 2))
    r = run_cli("merge", passing[0], error)
    assert r.returncode == 2 and "cannot read or parse" in r.stderr


@pytest.mark.parametrize("case, message", [
    ("missing", "shard 2 of 3 missing: a merged report must cover the whole repository"),
    ("twice", "shard 1/2 given twice"),
    ("splits", "shards of different splits (/2, /3)"),
    ("mixed", "not a shard, but other reports are"),
    ("version", "written by prr-lint 0.0.0-other"),
    ("not-json", "not a JSON report"),
    ("not-ours", "not a prr-lint report"),
    ("kinds", "cannot merge different kinds of report"),
])
def test_merge_refuses_what_does_not_add_up(tmp_path, case, message):
    def gate(name, shard):
        return _gate_report(tmp_path, name, "pass", shard)

    files = {
        "missing": lambda: [gate("a", (1, 3)), gate("b", (3, 3))],
        "twice": lambda: [gate("a", (1, 2)), gate("b", (1, 2))],
        "splits": lambda: [gate("a", (1, 2)), gate("b", (2, 3))],
        "mixed": lambda: [gate("a", (1, 2)), gate("b", None)],
        "version": lambda: [gate("a", None), _retool(tmp_path / "v", gate("b", None))],
        "not-json": lambda: [gate("a", None), _text(tmp_path / "t", "<html>login</html>")],
        "not-ours": lambda: [gate("a", None), _text(tmp_path / "o", '{"tool": {"name": "other"}}')],
        "kinds": lambda: [gate("a", None), _text(tmp_path / "s", '{"runs": []}')],
    }[case]()
    r = run_cli("merge", *files)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and message in r.stderr, r.stderr


def _retool(path, source):
    data = json.loads(open(source).read())
    data["tool"]["version"] = "0.0.0-other"
    path.write_text(json.dumps(data))
    return str(path)


def _text(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("value", ["0/3", "4/3", "x", "1/0", "2"])
def test_bad_shard_is_a_usage_error(tmp_path, value):
    r = run_cli("check", "--shard", value, str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.strip() == f"prr-lint: error: --shard {value}: expected K/N with 1 <= K <= N (e.g. 2/8)"
