"""The error-budget table of the gate's text verdict."""

from __future__ import annotations

from ..checks.time import parse_duration
from ..escape import one_line

MAX_NOTES = 15
_SHOWN = {"pass": "pass", "warn": "warn", "blocked": "BLOCKED", "error": "UNKNOWN", "exempt": "exempt",
          "overridden": "overridden"}


def _percent(value) -> str:
    return "-" if value is None else f"{value:.10g}%"


def _left(row) -> str:
    left = row.remaining_percent
    return "-" if left is None else f"{left:.1f}%"


def _burns(row) -> str:
    windows = sorted((w for w in row.burn_rates if w != row.window), key=lambda w: parse_duration(w) or 0)
    parts = [f"{w} {row.burn_rates[w]:.1f}x" for w in windows if row.burn_rates[w] is not None]
    return " ".join(parts) or "-"


def table(out) -> list:
    s = out.section
    lines = [""]
    where = f"Prometheus {one_line(s['prometheus']['url'])}" if s.get("prometheus") else "no Prometheus asked"
    lines.append(f"Error budget ({where}, at {s['evaluated_at']}):")
    for f in s["freeze"]:
        lines.append(f"  release freeze {f['from']} .. {f['to']}: {one_line(f['reason'])}")
    if out.rows:
        cells = [(one_line(r.service), one_line(r.slo), _percent(r.objective), one_line(r.window), _left(r),
                  _burns(r), _SHOWN.get(r.decision, r.decision)) for r in out.rows]
        head = ("service", "slo", "objective", "window", "budget left", "burn rate", "decision")
        widths = [max(len(head[i]), *(len(c[i]) for c in cells)) for i in range(len(head))]
        for row in [head, *cells]:
            lines.append("  " + "  ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip())
    notes = [f"{r.service}/{r.slo}: {text}" for r in out.rows for text in ([r.note] if r.note else []) +
             (r.reasons if r.decision in ("blocked", "exempt", "overridden") else [])]
    for note in notes[:MAX_NOTES]:
        lines.append(f"  - {one_line(note)}")
    if len(notes) > MAX_NOTES:
        lines.append(f"  ... and {len(notes) - MAX_NOTES} more (see the report)")
    if s["services_without_slos"]:
        lines.append("  no SLO, budget not known: " + ", ".join(one_line(n) for n in s["services_without_slos"]))
    expired = s["overrides"]["expired"]
    if expired:
        lines.append(f"  {len(expired)} expired override(s), not applied: "
                     + ", ".join(one_line(f"{o['service']}/{o['slo']} ({o['expires']})") for o in expired[:5]))
    return lines
