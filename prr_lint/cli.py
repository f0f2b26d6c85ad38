"""Command line: argument parsing only. main(argv) -> exit code."""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import sys
import time
from collections.abc import Callable

from . import __version__, prestart
from .errors import UsageError
from .escape import json_text, multi_line, one_line
from .model import SEVERITIES

STARTED = time.perf_counter()       # --timing counts start-up from here (the interpreter's own start is not seen)
FAIL_ON = SEVERITIES + ("never",)
RUN_COMMANDS = ("check", "report", "gate", "baseline")     # commands that list the repository's files


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UsageError(message)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds (timeouts, deadlines)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def write_report(output: str | None, text: str) -> None:
    """A report to the `-o` file, else stdout; a file that cannot be written is a usage error (exit 2)."""
    stream_report(output, lambda out: out(text))


def stream_report(output: str | None, produce: Callable[[Callable[[str], object]], object]) -> None:
    """write_report of a report that `produce` passes to its argument in parts."""
    if not output:
        produce(sys.stdout.write)
        return
    try:
        fh = open(output, "w", encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{output}: cannot write report: {e.strerror}") from None

    def write(part: str) -> None:
        try:
            fh.write(part)
        except OSError as e:
            raise UsageError(f"{output}: cannot write report: {e.strerror}") from None

    try:
        produce(write)
    finally:
        try:
            fh.close()
        except OSError as e:
            raise UsageError(f"{output}: cannot write report: {e.strerror}") from None


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs the rules (check, gate, baseline)."""
    p.add_argument("paths", nargs="*", default=["."], help="files or directories to check (default: .)")
    p.add_argument("-c", "--config", help="config file (default: nearest .prr-lint.yaml or pyproject.toml)")
    p.add_argument("--select", action="append", default=[], metavar="RULE",
                   help="only these rule ids, names, tags or areas (repeatable, comma-separated)")
    p.add_argument("--ignore", action="append", default=[], metavar="RULE", help="skip these rules (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the parse cache")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="parse cache directory (default: $PRR_LINT_CACHE_DIR, else the user's cache directory)")
    p.add_argument("--allow-config-cache-dir", action="store_true",
                   help="honour `cache_dir:` from the config file (also PRR_LINT_ALLOW_CONFIG_CACHE_DIR=1)")
    p.add_argument("--today", type=_date, help="evaluate dates (staleness, expiry) as of this day")
    p.add_argument("--shard", metavar="K/N",
                   help="check part K of N of the repository (deterministic by path; `prr-lint merge` joins the "
                        "reports of the N jobs)")
    _trust_argument(p)
    for feature in _features():
        if hasattr(feature, "add_arguments"):
            feature.add_arguments(p)


def _trust_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-repo-rules", action="store_true",
                   help="load Python rule packs that live inside the checked repository (they run as code) and "
                        "push its Rego policies to an --opa-url server; never on untrusted pull requests. "
                        "Also PRR_LINT_TRUST_REPO_RULES=1")


def _trusts_repo_rules(args) -> bool:
    return bool(getattr(args, "trust_repo_rules", False)) or os.environ.get("PRR_LINT_TRUST_REPO_RULES") == "1"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="prr-lint", description="Production-readiness review linter for CI.")
    parser.add_argument("--version", action="version", version=f"prr-lint {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="check a repository and report findings")
    add_run_arguments(check)
    check.add_argument("-f", "--format", default="text",
                       choices=("text", "json", "sarif", "github", "markdown", "junit", "gitlab"))
    check.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    check.add_argument("--fail-on", choices=FAIL_ON, help="lowest severity that fails the run (default: error)")
    check.add_argument("--category", help="SARIF automationDetails category (one per analysis in code scanning)")
    check.add_argument("--link-base", metavar="URL",
                       help="markdown: link locations to URL/FILE#LLINE (e.g. https://github.com/OWNER/REPO/blob/SHA)")
    check.add_argument("--show-suppressed", action="store_true", help="list suppressed findings in text output")
    check.add_argument("-v", "--verbose", action="store_true", help="also print notices (skipped files)")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    check.add_argument("--timing", action="store_true",
                       help="print where the run's time went (stages, slowest rules) to stderr; also PRR_LINT_TIMING=1")

    rules = sub.add_parser("rules", help="list rules, or show one rule's page")
    rules.add_argument("rule", nargs="?", help="rule id or name")
    rules.add_argument("-c", "--config", help="config file (for user rule packs)")
    _trust_argument(rules)
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    for feature in _features():
        if hasattr(feature, "add_commands"):
            feature.add_commands(sub)
    return parser


def _features() -> list:
    """Optional capabilities that add options and post-processing (waivers, baseline, diff, policies)."""
    from . import features

    return features.load()


def _split(values: list) -> list:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def make_options(args):
    """Config + command-line arguments -> engine Options."""
    from .config import find_config, load_config
    from .engine import Options, Shard, find_root

    root = find_root(args.paths)
    if args.config and not os.path.isfile(args.config):
        raise UsageError(f"{args.config}: config file not found")
    config = load_config(args.config or find_config(args.paths[0] if args.paths else ".", root),
                         _config_verdicts(args, root))
    options = Options(paths=args.paths, config=config, root=root, select=_split(args.select),
                      ignore=_split(args.ignore), today=args.today or _today_from_env(), use_cache=not args.no_cache,
                      trust_repo_rules=_trusts_repo_rules(args),
                      shard=Shard.parse(args.shard) if getattr(args, "shard", None) else None)
    options.cache_home, options.cache_dir, options.notices = _cache_settings(args, config, root)
    options.parse_workers = _count_from_env("PRR_LINT_PARSE_WORKERS", None)
    options.parse_pool_min = _count_from_env("PRR_LINT_PARSE_POOL_MIN", options.parse_pool_min)
    for feature in _features():
        if hasattr(feature, "configure"):
            feature.configure(args, options)
    return options


def _count_from_env(name: str, default: int | None) -> int | None:
    """A count from the environment (parse workers, files from which to start them), else `default`."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit():
        raise UsageError(f"{name}: not a whole number: {value}")
    return int(value)


def _today_from_env() -> datetime.date | None:
    """PRR_LINT_TODAY=YYYY-MM-DD pins "today" (staleness, expiry) for reproducible runs, like --today."""
    value = os.environ.get("PRR_LINT_TODAY")
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"PRR_LINT_TODAY: not a date (YYYY-MM-DD): {value}") from None


