"""Diff-aware runs: `--diff-base REF` loads the whole repository but reports only what the change touched.

Kept: findings whose line the change added or modified (base...HEAD, plus staged and working-tree changes;
untracked files count as wholly added), parse errors of changed files, and service-level findings
(`Finding.service_level`) of services one of whose files (manifest, deploy files, alerts, runbooks) changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .rule import PARSE_ERROR, UNDECIDABLE

if TYPE_CHECKING:
    from .engine import Result, StepContext


def add_arguments(parser) -> None:
    parser.add_argument("--diff-base", metavar="REF",
                        help="report only findings on lines changed since the merge base with REF (e.g. origin/main)")


def configure(args, options) -> None:
    ref = getattr(args, "diff_base", None)
    if not ref or getattr(args, "writing_baseline", False):
        return
    from .engine import find_root
    from .git import changed_lines

    root = options.root or find_root(options.paths)
    changes = changed_lines(root, ref)
    if changes.warning:
        import sys

        from .escape import one_line

        print(f"prr-lint: warning: {one_line(changes.warning)}", file=sys.stderr)
    # a gate never lets a diff hide a file it could not read or a rule that failed, changed or not
    keep = tuple(UNDECIDABLE) if getattr(args, "command", None) == "gate" else ()
    options.steps.append(DiffStep(changes, ref, keep))


@dataclass
class DiffSummary:
    """What a --diff-base run left out (set by the diff step)."""

    base: str                     # the ref given
    merge_base: str | None
    files: list[str]              # the changed files
    services: list[str]           # services one of whose files changed
    dropped: int                  # findings left out

    def report(self) -> dict:
        """The gate report's `diff` object (without the file list)."""
        return {"base": self.base, "merge_base": self.merge_base, "services": self.services, "dropped": self.dropped}


class DiffStep:
    def __init__(self, changes, ref: str, keep: tuple = ()):
        self.changes = changes
        self.ref = ref
        self.keep = keep            # rule ids reported wherever they are

    def changed_services(self, result: Result) -> set:
        graph = result.graph
        if graph is None:
            return set()
        names = set()
        for svc in graph.services:
            files = {svc.manifest.file} | {d.file for d in svc.docs}
            if files & self.changes.files:
                names.add(svc.name)
        for path in self.changes.files:  # deleted or not-yet-read files the service claims
            owner = graph.owner_of(path)
            if owner is not None:
                names.add(owner.name)
        return names

    def __call__(self, result: Result, run: StepContext) -> Result:
        services = self.changed_services(result)
        kept = []
        plans = set(result.plans)   # a --plan file is an input of this change as a whole
        for f in result.findings:
            if f.file in plans or f.rule_id in self.keep or self.changes.touches(f.file, f.span.line) \
                    or (f.service_level and f.service in services) \
                    or (f.rule_id == PARSE_ERROR and f.file in self.changes.lines):
                kept.append(f)
        result.diff = DiffSummary(self.ref, self.changes.base, sorted(self.changes.files), sorted(services),
                                  len(result.findings) - len(kept))
        result.findings = kept
        return result
