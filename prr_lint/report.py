"""`prr-lint report`: the readiness scorecard as an HTML page (or a text / Markdown table), and what changed
since a previous JSON report (`--compare BASE.json`).

Every form works from the JSON report (schemas/report.schema.json): either the one a run of the rules gives
(the same paths and options as `check`), or a saved one (`--from REPORT.json`, written by
`check --format json`). So a report drawn from a run and one drawn from its saved JSON are the same page.
A saved report is input like any file of a repository: it is validated against the schema before use.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from .errors import UsageError

FORMATS = ("html", "text", "markdown")
MAX_REPORT_BYTES = 512 * 1024 * 1024


def add_commands(subparsers: Any) -> None:
    from .cli import add_run_arguments

    p = subparsers.add_parser("report", help="readiness scorecard as HTML, or what changed since a saved JSON report")
    add_run_arguments(p)
    p.add_argument("--from", dest="from_report", metavar="REPORT.json",
                   help="use this saved JSON report (`check --format json`) instead of running the rules")
    p.add_argument("--compare", metavar="BASE.json",
                   help="show what got better and worse since this saved JSON report (text or markdown)")
    p.add_argument("--fail-on-worse", action="store_true",
                   help="with --compare: exit 1 when a service got worse (level, score or counts) or a finding "
                        "is new, so a pull request cannot lower readiness unnoticed")
    p.add_argument("-f", "--format", choices=FORMATS,
                   help="html (default), text or markdown; with --compare: text (default) or markdown")
    p.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    p.set_defaults(handler=cmd_report)


def load_report(path: str) -> dict[str, Any]:
    """A saved JSON report, validated; anything else is a one-line usage error."""
    from .schemas import schema_errors, schema_message

    try:
        if os.path.getsize(path) > MAX_REPORT_BYTES:
            raise UsageError(f"{path}: larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB, not a report to read")
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as e:
        raise UsageError(f"{path}: cannot read report: {e.strerror}") from None
    except (ValueError, RecursionError) as e:   # not JSON, not UTF-8, or nested too deep to parse
        raise UsageError(f"{path}: not a JSON report: {e}") from None
    errors = schema_errors(data, "report.schema.json")
    if errors:
        raise UsageError(f"{path}: not a prr-lint JSON report: {schema_message(errors[0])}")
    return data   # type: ignore[no-any-return]


def _current(args: Any) -> tuple[dict[str, Any], list[str]]:
    """The report to show, and the errors of the run that made it (none for a saved report)."""
    if args.from_report:
        if args.paths != ["."]:
            raise UsageError("--from reads a saved report: give no paths")
        return load_report(args.from_report), []
    from .cli import run_to_report
    from .reporters import render

    _, result = run_to_report(args)
    return json.loads(render("json", result)), list(result.errors)


def cmd_report(args: Any) -> int:
    from .escape import one_line

    fmt = args.format or ("text" if args.compare else "html")
    if args.compare and fmt == "html":
        raise UsageError("--compare reports as text or markdown")
    if args.fail_on_worse and not args.compare:
        raise UsageError("--fail-on-worse needs --compare BASE.json")
    base = load_report(args.compare) if args.compare else None
    report, errors = _current(args)
    worse = False
    if base is not None:
        from . import compare

        comparison = compare.compare(base, report, args.compare)
        text = compare.markdown(comparison) if fmt == "markdown" else compare.text(comparison)
        worse = bool(comparison.count("worse") or comparison.new)
    else:
        if not report.get("scorecard"):
            raise UsageError(f"{args.from_report}: the report has no scorecard (written by an older prr-lint): "
                             "write it again with `prr-lint check --format json`")
        text = _scorecard(report, fmt)
    from .cli import write_report

    write_report(args.output, text)
    for message in errors:
        print(f"prr-lint: error: {one_line(message)}", file=sys.stderr)
    if errors:
        return 2
    return 1 if worse and args.fail_on_worse else 0


def _scorecard(report: dict[str, Any], fmt: str) -> str:
    from . import htmlreport, scorecard

    cards = report["scorecard"]["services"]
    if fmt == "html":
        return htmlreport.render(report)
    if fmt == "markdown":
        return "\n".join(["## prr-lint: readiness scorecard", ""] + scorecard.markdown_table(cards)[3:]) + "\n"
    return scorecard.text_table(cards)
