"""Baseline: record today's findings so that only new ones are reported.

`prr-lint baseline -o .prr-baseline.json` writes every active finding keyed by (rule, file, logical address,
fingerprint). Line numbers are not part of the key, so moving code inside a file (or reordering the
documents of a file) does not bring old findings back, while a new violation of the same rule in another
file, or at another address, is never absorbed. `--baseline FILE` (config `baseline`) keeps baselined
findings in the results as suppressed (kind "baseline").
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import __version__
from .errors import UsageError
from .escape import one_line
from .model import Suppression
from .rule import GATE_PROTECTED

if TYPE_CHECKING:
    from .engine import Result, StepContext

BASELINE_VERSION = 1
DEFAULT_OUTPUT = ".prr-baseline.json"


def key(f) -> tuple:
    return (f.rule_id, f.file, f.address, f.fingerprint)


def entry(f) -> dict:
    return {"rule": f.rule_id, "file": f.file, "address": f.address, "fingerprint": f.fingerprint,
            "severity": f.severity, "message": f.message}


def dumps(findings) -> str:
    items = sorted((entry(f) for f in findings if not f.suppressed),
                   key=lambda e: (e["file"], e["rule"], e["address"], e["fingerprint"]))
    doc = {"version": BASELINE_VERSION, "tool": {"name": "prr-lint", "version": __version__}, "findings": items}
    return json.dumps(doc, indent=2) + "\n"


def load(path: str, shown: str) -> set:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as e:
        raise UsageError(f"{shown}: cannot read baseline: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{shown}: not a prr-lint baseline (invalid JSON: {e})") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION \
            or not isinstance(data.get("findings"), list):
        raise UsageError(f"{shown}: not a prr-lint baseline (expected {{\"version\": 1, \"findings\": [...]}}; "
                         "create one with `prr-lint baseline -o FILE`)")
    out = set()
    for item in data["findings"]:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("rule", "file", "fingerprint")):
            raise UsageError(f"{shown}: not a prr-lint baseline (an entry lacks rule, file or fingerprint)")
        out.add((item["rule"], item["file"], item.get("address") or "", item["fingerprint"]))
    return out


# -- feature interface ---------------------------------------------------------------------------
def add_arguments(parser) -> None:
    parser.add_argument("--baseline", metavar="FILE",
                        help="report only findings not recorded in this baseline (see `prr-lint baseline`)")


def configure(args, options) -> None:
    if getattr(args, "writing_baseline", False):
        return
    given = getattr(args, "baseline", None)
    if given:
        path, shown = os.path.abspath(given), given
    elif options.config.baseline:
        base = os.path.dirname(os.path.abspath(options.config.path)) if options.config.path else \
            os.path.abspath(options.root or ".")
        path, shown = os.path.join(base, options.config.baseline), options.config.baseline
    else:
        return
    if not os.path.isfile(path):
        raise UsageError(f"{shown}: baseline file not found (create it with `prr-lint baseline -o {shown}`)")
    protected = GATE_PROTECTED if getattr(args, "command", None) == "gate" else frozenset()
    options.steps.append(BaselineStep(load(path, shown), shown, protected))


@dataclass
class BaselineSummary:
    """What a --baseline run suppressed (set by the baseline step)."""

    file: str
    entries: int
    matched: int


class BaselineStep:
    def __init__(self, keys: set, source: str, protected: frozenset = frozenset()):
        self.keys = keys
        self.source = source
        self.protected = protected    # rule ids and names a baseline never absorbs (a gate's parse errors)

    def __call__(self, result: Result, run: StepContext) -> Result:
        matched = 0
        for f in result.findings:
            if f.rule_id in self.protected or f.rule_name in self.protected:
                continue
            if not f.suppressed and key(f) in self.keys:
                f.suppression = Suppression("baseline", f"recorded in baseline {self.source}", source=self.source)
                matched += 1
        result.baseline = BaselineSummary(self.source, len(self.keys), matched)
        return result


def add_commands(subparsers) -> None:
    from .cli import add_run_arguments

    p = subparsers.add_parser("baseline",
                              help="record current findings; later runs with --baseline report only new ones")
    add_run_arguments(p)
    p.add_argument("-o", "--output", default=DEFAULT_OUTPUT,
                   help=f"baseline file to write (default: {DEFAULT_OUTPUT}; - for stdout)")
    p.set_defaults(handler=cmd_baseline, writing_baseline=True)


def cmd_baseline(args) -> int:
    from .cli import make_options
    from .engine import run

    result = run(make_options(args))
    if result.errors:
        for message in result.errors:
            print(f"prr-lint: error: {one_line(message)}", file=sys.stderr)
        print("prr-lint: error: baseline not written", file=sys.stderr)
        return 2
    text = dumps(result.findings)
    count = sum(1 for f in result.findings if not f.suppressed)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            raise UsageError(f"{args.output}: cannot write baseline: {e.strerror}") from None
        print(f"prr-lint: recorded {count} finding{'s' if count != 1 else ''} in {one_line(args.output)}",
              file=sys.stderr)
    return 0