def _cache_home() -> str:
    """The user's cache directory ("" when there is none): XDG_CACHE_HOME, else ~/.cache."""
    home = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(home):   # the XDG spec: a relative value is ignored
        home = os.path.expanduser("~")
        home = os.path.join(home, ".cache") if os.path.isabs(home) else ""
    return home


def _config_verdicts(args, root: str):
    """Configs validated by earlier runs (not with --no-cache): a config read again is not validated again."""
    if args.no_cache:
        return None
    from .config_verdicts import ConfigVerdicts

    return ConfigVerdicts.open(_cache_home(), root)


def _cache_settings(args, config, root: str) -> tuple:
    """(user cache directory, cache directory or None, notices): the environment is read here, not in the engine.
    A config file lives in the checked repository, so its `cache_dir` is only honoured when allowed."""
    env = os.environ
    home = _cache_home()
    notices = []
    directory = args.cache_dir or env.get("PRR_LINT_CACHE_DIR") or None
    if config.cache_dir and not directory:
        allowed = env.get("PRR_LINT_ALLOW_CONFIG_CACHE_DIR", "").lower() in ("1", "true", "yes")
        if args.allow_config_cache_dir or allowed:
            directory = os.path.join(os.path.dirname(os.path.abspath(config.path or ".")), config.cache_dir)
        else:
            shown = os.path.relpath(config.path, root) if config.path else "config"
            notices.append((shown.replace(os.sep, "/"), "cache_dir is ignored: a repository does not choose where "
                            "the parse cache lives (allow it with --allow-config-cache-dir)"))
    return home or None, os.path.abspath(directory) if directory else None, notices


def replay_environment() -> dict[str, str] | None:
    """What of the environment a replayed result depends on (replay.py), or None: PRR_LINT_NO_REPLAY=1."""
    if os.environ.get("PRR_LINT_NO_REPLAY", "").lower() in ("1", "true", "yes"):
        return None
    from .replay import ENV_PREFIXES

    # PRR_LINT_TIMING measures a run and changes nothing it finds
    return {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES) and k != "PRR_LINT_TIMING"}


def run_to_report(args):
    """(options, result) of the run a command reports on (check, report): replayed when nothing changed. The
    run's objects live until exit: frozen, the reporter's allocations no longer make the collector walk them
    again (most of a large report's time)."""
    from .engine import run

    options = make_options(args)
    if getattr(args, "timing", False) or os.environ.get("PRR_LINT_TIMING") == "1":
        from .timing import Timing

        options.timing = Timing(STARTED)
    options.replay = replay_environment()
    options.keep_documents = False      # reported from the result alone, as a replayed run is
    result = run(options)
    gc.freeze()
    return options, result


