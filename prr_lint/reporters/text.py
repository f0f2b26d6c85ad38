"""Human output: one line per finding, grouped by file, colour only on a terminal.

Every value from the repository (file, message, service) goes through `escape`: a newline or `::` in a
file name must not start a line that a CI runner reads as a command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..escape import line_start, one_line
from . import counts, plural

if TYPE_CHECKING:
    from ..engine import Result

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m", "dim": "\033[2m", "bold": "\033[1m"}
_RESET = "\033[0m"


def render(result: Result, color: bool = False, show_suppressed: bool = False, verbose: bool = False,
           **_: Any) -> str:
    def paint(text: str, what: str) -> str:
        return f"{_COLOURS[what]}{text}{_RESET}" if color else text

    lines: list[str] = []
    current = None
    for f in result.findings:
        if f.suppressed and not show_suppressed:
            continue
        if current is not None and f.file != current:
            lines.append("")
        current = f.file
        where = f"{line_start(f.file)}:{f.span.line}:{f.span.col}"
        severity = paint(f"{f.severity:<7}", f.severity)
        service = f"  [{one_line(f.service)}]" if f.service else ""
        suppressed = paint(f"  (suppressed: {one_line(f.suppression.kind)})", "dim") \
            if f.suppression is not None else ""
        lines.append(f"{paint(where, 'bold')}  {severity}  {one_line(f.rule_id)}  {one_line(f.message)}"
                     f"{paint(service, 'dim')}{suppressed}")
    if verbose and result.notices:
        if lines:
            lines.append("")
        lines.extend(f"{line_start(file)}: note: {one_line(message)}" for file, message in result.notices)
    c = counts(result.findings)
    files = len({f.file for f in result.findings if not f.suppressed})
    if result.files_read == 0 and not result.findings:
        summary = "Nothing checked: no file given is one prr-lint reads."
    elif c["error"] + c["warning"] + c["info"] == 0:
        summary = f"No findings in {plural(result.files_read, 'file')}."
    else:
        summary = (f"{plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, {c['info']} info "
                   f"in {plural(files, 'file')} ({plural(result.files_read, 'file')} read).")
    if c["suppressed"]:
        summary += f" {c['suppressed']} suppressed."
    if lines:
        lines.append("")
    lines.append(summary)
    return "\n".join(lines) + "\n"
