"""Release gate: `prr-lint gate` decides pass / blocked / could-not-decide for a release, fail-closed."""

from __future__ import annotations

import datetime
import json
import sys

from . import __version__
from .errors import UsageError
from .escape import one_line
from .model import SEVERITY_RANK
from .rule import GATE_PROTECTED, PARSE_ERROR, RENDER_FAILED, RENDER_INCOMPLETE, RULE_ERROR, UNDECIDABLE

EXPIRING_DAYS = 14
MAX_LISTED = 15
# why each UNDECIDABLE finding (a file the gate could not read or parse, a rule that crashed on a document)
# leaves the gate unable to decide
UNDECIDED_BECAUSE = {PARSE_ERROR: "cannot read or parse", RULE_ERROR: "a rule failed",
                     RENDER_FAILED: "cannot render", RENDER_INCOMPLETE: "rendered in part"}


def _counts(findings) -> dict:
    from .reporters import counts

    c = counts(findings)
    return {"errors": c["error"], "warnings": c["warning"], "info": c["info"], "suppressed": c["suppressed"]}


# -- the gate command --------------------------------------------------------------------------------
def add_commands(subparsers) -> None:
    from .cli import FAIL_ON, add_run_arguments

    p = subparsers.add_parser("gate", help="release gate: pass (0), blocked (1) or could not decide (2), fail-closed")
    add_run_arguments(p)
    p.add_argument("--service", action="append", default=[], metavar="NAME",
                   help="decide for these services only (repeatable, comma-separated)")
    p.add_argument("--report", metavar="FILE", help="write the machine-readable decision (JSON) here")
    p.add_argument("--fail-on", choices=FAIL_ON[:-1],
                   help="lowest severity that blocks (default: config fail_on, else error)")
    from .budget import add_gate_arguments

    add_gate_arguments(p)
    p.set_defaults(handler=cmd_gate)


def _protect(options) -> None:
    """The repository's config and the command line cannot select away or turn off UNDECIDABLE rules."""
    # run whatever select/ignore say (an unreadable file is a reason not to decide)
    # selected whatever --select/--ignore say (by id, name, tag or area): see engine.selected_rules
    options.required = list(UNDECIDABLE)
    # ids match in any case (`prr000: off`), names exactly
    options.config.severity = {k: v for k, v in options.config.severity.items()
                               if k not in GATE_PROTECTED and k.upper() not in GATE_PROTECTED}


def _services(args) -> list:
    return [s.strip() for item in args.service for s in item.split(",") if s.strip()]


def cmd_gate(args) -> int:
    from .cli import make_options
    from .engine import run

    args.service = _services(args)
    base = {"version": 1, "tool": {"name": "prr-lint", "version": __version__}, "paths": args.paths,
            "requested_services": args.service}
    if getattr(args, "shard", None):   # `prr-lint merge` checks that every part is there once
        from .engine import Shard

        shard = Shard.parse(args.shard)
        base["shard"] = {"index": shard.index, "count": shard.count}
    try:
        options = make_options(args)
        _protect(options)
        result = run(options)
        from .budget import evaluate_budget

        budget = evaluate_budget(args, options, result.graph)
    except UsageError as e:
        return _undecided(args, base, [str(e)], None)
    except Exception as e:  # a failing step (a policy engine that cannot be reached, ...) never passes
        return _undecided(args, base, [f"{type(e).__name__}: {e}"], None)
    return _decide(args, base, options, result, budget)


def _undecided(args, base: dict, reasons: list, result) -> int:
    from .git import head_commit

    report = dict(base, decision="error", reasons=reasons,
                  commit=head_commit(result.root if result is not None else (args.paths or ["."])[0]))
    failed = _write_report(args, report)
    return _print_undecided(reasons + ([failed] if failed else []))


def _write_report(args, report: dict) -> str | None:
    """Write the JSON decision; the reason it could not be written, if so (then the gate cannot decide:
    a pipeline that reads the report must never find a stale one, or none, after a pass)."""
    if not args.report:
        return None
    try:
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
            fh.write("\n")
    except OSError as e:
        return f"{args.report}: cannot write report: {e.strerror}"
    return None


