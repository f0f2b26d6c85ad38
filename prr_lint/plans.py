"""`--plan FILE`: a Terraform plan JSON (`terraform show -json tfplan`) checked as a first-class input by every
rule that reads `terraform-plan` documents, wherever the file lives (it need not be inside the repository).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .discover import inside
from .errors import UsageError

if TYPE_CHECKING:
    from .engine import Result, StepContext
    from .model import Document


def add_arguments(parser) -> None:
    parser.add_argument("--plan", action="append", default=[], metavar="PLAN_JSON",
                        help="also check this Terraform plan JSON (terraform show -json tfplan > plan.json); "
                             "repeatable")


def configure(args, options) -> None:
    plans = getattr(args, "plan", None) or []
    if not plans:
        return
    services = getattr(args, "service", None) or []
    # first step: plan findings are then waived, baselined and gated like any other
    options.steps.insert(0, PlanStep(plans, services[0] if len(services) == 1 else None))


def load_plan(path: str, shown: str) -> Document:
    from .loaders import load_text
    from .loaders.errors import LoadError

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        raise UsageError(f"{shown}: cannot read plan: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{shown}: cannot read plan: not UTF-8 text") from None
    try:
        docs = load_text(shown, text, "json", set())
    except LoadError as e:
        raise UsageError(f"{shown}:{e.line}: not a Terraform plan: {e.message}") from None
    if not docs:
        raise UsageError(f"{shown}: not a Terraform plan JSON (expected the output of `terraform show -json tfplan`)")
    return docs[0]


class PlanStep:
    def __init__(self, plans: list[str], service: str | None):
        self.plans = plans
        self.service = service        # the one service `gate --service` names: it owns the plans

    def __call__(self, result: Result, run: StepContext) -> Result:
        graph = result.graph
        loaded = {d.file for d in result.docs if d.kind == "terraform-plan"}
        files = []
        for given in self.plans:
            full = os.path.abspath(given)
            if not os.path.isfile(full):
                raise UsageError(f"{given}: plan file not found")
            shown = os.path.relpath(full, result.root).replace(os.sep, "/") if inside(result.root, full) else given
            files.append(shown)
            doc = load_plan(full, shown)
            result.documents += 1
            if shown in loaded:
                continue  # already checked with the repository
            owner = graph.by_name.get(self.service) if (graph is not None and self.service) else None
            if owner is None and graph is not None and inside(result.root, full):
                owner = graph.owner_of(shown)
            doc.service = owner.name if owner else None
            run.check(result, doc, owner)
        result.plans = files
        return result