def cmd_check(args) -> int:
    from .engine import exit_code
    from .reporters import write
    from .timing import timed

    options, result = run_to_report(args)
    fail_on = args.fail_on or options.config.fail_on
    color = args.color == "always" or (args.color == "auto" and not args.output and sys.stdout.isatty()
                                        and "NO_COLOR" not in os.environ)
    timing = options.timing
    with timed(timing, "report"):
        stream_report(args.output, lambda out: write(args.format, result, out, color=color, category=args.category,
                                                     link_base=args.link_base, show_suppressed=args.show_suppressed,
                                                     verbose=args.verbose))
    if timing is not None:
        sys.stderr.write("".join(line + "\n" for line in timing.lines()))
    for message in result.errors:
        print(f"prr-lint: error: {one_line(message)}", file=sys.stderr)
    empty = [p for p in args.paths if os.path.isdir(p)] if result.files_read == 0 else []
    if empty:
        # a directory with nothing prr-lint reads is a wrong path or an exclude that hides everything: a CI job
        # must not pass on it (a file given by pre-commit that prr-lint does not read is fine)
        print(f"prr-lint: error: nothing checked: no file prr-lint reads in {one_line(' '.join(empty))} "
              "(see README, \"How prr-lint reads a repository\")", file=sys.stderr)
        return 2
    return exit_code(result, fail_on)


def cmd_rules(args) -> int:
    import json

    from .config import find_config, load_config
    from .docs import rule_page, rules_table
    from .registry import load_rules

    config = load_config(args.config or find_config(".", os.getcwd()))
    from .engine import find_root
    from .policy import policy_loader

    untrusted = None if _trusts_repo_rules(args) else find_root(["."])
    rules = load_rules(config.rule_paths, policy_loader=policy_loader(config), untrusted_root=untrusted) \
        + _feature_rules(config)
    if args.rule:
        match = [r for r in rules if args.rule in (r.id, r.name) or args.rule.upper() == r.id]
        if not match:
            raise UsageError(f"no rule {args.rule!r} (see `prr-lint rules`)")
        # a user rule's page (metadata, fixtures) comes from the repository: no line may become a CI command
        sys.stdout.write(multi_line(rule_page(match[0])))
        return 0
    if args.format == "json":
        out = [{"id": r.id, "name": r.name, "summary": r.summary, "targets": r.targets, "tags": r.tags,
                "severity": {str(t): r.severity.get(t) or "off" for t in range(4)}, "since": r.since,
                "origin": r.origin} for r in rules]
        sys.stdout.write(json_text(json.dumps(out, indent=2)) + "\n")
    else:
        sys.stdout.write(rules_table(rules, markdown=args.format == "markdown"))
    return 0


def _feature_rules(config) -> list:
    out = []
    for feature in _features():
        if hasattr(feature, "extra_rules"):
            out.extend(feature.extra_rules(config))
    return out


def _start_listing(args) -> None:
    """Commands that run the rules list the repository's files: git starts now and walks the work tree on another
    core while the run imports its modules and reads its caches (prestart.py). Its root is find_root's."""
    if args.command not in RUN_COMMANDS or getattr(args, "from_report", None):
        return
    from .discover import git_toplevel

    top = git_toplevel(args.paths[0] if args.paths else ".")
    if top is not None and os.path.isdir(os.path.join(top, ".git")):
        prestart.start(top)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        _start_listing(args)
        handler = {"check": cmd_check, "rules": cmd_rules}.get(args.command) or args.handler
        code = handler(args)
        sys.stdout.flush()  # a reader that went away must show up here, not at interpreter exit
        return code
    except UsageError as e:
        # messages embed file names and YAML values from the repository: one line, whatever they hold
        print(f"prr-lint: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the report never reached its reader (`prr-lint gate . | head` under pipefail): never a pass.
        # Point stdout at /dev/null so the unflushed rest does not fail again at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 2
    except Exception as e:  # last line of defence: one line, exit 2, never a traceback
        if os.environ.get("PRR_LINT_DEBUG"):
            raise
        print(f"prr-lint: internal error: {type(e).__name__}: {one_line(e)} (set PRR_LINT_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 2
    finally:
        from .policy import close_runtimes

        close_runtimes()  # no policy worker process outlives the command
        prestart.stop()   # nor a git listing that no run took


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
