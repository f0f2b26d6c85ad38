#!/usr/bin/env bash
# GitHub Action step: run prr-lint, write SARIF, annotations and the job summary, set the step's outputs.
#
# Every value comes from the environment (the action maps its inputs there; never `${{ }}` in script text):
#   PRR_LINT            prr-lint executable (default: prr-lint on PATH)
#   INPUT_PATHS         files or directories, separated by spaces or newlines (default: .)
#   INPUT_CONFIG        config file                    INPUT_BASELINE   baseline file
#   INPUT_FAIL_ON       error|warning|info|never (default: the config's fail_on, else error)
#   INPUT_SARIF_FILE    where to write SARIF (default: prr-lint.sarif)
#   INPUT_CATEGORY      SARIF category (automationDetails.id)
#   INPUT_DIFF_BASE     a git ref: annotations, summary and the verdict cover only lines changed since its merge
#                       base; `auto` takes the pull request's base commit (or a push's previous commit) from
#                       $GITHUB_EVENT_PATH
#   INPUT_ANNOTATIONS   true|false (default true)      INPUT_SUMMARY    true|false (default true)
#   INPUT_ARGS          extra arguments for `prr-lint check`, separated by spaces
#   PRR_CACHE           true: keep prr-lint's cache in PRR_CACHE_HOME (restored and saved by actions/cache; see
#                       action-cache.sh), else in the runner's own cache directory
# Outputs ($GITHUB_OUTPUT): sarif-file, report-file, errors, warnings, exit-code. The step itself succeeds even
# when prr-lint finds problems, so that the SARIF is uploaded first; the action's last step fails the job.
#
# The SARIF is the full analysis (code scanning compares it with the base branch itself); annotations, the
# summary, the counts and the exit code come from one run restricted by diff-base and baseline.
set -euo pipefail

prr="${PRR_LINT:-prr-lint}"
github_output="${GITHUB_OUTPUT:-/dev/null}"
tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
if [ "${PRR_CACHE:-}" = true ] && [ -n "${PRR_CACHE_HOME:-}" ]; then
  export XDG_CACHE_HOME="$PRR_CACHE_HOME"
fi

output() { printf '%s=%s\n' "$1" "$2" >> "$github_output"; }
truthy() { case "${1:-true}" in true|True|TRUE|yes|1) return 0 ;; *) return 1 ;; esac; }
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }

read -r -d '' -a paths <<< "${INPUT_PATHS:-.}" || true
[ "${#paths[@]}" -gt 0 ] || paths=(.)
read -r -d '' -a extra <<< "${INPUT_ARGS:-}" || true

common=()
[ -z "${INPUT_CONFIG:-}" ] || common+=(--config "$INPUT_CONFIG")
[ -z "${INPUT_BASELINE:-}" ] || common+=(--baseline "$INPUT_BASELINE")
common+=(${extra[@]+"${extra[@]}"})

base="${INPUT_DIFF_BASE:-}"
if [ "$base" = auto ]; then
  base=""
  if [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ]; then
    python="$(dirname "$(command -v "$prr")")/python"
    [ -x "$python" ] || python=python3
    base="$("$python" - "$GITHUB_EVENT_PATH" <<'PY'
import json, re, sys
event = json.load(open(sys.argv[1], encoding="utf-8"))
sha = (event.get("pull_request") or {}).get("base", {}).get("sha") or event.get("before") or ""
print(sha if re.fullmatch(r"[0-9a-f]{40}", sha) and sha != "0" * 40 else "")
PY
)"
  fi
  if [ -z "$base" ]; then
    echo "prr-lint: diff-base auto: no base commit in this event; checking everything"
  fi
fi
scope=()
[ -z "$base" ] || scope=(--diff-base "$base")

fail_on=()
[ -z "${INPUT_FAIL_ON:-}" ] || fail_on=(--fail-on "$INPUT_FAIL_ON")

# 1. SARIF: the full analysis
sarif="$(absolute "${INPUT_SARIF_FILE:-prr-lint.sarif}")"
category=()
[ -z "${INPUT_CATEGORY:-}" ] || category=(--category "$INPUT_CATEGORY")
set +e
"$prr" check "${paths[@]}" ${common[@]+"${common[@]}"} ${category[@]+"${category[@]}"} --format sarif --output "$sarif" --fail-on never
sarif_rc=$?
set -e
if [ "$sarif_rc" -eq 0 ] && [ -s "$sarif" ]; then
  output sarif-file "$sarif"
else
  output sarif-file ""   # an incomplete analysis is never uploaded: it would close open alerts
fi

# 2. The verdict: JSON report, counts and exit code
report="$tmp/prr-lint-report.json"
rm -f "$report"
set +e
"$prr" check "${paths[@]}" ${common[@]+"${common[@]}"} ${scope[@]+"${scope[@]}"} ${fail_on[@]+"${fail_on[@]}"} --format json --output "$report"
rc=$?
set -e
if [ "$sarif_rc" -eq 2 ]; then rc=2; fi
errors="" warnings=""
if [ -s "$report" ]; then
  python="$(dirname "$(command -v "$prr")")/python"
  [ -x "$python" ] || python=python3
  read -r errors warnings < <("$python" -c 'import json, sys; s = json.load(open(sys.argv[1]))["summary"]; print(s["errors"], s["warnings"])' "$report")
  output report-file "$report"
else
  output report-file ""
fi
output errors "$errors"
output warnings "$warnings"
output exit-code "$rc"

# 3. Annotations on the diff (workflow commands on stdout)
if truthy "${INPUT_ANNOTATIONS:-true}"; then
  "$prr" check "${paths[@]}" ${common[@]+"${common[@]}"} ${scope[@]+"${scope[@]}"} --format github --fail-on never || true
fi

# 4. The job summary
if truthy "${INPUT_SUMMARY:-true}" && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  links=()
  if [ -n "${GITHUB_REPOSITORY:-}" ] && [ -n "${GITHUB_SHA:-}" ]; then
    links=(--link-base "${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/blob/$GITHUB_SHA")
  fi
  "$prr" check "${paths[@]}" ${common[@]+"${common[@]}"} ${scope[@]+"${scope[@]}"} ${links[@]+"${links[@]}"} --format markdown \
    --fail-on never >> "$GITHUB_STEP_SUMMARY" || true
  if [ "$rc" -eq 2 ]; then
    printf '\n> [!CAUTION]\n> prr-lint could not complete the check (exit 2): see the step log.\n' >> "$GITHUB_STEP_SUMMARY"
  fi
fi

case "$rc" in
  0) echo "prr-lint: passed (${errors:-0} errors, ${warnings:-0} warnings)" ;;
  1) echo "prr-lint: findings at or above fail-on (${errors} errors, ${warnings} warnings)" ;;
  *) echo "prr-lint: could not complete the check (exit $rc)" ;;
esac