def _decide(args, base: dict, options, result, budget=None) -> int:
    from .git import head_commit
    from .reporters.json import finding_dict

    graph = result.graph
    today = result.today or datetime.date.today()
    fail_on = args.fail_on or (options.config.fail_on if options.config.fail_on != "never" else "error")
    reasons = list(result.errors)
    wanted = set(args.service)
    known = {s.name for s in graph.services} if graph is not None else set()
    for name in sorted(wanted - known):
        reasons.append(f"no service named {name!r} (known: {', '.join(sorted(known)) or 'none'})")
    plans = set(result.plans)
    reasons.extend(_unchecked(result, plans, args.paths))
    reasons.extend(budget.reasons if budget else [])

    def relevant(f) -> bool:
        return not wanted or f.service in wanted or f.file in plans or (f.service is None and f.rule_id in UNDECIDABLE)

    findings = [f for f in result.findings if relevant(f)]
    for f in findings:
        if f.rule_id in UNDECIDABLE:
            f.suppression = None  # whatever step suppressed it: never waived, baselined or hidden in a gate
            reasons.append(f"{f.file}:{f.span.line}: {UNDECIDED_BECAUSE[f.rule_id]}: {f.message}")
    blocking = [f for f in findings if not f.suppressed and SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on]]
    if reasons:
        decision = "error"
    else:
        decision = "blocked" if blocking or (budget and budget.blocks) else "pass"

    summaries = [s for s in result.services if not wanted or s.name in wanted]
    if wanted and graph is not None:  # a named service is decided even when the paths do not reach it
        have = {s.name for s in summaries}
        from .engine import ServiceSummary

        for svc in graph.services:
            if svc.name in wanted and svc.name not in have:
                summaries.append(ServiceSummary(svc.name, svc.tier, svc.manifest.file, None))
    services = []
    for s in sorted(summaries, key=lambda s: s.name):
        blocked = [f for f in blocking if f.service == s.name]
        services.append({
            "name": s.name, "tier": s.tier, "owner": s.owner, "manifest": s.file,
            "decision": "blocked" if blocked or (budget and budget.blocks_service(s.name)) else "pass",
            **_counts(f for f in findings if f.service == s.name),
            "blocking": len(blocked),
        })
    unowned = [f for f in findings if f.service is None]

    waivers = result.waivers
    soon = today + datetime.timedelta(days=EXPIRING_DAYS)
    relevant_fps = {f.fingerprint for f in findings}
    applied = [w.as_dict() for w in waivers if any(fp in relevant_fps for fp in w.matched)]
    expiring = [w.as_dict() for w in waivers if not w.expired and w.expires is not None and w.expires <= soon]
    expired = [w.as_dict() for w in waivers if w.expired]
    baselined = [f for f in findings if f.suppression is not None and f.suppression.kind == "baseline"]

    report = dict(
        base, decision=decision, reasons=reasons, fail_on=fail_on, date=today.isoformat(),
        commit=head_commit(result.root), root=result.root,
        summary={"services": len(services), "blocking": len(blocking), **_counts(findings),
                 "files": result.files_read, "documents": result.documents},
        services=services,
        unowned={"findings": sum(1 for f in unowned if not f.suppressed),
                 "blocking": sum(1 for f in blocking if f.service is None)},
        blocking=[finding_dict(f) for f in blocking],
        waivers={"applied": applied, "expiring_within_14_days": expiring, "expired": expired,
                 "baselined_findings": len(baselined)},
        plans=sorted(plans),
    )
    if result.diff is not None:
        report["diff"] = result.diff.report()
    if budget is not None:
        report["error_budget"] = budget.section
    failed = _write_report(args, report)
    if failed:
        return _print_undecided(reasons + [failed])
    if decision == "error":
        return _print_undecided(reasons, budget)
    _print_verdict(report, blocking, args.report, budget)
    return 1 if decision == "blocked" else 0


