#!/usr/bin/env bash
# GitHub Action step: install prr-lint into its own virtual environment.
# Inputs (environment only): PRR_PYTHON (interpreter from actions/setup-python), PRR_ACTION_PATH (the action's
# checkout), PRR_VERSION (optional: install this release from the package index instead of the checkout).
# Output: prr-lint=<path of the installed executable> in $GITHUB_OUTPUT.
set -euo pipefail

python="${PRR_PYTHON:-python3}"
venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/prr-lint-venv"

if [ -n "${PRR_VERSION:-}" ]; then
  if ! [[ "$PRR_VERSION" =~ ^[0-9A-Za-z.+!-]+$ ]]; then
    echo "::error title=prr-lint::input version is not a version number: $PRR_VERSION" >&2
    exit 2
  fi
  spec="prr-lint[render]==$PRR_VERSION"
else
  spec="${PRR_ACTION_PATH:?PRR_ACTION_PATH or PRR_VERSION must be set}[render]"
fi

"$python" -m venv "$venv"
if [ -x "$venv/bin/python" ]; then bin="$venv/bin"; else bin="$venv/Scripts"; fi
"$bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
"$bin/prr-lint" --version
echo "prr-lint=$bin/prr-lint" >> "${GITHUB_OUTPUT:-/dev/null}"
