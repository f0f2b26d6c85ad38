"""GitHub Actions workflow commands: one annotation per active finding.

    ::error file=F,line=L,endLine=E,col=C,endColumn=EC,title=ID name::message

Escaping follows the Actions runner (and @actions/core): in the message `%`, `\\r` and `\\n` become `%25`, `%0D` and
`%0A`; property values also escape `:` as `%3A` and `,` as `%2C`, so a value can neither end the property
list nor the command. Other characters that break a line somewhere (`\\x0b`, `\\x85`, U+2028, ...) and other
control characters are shown as visible escapes first (prr_lint/escape.py). Suppressed findings are not
annotated.

GitHub shows at most 10 annotations of each kind (error, warning, notice) per step and 50 per job, in the order
they are printed. So errors come first, then warnings, then notices, and when a kind overflows, the first line is
a notice saying how many there are and where to see all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..escape import printable
from ..model import SEVERITY_RANK, Finding

if TYPE_CHECKING:
    from ..engine import Result

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
PER_STEP = 10


def escape_data(text: str) -> str:
    # `\r` and `\n` survive `printable` only to be percent-encoded: the runner decodes them inside the message
    text = printable(text, keep="\r\n")
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: object) -> str:
    """One workflow command line; properties with a None value are left out."""
    parts = [f"{key}={escape_property(str(value))}" for key, value in props.items() if value is not None]
    head = f"::{kind} {','.join(parts)}" if parts else f"::{kind}"
    return f"{head}::{escape_data(message)}"


def annotation(f: Finding) -> str:
    span = f.span
    single_line = span.end_line <= span.line
    message = f.message
    if f.service:
        tier = f", tier {f.tier}" if f.tier is not None else ""
        message += f" [service {f.service}{tier}]"
    return command(
        _COMMAND[f.severity], message,
        file=f.file,
        line=span.line,
        endLine=span.end_line if span.end_line > span.line else None,
        # GitHub ignores columns on a multi-line annotation: give them only for a single line
        col=span.col if single_line else None,
        endColumn=span.end_col if single_line and span.end_col > span.col else None,
        title=f"{f.rule_id} {f.rule_name}".strip(),
    )


def render(result: Result, **_: Any) -> str:
    active = sorted(result.active, key=lambda f: (-SEVERITY_RANK[f.severity],) + f.sort_key())
    lines = [annotation(f) for f in active]
    # a run that could not check everything (exit 2) says so where people look
    lines[:0] = [command("error", message, title="prr-lint error") for message in getattr(result, "errors", [])]
    per_kind: dict[str, int] = {}
    for f in active:
        per_kind[f.severity] = per_kind.get(f.severity, 0) + 1
    over = {k: n for k, n in per_kind.items() if n > PER_STEP}
    if over:
        detail = ", ".join(f"{n} {_COMMAND[k]}s" for k, n in sorted(over.items(), key=lambda kv: -SEVERITY_RANK[kv[0]]))
        lines.insert(0, command(
            "notice",
            f"prr-lint found {len(active)} findings ({detail}); GitHub shows at most {PER_STEP} annotations of "
            f"each kind per step. See the job summary or code scanning for all of them.",
            title="prr-lint: more findings than annotations"))
    return "".join(line + "\n" for line in lines)
