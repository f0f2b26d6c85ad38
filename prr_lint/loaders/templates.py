"""Files that are templates of configuration, not configuration: never parsed, never a PRR000.

A Backstage scaffolder template keeps the files it writes into a new repository under `skeleton/`, with
`${{ values.name }}` placeholders (and Nunjucks tags such as `{%- if %}`, which are not YAML at all). They
describe no running service and no deployed object; checking them reports placeholders as names and their
tags as syntax errors.
"""

from __future__ import annotations

import re

SKELETON_DIR = "skeleton"
# scaffolder (`${{ values.x }}`), Nunjucks/Jinja tags (`{% if %}`, `{%- for %}`) and cookiecutter variables
_PLACEHOLDER = re.compile(r"\$\{\{|\{%|\{\{-?\s*cookiecutter\.")


def template_notice(rel: str, text: str | None) -> str | None:
    """Why a file is a template and not read (a run notice), or None for an ordinary file."""
    if SKELETON_DIR in rel.split("/")[:-1]:
        return "under a scaffolder skeleton/ directory: a template, not checked"
    if text is not None and _PLACEHOLDER.search(text):
        return "has template placeholders (${{ }} or {% %}): a template, not checked"
    return None
