#!/usr/bin/env bash
# GitHub Action step: whether and where prr-lint's cache is kept between runs (actions/cache restores and saves it).
#
# Every value comes from the environment:
#   PRR_LINT            prr-lint executable (its virtual environment's python computes the key)
#   INPUT_CACHE         true|false (default true)
#   INPUT_CONFIG        config file, if the workflow names one   INPUT_PATHS   what the run checks
#   GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_SHA, RUNNER_OS, RUNNER_TEMP (set by the runner)
# Outputs ($GITHUB_OUTPUT):
#   use           true when the cache is restored before the run and saved after it
#   dir           the directory prr-lint keeps its cache in (its XDG_CACHE_HOME for the run)
#   key           prr-lint-OS-RELEASE-CODE-CONFIG-SCOPE-SHA: one entry per commit
#   restore-keys  the same without the commit (a run of this config), then without config and scope
#
# Whoever can save the cache a run restores can change that run's findings (the cache holds its own signing
# key). A job of a pull request from a fork, and any job under pull_request_target (which saves into the base
# branch's scope), could save one: there the cache is not used at all.
set -euo pipefail

github_output="${GITHUB_OUTPUT:-/dev/null}"
output() { printf '%s=%s\n' "$1" "$2" >> "$github_output"; }
dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/prr-lint-cache"
output dir "$dir"

case "${INPUT_CACHE:-true}" in
  true|True|TRUE|yes|1) ;;
  *) output use false; exit 0 ;;
esac

python="$(dirname "$(command -v "${PRR_LINT:-prr-lint}")")/python"
[ -x "$python" ] || python=python3
# prints "use" or why not on its first line, then the key and the restore keys; a key that cannot be made means
# no cache, never a failed job
if ! "$python" - > "$dir.key" <<'PY'
import hashlib, json, os, re

env = os.environ
event = env.get("GITHUB_EVENT_NAME", "")
why = ""
if event == "pull_request_target":
    why = "pull_request_target saves into the base branch's cache"
elif event.startswith("pull_request"):
    try:
        with open(env.get("GITHUB_EVENT_PATH", ""), encoding="utf-8") as fh:
            head = ((json.load(fh).get("pull_request") or {}).get("head") or {}).get("repo") or {}
    except (OSError, ValueError, AttributeError):
        head = {}
    if head.get("full_name") != env.get("GITHUB_REPOSITORY"):
        why = "a pull request from a fork can save the cache its next run would restore"


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()[:16]


def code() -> str:
    """The installed prr-lint and its rule pack, file by file: a checkout of the action at another commit may
    carry the same release number."""
    import prr_lint
    from prr_lint.resources import rules_dir

    parts = []
    for top in (os.path.dirname(prr_lint.__file__), rules_dir()):
        for directory, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if not name.endswith((".pyc", ".pyo")):
                    path = os.path.join(directory, name)
                    with open(path, "rb") as fh:
                        parts += [os.path.relpath(path, top).encode(), fh.read()]
    return digest(*parts)


def config() -> str:
    """The config file's bytes: the one named, else the nearest from here up to the workspace."""
    named = env.get("INPUT_CONFIG", "")
    candidates = [named] if named else []
    if not named:
        probe, stop = os.getcwd(), os.path.abspath(env.get("GITHUB_WORKSPACE") or os.getcwd())
        while True:
            candidates += [os.path.join(probe, n) for n in (".prr-lint.yaml", ".prr-lint.yml", "pyproject.toml")]
            if probe == stop or os.path.dirname(probe) == probe:
                break
            probe = os.path.dirname(probe)
    for path in candidates:
        try:
            with open(path, "rb") as fh:
                return digest(fh.read())
        except OSError:
            continue
    return "none"


def word(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]", "", value)[:40] or "none"


from prr_lint import __version__  # noqa: E402

scope = digest(os.getcwd().encode(), env.get("INPUT_PATHS", ".").encode())
base = f"prr-lint-{word(env.get('RUNNER_OS', ''))}-{word(__version__)}-{code()}"
print(why or "use")
print(f"{base}-{config()}-{scope}-{word(env.get('GITHUB_SHA', ''))}")
print(f"{base}-{config()}-{scope}-")
print(f"{base}-")
PY
then
  rm -f "$dir.key"
  echo "prr-lint: the cache is not used: its key could not be made"
  output use false
  exit 0
fi
{ read -r verdict; read -r key; read -r exact; read -r any; } < "$dir.key"
rm -f "$dir.key"
if [ "$verdict" != use ]; then
  echo "prr-lint: the cache is not used: $verdict"
  output use false
  exit 0
fi
mkdir -p "$dir"
output use true
output key "$key"
printf 'restore-keys<<PRR_LINT_KEYS\n%s\n%s\nPRR_LINT_KEYS\n' "$exact" "$any" >> "$github_output"
