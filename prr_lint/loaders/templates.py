"""Files that are templates of configuration, not configuration: never a service, never a PRR000.

A Backstage scaffolder template keeps the files it writes into a new repository under `skeleton/`, with
`${{ values.name }}` placeholders (and Nunjucks tags such as `{%- if %}`, which are not YAML at all). They
describe no running service and no deployed object; checking them reports placeholders as names and their
tags as syntax errors. Outside `skeleton/`, a YAML file is a template when its placeholders break the YAML,
and a document is one when a one-line value holds a placeholder (`name: ${{ values.name }}`); a placeholder
inside a multi-line text (a ConfigMap that embeds a Jinja file) makes nothing a template.
"""

from __future__ import annotations

import re

SKELETON_DIR = "skeleton"
# scaffolder (`${{ values.x }}`), Nunjucks/Jinja tags (`{% if %}`, `{%- for %}`) and cookiecutter variables
_PLACEHOLDER = re.compile(r"\$\{\{|\{%|\{\{-?\s*cookiecutter\.")
SKELETON_NOTICE = "under a scaffolder skeleton/ directory: a template, not checked"
BROKEN_NOTICE = "YAML with template placeholders (${{ }} or {% %}): a template, not checked"


def skeleton_notice(rel: str) -> str | None:
    """The notice for a file of a scaffolder skeleton (any kind), else None."""
    return SKELETON_NOTICE if SKELETON_DIR in rel.split("/")[:-1] else None


def has_placeholders(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None


def is_template_document(data) -> bool:
    """Whether a parsed document holds a placeholder in a key or a one-line value."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and "\n" not in node and _PLACEHOLDER.search(node):
            return True
    return False


def templates_notice(count: int) -> str:
    what = "a document" if count == 1 else f"{count} documents"
    return f"{what} with template placeholders (${{{{ }}}} or {{% %}}): a template, not checked"
