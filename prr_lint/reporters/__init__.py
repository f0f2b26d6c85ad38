"""Reporters are pure functions: render(result, **options) -> str."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..model import SEVERITIES, Finding

if TYPE_CHECKING:
    from ..engine import Result

FORMATS = ("text", "json", "sarif", "github", "markdown", "junit", "gitlab")


def render(fmt: str, result: Result, **options: Any) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f".{fmt}", __name__)
    text: str = module.render(result, **options)
    return text


def write(fmt: str, result: Result, out: Callable[[str], object], **options: Any) -> None:
    """`out(render(fmt, result, **options))`, in parts where the reporter writes its text so (a `write` of its own)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f".{fmt}", __name__)
    writer = getattr(module, "write", None)
    if writer is None:
        out(module.render(result, **options))
    else:
        writer(result, out, **options)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES + ("suppressed",), 0)
    for f in findings:
        if f.suppressed:
            out["suppressed"] += 1
        else:
            out[f.severity] += 1
    return out


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
