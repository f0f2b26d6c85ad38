"""`prr-lint merge`: join the reports of several jobs (the N shards of a monorepo, or many repositories) into one
report and one decision.

Three kinds of input, never mixed: JSON reports of `check -f json`, SARIF logs of `check -f sarif`, and gate
reports (`gate --report`). Sharded reports must be complete: every part K of N exactly once, all from one
prr-lint version; anything else is exit 2, because a merged report that silently lacks a shard would pass what it
never checked.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from typing import Any

from . import __version__
from .errors import UsageError
from .escape import json_text, one_line
from .model import SEVERITY_RANK, Finding, Span, Suppression

MAX_REPORT_BYTES = 512 << 20
SARIF_LEVEL_SEVERITY = {"error": "error", "warning": "warning", "note": "info"}


def add_commands(subparsers) -> None:
    from .cli import FAIL_ON
    from .reporters import FORMATS

    p = subparsers.add_parser("merge", help="join the reports of sharded or per-repository jobs into one report "
                                            "and one decision")
    p.add_argument("reports", nargs="+", metavar="REPORT",
                   help="JSON reports (check -f json), SARIF logs (check -f sarif) or gate reports (gate --report)")
    p.add_argument("-f", "--format", choices=FORMATS,
                   help="output format for JSON reports (default: json); SARIF logs merge to SARIF, gate reports "
                        "to a gate report")
    p.add_argument("-o", "--output", help="write the merged report to this file instead of stdout")
    p.add_argument("--fail-on", choices=FAIL_ON, default="error",
                   help="lowest severity that fails the merged run (default: error)")
    p.set_defaults(handler=cmd_merge)


def cmd_merge(args) -> int:
    reports = [(path, _read(path)) for path in args.reports]
    kinds = {path: _kind(path, data) for path, data in reports}
    if len(set(kinds.values())) > 1:
        shown = ", ".join(f"{one_line(p)} ({k})" for p, k in kinds.items())
        raise UsageError(f"cannot merge different kinds of report: {shown}")
    kind = next(iter(kinds.values()))
    if kind != "check" and args.format not in (None, "json" if kind == "gate" else "sarif"):
        raise UsageError(f"--format {args.format}: {kind} reports merge to {'JSON' if kind == 'gate' else 'SARIF'}")
    from .cli import write_report

    if kind == "sarif":
        merged = merge_sarif([data for _, data in reports])
        write_report(args.output, json_text(json.dumps(merged, indent=2)) + "\n")
        return _exit_from_sarif(merged, args.fail_on)
    check_shards(reports)
    if kind == "gate":
        gate = merge_gates(reports)
        if args.output:
            write_report(args.output, json.dumps(gate, indent=2) + "\n")
        return _print_gate(gate)
    from .engine import exit_code
    from .reporters import render

    result = merge_checks(reports)
    write_report(args.output, render(args.format or "json", result))
    if result.files_read == 0:
        print("prr-lint merge: error: the reports checked no file: nothing to decide on", file=sys.stderr)
        return 2
    return exit_code(result, args.fail_on)


def _read(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as e:
        raise UsageError(f"{path}: cannot read report: {e.strerror}") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise UsageError(f"{path}: report larger than {MAX_REPORT_BYTES >> 20} MiB")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not a JSON report: {e}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a prr-lint report (a JSON object was expected)")
    return data


def _kind(path: str, data: dict) -> str:
    if isinstance(data.get("runs"), list):
        return "sarif"
    tool = data.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "prr-lint":
        raise UsageError(f"{path}: not a prr-lint report")
    if tool.get("version") != __version__:
        raise UsageError(f"{path}: written by prr-lint {one_line(tool.get('version'))}, this is {__version__}: "
                         "merge reports of one version")
    if "decision" in data:
        return "gate"
    if isinstance(data.get("findings"), list):
        return "check"
    raise UsageError(f"{path}: not a prr-lint report")


def check_shards(reports: list[tuple[str, dict]]) -> None:
    """Sharded reports: all of one split, every part exactly once. Unsharded ones (separate repositories) merge
    as they are, but never with shards."""
    shards = {path: data.get("shard") for path, data in reports}
    if not any(shards.values()):
        return
    plain = [p for p, s in shards.items() if not s]
    if plain:
        raise UsageError(f"{one_line(plain[0])}: not a shard, but other reports are: merge the shards of one run")
    counts = set()
    seen: dict[int, str] = {}
    for path, shard in shards.items():
        if not (isinstance(shard, dict) and all(isinstance(shard.get(k), int) for k in ("index", "count"))):
            raise UsageError(f"{one_line(path)}: malformed shard entry")
        counts.add(shard["count"])
        if shard["index"] in seen:
            raise UsageError(f"shard {shard['index']}/{shard['count']} given twice: {one_line(seen[shard['index']])} "
                             f"and {one_line(path)}")
        seen[shard["index"]] = path
    if len(counts) > 1:
        raise UsageError(f"shards of different splits ({', '.join(f'/{n}' for n in sorted(counts))}): merge one run")
    count = counts.pop()
    missing = [str(k) for k in range(1, count + 1) if k not in seen]
    if missing:
        raise UsageError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {count} missing: "
                         "a merged report must cover the whole repository")


# -- JSON check reports ----------------------------------------------------------------------------------------
def _finding(item: dict) -> Finding:
    s = item.get("suppressed")
    suppression = Suppression(s.get("kind", ""), s.get("justification", ""), s.get("owner", ""),
                              s.get("expires", ""), s.get("source", "")) if isinstance(s, dict) else None
    span = Span(int(item["line"]), int(item["column"]), int(item["end_line"]), int(item["end_column"]))
    severity = item["severity"]
    if severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {severity!r}")
    return Finding(str(item["rule"]), str(item["name"]), severity, str(item["message"]), str(item["file"]), span,
                   item.get("service"), item.get("tier"), str(item.get("address", "")),
                   str(item.get("fingerprint", "")), suppression)


def merge_checks(reports: list[tuple[str, dict]]) -> Any:
    from .engine import Result, ServiceSummary
    from .registry import load_rules

    findings: dict[tuple, Finding] = {}
    services: dict[str, ServiceSummary] = {}
    notices: set[tuple[str, str]] = set()
    files = documents = 0
    for path, data in reports:
        try:
            for item in data["findings"]:
                f = _finding(item)
                # a finding every shard makes (an expired waiver in a shared file) is one finding
                findings.setdefault((f.fingerprint, f.rule_id, f.file, f.span.line, f.message), f)
            for s in data.get("services", []):
                services.setdefault(s["name"], ServiceSummary(s["name"], s["tier"], s["file"], s.get("owner")))
            notices.update((n["file"], n["message"]) for n in data.get("notices", []))
            files += int(data["summary"]["files"])
            documents += int(data["summary"]["documents"])
        except (KeyError, TypeError, ValueError) as e:
            raise UsageError(f"{one_line(path)}: malformed report: {type(e).__name__}: {one_line(e)}") from None
    rules = load_rules()
    known = {r.id for r in rules}
    unknown = {f.rule_id: f for f in findings.values() if f.rule_id not in known}
    rules += [_placeholder_rule(f) for f in unknown.values()]
    merged = sorted(findings.values(), key=Finding.sort_key)
    return Result(os.getcwd(), merged, rules, sorted(notices), list(services.values()), files_read=files,
                  documents=documents, today=datetime.date.today())


def _placeholder_rule(f: Finding) -> Any:
    """A rule the reports name but this installation does not have (a user pack): described by its findings."""
    from .rule import Rule

    return Rule(f.rule_id, f.rule_name, f.rule_name, "", "", [], [], dict.fromkeys(range(4), f.severity), "",
                origin="user")


# -- SARIF logs --------------------------------------------------------------------------------------------------
def merge_sarif(logs: list[dict]) -> dict:
    """One run per tool and category: results concatenated, rules joined by id, rule indexes renumbered."""
    runs: dict[tuple, dict] = {}
    for log in logs:
        for run in log.get("runs", []):
            driver = run.get("tool", {}).get("driver", {})
            category = run.get("automationDetails", {}).get("id")
            key = (driver.get("name"), category)
            target = runs.get(key)
            if target is None:
                target = runs[key] = json.loads(json.dumps(run))
                target["results"] = []
                target["tool"]["driver"]["rules"] = []
            rules = target["tool"]["driver"]["rules"]
            index = {r["id"]: i for i, r in enumerate(rules)}
            own = driver.get("rules", [])
            for result in run.get("results", []):
                result = dict(result)
                rule_id = result.get("ruleId")
                if rule_id not in index:
                    descriptor = next((r for r in own if r.get("id") == rule_id), {"id": rule_id})
                    index[rule_id] = len(rules)
                    rules.append(descriptor)
                if "ruleIndex" in result:
                    result["ruleIndex"] = index[rule_id]
                target["results"].append(result)
    base = logs[0] if logs else {}
    return {"$schema": base.get("$schema"), "version": base.get("version", "2.1.0"), "runs": list(runs.values())}


def _exit_from_sarif(log: dict, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    for run in log["runs"]:
        for result in run["results"]:
            severity = SARIF_LEVEL_SEVERITY.get(result.get("level", "warning"))
            if severity and not result.get("suppressions") and SEVERITY_RANK[severity] >= SEVERITY_RANK[fail_on]:
                return 1
    return 0


# -- gate reports ------------------------------------------------------------------------------------------------
def merge_gates(reports: list[tuple[str, dict]]) -> dict:
    """Blocked when any job blocked, could not decide when any job could not (or the parts do not add up)."""
    decisions = [data.get("decision") for _, data in reports]
    reasons = [f"{path}: {r}" for path, data in reports for r in data.get("reasons", [])]
    for path, data in reports:
        if data.get("decision") not in ("pass", "blocked", "error"):
            reasons.append(f"{path}: no decision in the report")
    decision = "error" if reasons or "error" in decisions else "blocked" if "blocked" in decisions else "pass"
    services = sorted((s for _, data in reports for s in data.get("services", [])), key=lambda s: str(s.get("name")))
    blocking = [f for _, data in reports for f in data.get("blocking", [])]
    summary: dict[str, int] = {}
    for _, data in reports:
        for key, value in (data.get("summary") or {}).items():
            if isinstance(value, int):
                summary[key] = summary.get(key, 0) + value
    return {"version": 1, "tool": {"name": "prr-lint", "version": __version__}, "decision": decision,
            "reasons": reasons, "merged": [path for path, _ in reports], "summary": summary,
            "services": services, "blocking": blocking}


def _print_gate(gate: dict) -> int:
    """The verdict on stdout, as `prr-lint gate` prints it; reasons also on stderr."""
    if gate["decision"] == "error":
        print("prr-lint merge: COULD NOT DECIDE (fail-closed, exit 2)")
        for reason in gate["reasons"]:
            print(f"  - {one_line(reason)}")
            print(f"prr-lint merge: error: {one_line(reason)}", file=sys.stderr)
        return 2
    n = len(gate["blocking"])
    if gate["decision"] == "blocked":
        print(f"prr-lint merge: BLOCKED ({n} blocking finding{'s' if n != 1 else ''} in {len(gate['merged'])} "
              "reports)")
        for f in gate["blocking"][:15]:
            where = f"{one_line(f.get('file'))}:{f.get('line')}"
            print(f"  {where}  {one_line(f.get('rule'))}  {one_line(f.get('message'))}")
        return 1
    print(f"prr-lint merge: PASS ({len(gate['merged'])} reports)")
    return 0