def _unchecked(result, plans: set, paths: list) -> list:
    """Reasons the run checked nothing: no document in the given paths, or no rule selected but the
    UNDECIDABLE ones (which `_protect` always selects)."""
    from .engine import _in_scope

    out = []
    if result.selected is not None:
        selected = {r.id for r in result.selected}
        if not selected - set(UNDECIDABLE):
            out.append("no rule selected (see --select, --ignore and the config): nothing to decide on")
    docs = [d for d in result.docs if _in_scope(d.file, result.scope)]
    if result.documents == 0 or not (docs or plans):
        out.append(f"no documents found in {' '.join(paths)}: nothing to decide on")
    return out


def _print_undecided(reasons: list, budget=None) -> int:
    # reasons hold file names and messages from the repository: one line each on every channel
    print("prr-lint gate: COULD NOT DECIDE (fail-closed, exit 2)")
    for reason in reasons:
        print(f"  - {one_line(reason)}")
    if budget is not None and (budget.rows or budget.section["freeze"]):
        from .budget import text_lines  # what was learnt before the gate gave up: which SLOs, how far

        print("\n".join(text_lines(budget)))
    for reason in reasons:
        print(f"prr-lint gate: error: {one_line(reason)}", file=sys.stderr)
    return 2


def _print_verdict(report: dict, blocking: list, report_path: str | None, budget=None) -> None:
    out = []
    s = report["summary"]
    spent = f"error budget: {one_line(budget.blocks[0])}" if budget and budget.blocks else ""
    if report["decision"] == "pass":
        exempt = f"; {one_line(budget.exempt)} change let through the error budget" if budget and budget.exempt else ""
        out.append(f"prr-lint gate: PASS (nothing at or above {report['fail_on']}; "
                   f"{s['warnings']} warnings, {s['info']} info, {s['suppressed']} suppressed{exempt})")
    elif not blocking:
        out.append(f"prr-lint gate: BLOCKED ({spent})")
    else:
        n = s["blocking"]
        out.append(f"prr-lint gate: BLOCKED ({n} blocking finding{'s' if n != 1 else ''} "
                   f"at or above {report['fail_on']}{'; ' + spent if spent else ''})")
    if report["services"]:
        names = {x["name"]: one_line(x["name"]) for x in report["services"]}
        width = max(7, *(len(n) for n in names.values()), 12 if report["unowned"]["findings"] else 0)
        out.append("")
        out.append(f"  {'service':<{width}}  tier  result   errors  warnings  suppressed")
        for x in report["services"]:
            out.append(f"  {names[x['name']]:<{width}}  {x['tier']:<4}  "
                       f"{x['decision'].upper() if x['decision'] != 'pass' else 'pass':<7}  "
                       f"{x['errors']:<6}  {x['warnings']:<8}  {x['suppressed']}")
        if report["unowned"]["findings"]:
            verdict = "BLOCKED" if report["unowned"]["blocking"] else "pass"
            out.append(f"  {'(no service)':<{width}}  -     {verdict:<7}  "
                       f"{report['unowned']['findings']} finding(s) in files no service claims")
    if blocking:
        out.append("")
        out.append("Blocking findings:")
        for f in blocking[:MAX_LISTED]:
            who = f"  [{one_line(f.service)}]" if f.service else ""
            out.append(f"  {one_line(f.file)}:{f.span.line}:{f.span.col}  {f.rule_id}  {one_line(f.message)}{who}")
        if len(blocking) > MAX_LISTED:
            out.append(f"  ... and {len(blocking) - MAX_LISTED} more (see the report)")
    if budget is not None:
        from .budget import text_lines

        out.extend(text_lines(budget))
    w = report["waivers"]
    if w["applied"] or w["expiring_within_14_days"] or w["expired"]:
        out.append("")
        out.append(f"Waivers: {len(w['applied'])} applied, {len(w['expiring_within_14_days'])} expiring within "
                   f"{EXPIRING_DAYS} days, {len(w['expired'])} expired")
        for x in w["expiring_within_14_days"][:MAX_LISTED]:
            owner = f" (owner: {one_line(x['owner'])})" if x["owner"] else ""
            out.append(f"  {one_line(x['source'])}  {one_line(x['rule'])}  expires {x['expires']}{owner}")
    if report_path:
        out.append("")
        out.append(f"Report: {one_line(report_path)}")
    print("\n".join(out))
