"""The policy feature: `--policy DIR` and friends on check/gate/baseline, `policy:` in config, `prr-lint policy
test`, and the policies' rules in `prr-lint rules`."""

from __future__ import annotations

import os

from ..cli import seconds
from ..errors import UsageError
from ..escape import one_line
from . import runtime_for
from .errors import PolicyError


def add_arguments(parser) -> None:
    g = parser.add_argument_group("policies (Rego)")
    g.add_argument("--policy", action="append", default=[], metavar="DIR",
                   help="Rego policy file or directory (repeatable); rule directories with policy.rego or "
                        "conftest-style .rego files")
    g.add_argument("--namespace", action="append", default=[], metavar="PACKAGE",
                   help="evaluate deny/violation/warn of this package (repeatable; default: main)")
    g.add_argument("--all-namespaces", action="store_true", help="evaluate every package of the policies")
    g.add_argument("--opa-url", metavar="URL",
                   help="evaluate on this OPA server instead of embedded (or PRR_LINT_OPA_URL; never from a config "
                        "file); PRR_LINT_OPA_TOKEN is sent as its bearer token")
    g.add_argument("--opa-no-push", action="store_true",
                   help="do not push the policies: use the ones the OPA server already has (its bundle)")
    g.add_argument("--allow-net", action="store_true",
                   help="allow network built-ins (http.send, net.lookup_ip_addr) on an OPA server "
                        "(or PRR_LINT_ALLOW_NET=1)")
    g.add_argument("--policy-timeout", type=seconds, metavar="SECONDS",
                   help="stop a policy evaluation that takes longer than this per document, or an OPA server request "
                        "(default: 10)")
    g.add_argument("--policy-budget", type=seconds, metavar="SECONDS",
                   help="total time for embedded policy evaluation in a run; documents left when it is spent are not "
                        "evaluated, exit 2 (default: 60)")
    g.add_argument("--opa-timeout", type=seconds, metavar="SECONDS",
                   help="deadline for all the requests of a run to the OPA server together (default: 30)")


def _config_paths(config) -> list[str]:
    paths = (config.policy or {}).get("paths") or []
    base = os.path.dirname(os.path.abspath(config.path)) if config.path else os.getcwd()
    out = []
    for p in paths:
        full = p if os.path.isabs(p) else os.path.join(base, p)
        out.append(os.path.relpath(full) if not os.path.relpath(full).startswith("..") else full)
    return out


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise UsageError(f"{name}: expected 1/true/yes or 0/false/no, not {one_line(value)}")


def configure(args, options) -> None:
    paths = _config_paths(options.config) + list(getattr(args, "policy", None) or [])
    if not paths and not options.config.policy:
        return      # no policy to run: the evaluators are not imported (start-up of every run)
    runtime = runtime_for(options)
    s = runtime.settings
    if getattr(args, "namespace", None):
        s.namespaces = [n.strip() for item in args.namespace for n in item.split(",") if n.strip()]
    if getattr(args, "all_namespaces", False):
        s.all_namespaces = True
    # the server, its token and network access: from the command line or the environment (the CI job), which a
    # pull request does not control; the config file may be the repository's own
    s.opa_url = getattr(args, "opa_url", None) or os.environ.get("PRR_LINT_OPA_URL") or None
    s.token = os.environ.get("PRR_LINT_OPA_TOKEN") or None
    s.allow_net = bool(getattr(args, "allow_net", False)) or _env_flag("PRR_LINT_ALLOW_NET")
    if getattr(args, "opa_no_push", False):
        s.opa_push = False
    if getattr(args, "policy_timeout", None):
        s.timeout = args.policy_timeout
    if getattr(args, "policy_budget", None):
        s.budget = args.policy_budget
    if getattr(args, "opa_timeout", None):
        s.opa_deadline = args.opa_timeout
    if not paths:
        return
    if s.opa_url and s.opa_push and not options.trust_repo_rules:
        _refuse_pushing_repository_policies(paths, options.root)
    try:
        for p in paths:
            options.extra_rules.extend(runtime.load_tree(p))
        runtime.prepare()
    except PolicyError as e:
        raise UsageError(str(e)) from None


def _refuse_pushing_repository_policies(paths: list[str], root: str) -> None:
    """A push outlives the run and shares the server's packages with everyone using it: policies a pull request
    can change (they live in the checked repository) are pushed only where the repository is trusted."""
    from ..discover import inside

    for p in paths:
        if inside(root, p):
            raise UsageError(
                f"{one_line(p)}: policies inside the checked repository are not pushed to the OPA server (a pull "
                "request could replace policies the server serves to others): pass --trust-repo-rules where the "
                "repository is trusted, --opa-no-push to use the server's own policies, or evaluate embedded "
                "(no --opa-url)")


def extra_rules(config) -> list:
    paths = _config_paths(config)
    if not paths:
        return []
    runtime = runtime_for(config)
    out = []
    for p in paths:
        out.extend(runtime.load_tree(p))
    return out


def add_commands(sub) -> None:
    policy = sub.add_parser("policy", help="work with Rego policies")
    psub = policy.add_subparsers(dest="policy_command", parser_class=type(policy))
    test = psub.add_parser("test", help="run the policies' own unit tests (test_* rules in *_test.rego)")
    test.add_argument("paths", nargs="+", metavar="DIR", help="policy files or directories")
    test.add_argument("--run", metavar="REGEX", help="only tests whose data.<package>.<name> matches")
    test.add_argument("--policy-timeout", type=seconds, default=10.0, metavar="SECONDS",
                      help="stop a test that takes longer than this (default: 10)")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    test.set_defaults(handler=cmd_policy_test)
    policy.set_defaults(handler=lambda args: _missing(policy))


def _missing(parser) -> int:
    raise UsageError("policy: choose a sub-command: test")


def cmd_policy_test(args) -> int:
    import re

    from .testing import run_tests

    if args.run:
        try:
            re.compile(args.run)
        except re.error as e:
            raise UsageError(f"--run {args.run}: invalid regular expression: {e}") from None
    return run_tests(args.paths, timeout=args.policy_timeout, pattern=args.run, verbose=args.verbose)
