"""Configuration: .prr-lint.yaml or [tool.prr-lint] in pyproject.toml, validated by schemas/config.schema.json."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .model import SEVERITIES, Path, Span
from .schemas import schema_errors, schema_message

if TYPE_CHECKING:
    from .config_verdicts import ConfigVerdicts

CONFIG_NAMES = (".prr-lint.yaml", ".prr-lint.yml")

# Where a policy's documents and bearer token go, and whether policies may reach the network, is never read from
# a config file: the config may be the checked repository's own (a pull request could send both elsewhere).
REMOTE_POLICY_KEYS = {
    "opa_url": "use --opa-url or the PRR_LINT_OPA_URL environment variable",
    "allow_net": "use --allow-net or PRR_LINT_ALLOW_NET=1",
    "token": "use the PRR_LINT_OPA_TOKEN environment variable",
    "opa_token": "use the PRR_LINT_OPA_TOKEN environment variable",
}
# Likewise the Prometheus the error-budget gate asks, and its credentials (the budget package reads them).
REMOTE_BUDGET_KEYS = {
    "prometheus_url": "use --prometheus-url or the PRR_PROMETHEUS_URL environment variable",
    "url": "use --prometheus-url or the PRR_PROMETHEUS_URL environment variable",
    "token": "use PRR_PROMETHEUS_TOKEN or PRR_PROMETHEUS_TOKEN_FILE",
    "password": "use PRR_PROMETHEUS_PASSWORD or PRR_PROMETHEUS_PASSWORD_FILE",
    "headers": "use the PRR_PROMETHEUS_HEADERS environment variable",
}

# The tier table of the design notes; every number can be overridden under `tiers:`.
DEFAULT_TIERS: dict[int, dict[str, Any]] = {
    0: {"min_objective": 99.95, "min_replicas": 3, "runbook_max_age_days": 180, "rollback_tested_within_days": 90,
        "dr_tested_within_days": 365, "multi_window_burn_rate": True, "rollback_automated": True},
    1: {"min_objective": 99.9, "min_replicas": 2, "runbook_max_age_days": 365, "rollback_tested_within_days": 180,
        "dr_tested_within_days": 365, "multi_window_burn_rate": True, "rollback_automated": False},
    2: {"min_objective": 99.0, "min_replicas": 2, "runbook_max_age_days": None, "rollback_tested_within_days": None,
        "dr_tested_within_days": None, "multi_window_burn_rate": False, "rollback_automated": False},
    3: {"min_objective": None, "min_replicas": 1, "runbook_max_age_days": None, "rollback_tested_within_days": None,
        "dr_tested_within_days": None, "multi_window_burn_rate": False, "rollback_automated": False},
}
# rule pack v2 (SVC034, SVC070, SVC071, SVC080): rollback time, capacity headroom, load test and review windows
READINESS_TIERS: dict[int, dict[str, Any]] = {
    0: {"rollback_max_duration": "15m", "min_capacity_headroom": 30, "load_test_within_days": 90,
        "review_within_days": 365},
    1: {"rollback_max_duration": "30m", "min_capacity_headroom": 20, "load_test_within_days": 180,
        "review_within_days": 365},
    2: {"rollback_max_duration": None, "min_capacity_headroom": None, "load_test_within_days": None,
        "review_within_days": None},
    3: {"rollback_max_duration": None, "min_capacity_headroom": None, "load_test_within_days": None,
        "review_within_days": None},
}
for _tier, _numbers in READINESS_TIERS.items():
    DEFAULT_TIERS[_tier].update(_numbers)
# which SLOs are availability SLOs (SVC061): an SLI `type` decides when declared, else the name matches a glob
DEFAULT_AVAILABILITY_SLOS: dict[str, list[str]] = {"types": ["availability"],
                                                   "names": ["availability", "*-availability", "availability-*",
                                                             "uptime"]}


@dataclass
class Config:
    path: str | None = None
    include: list = field(default_factory=list)
    exclude: list = field(default_factory=list)
    select: list = field(default_factory=list)
    ignore: list = field(default_factory=list)
    severity: dict = field(default_factory=dict)
    default_tier: int = 2
    tiers: dict = field(default_factory=lambda: {t: dict(v) for t, v in DEFAULT_TIERS.items()})
    runbook_hosts: list = field(default_factory=list)
    repo_url: str | None = None
    # `none`: alerts routed by name, never by severity (Watchdog, InfoInhibitor)
    alert_severities: list = field(default_factory=lambda: ["critical", "warning", "info", "none"])
    promql_dialect: str = "promql"    # or metricsql: VictoriaMetrics' functions are valid too
    extra_functions: list = field(default_factory=list)   # `name` or `name(vector, scalar, ...)`
    max_file_size: int = 5 * 1024 * 1024
    fail_on: str = "error"
    inline_waivers: bool = True
    waivers: str = ".prr-waivers.yaml"
    baseline: str | None = None
    cache: bool = True
    cache_dir: str | None = None      # honoured only when the command line or environment allows it
    rule_paths: list = field(default_factory=list)
    backstage_service_types: list = field(default_factory=lambda: ["service", "website"])
    policy: dict = field(default_factory=dict)
    availability_slos: dict = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_AVAILABILITY_SLOS.items()})
    error_budget: dict = field(default_factory=dict)
    kustomize_bin: str | None = None  # kustomize or kubectl; else the first of them on PATH

    def tier_policy(self, tier: int) -> dict:
        return self.tiers.get(tier, self.tiers[self.default_tier])


def find_config(start: str, stop: str) -> str | None:
    """The nearest config file from `start` up to `stop` (the repository root)."""
    probe = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start))
    stop = os.path.abspath(stop)
    while True:
        for name in CONFIG_NAMES:
            if os.path.isfile(os.path.join(probe, name)):
                return os.path.join(probe, name)
        pyproject = os.path.join(probe, "pyproject.toml")
        if os.path.isfile(pyproject) and _pyproject_section(pyproject) is not None:
            return pyproject
        parent = os.path.dirname(probe)
        if probe == stop or parent == probe:
            return None
        probe = parent


def _pyproject_section(path: str):
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh).get("tool", {}).get("prr-lint")
    except (OSError, tomllib.TOMLDecodeError):
        return None


SEVERITY_LEVELS = SEVERITIES + ("off",)


def _severity_levels(severity: dict, spans: dict, shown: str) -> dict:
    """`severity:` with YAML 1.1's `off` (read as false) taken as "off", and a clear message for a level that
    is not one: the schema's oneOf would only say "not valid under any of the given schemas"."""
    from .escape import one_line

    def level(value, where: tuple):
        if value is False:
            return "off"
        if isinstance(value, str) and value in SEVERITY_LEVELS:
            return value
        line = next((spans[where[:n]].line for n in range(len(where), 0, -1) if where[:n] in spans), 1)
        raise UsageError(f"{shown}:{line}: {'.'.join(map(str, where))}: unknown level '{one_line(value)}' "
                         f"(expected one of: {', '.join(SEVERITY_LEVELS)})")

    out = {}
    for key, value in severity.items():
        where = ("severity", key)
        if isinstance(value, dict):
            # tier keys as strings: YAML reads `{2: off}` with an int key the engine would never look up
            out[key] = {str(t): (level(v, where + (t,)) if not isinstance(v, dict) else v) for t, v in value.items()}
        else:
            out[key] = level(value, where)
    return out


def read_yaml_file(path: str, shown: str, unreadable: str, invalid: str) -> tuple[Any, dict]:
    """(data, spans) of the first document of a YAML file the user names (a config, an overrides file); a file
    that cannot be read or parsed is a usage error (exit 2) at its line."""
    from .escape import one_line
    from .loaders.errors import LoadError
    from .loaders.yamlread import load_yaml

    duplicates: list = []
    try:
        with open(path, encoding="utf-8") as fh:
            docs = load_yaml(fh.read(), duplicates)
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{shown}: {unreadable}: {getattr(e, 'strerror', None) or e}") from None
    except LoadError as e:
        raise UsageError(f"{shown}:{e.line}: {invalid}{e.message}") from None
    # a key written twice silently drops the first value (a `select:` the user thinks is in force)
    for dup in (duplicates[0] if duplicates else []):
        raise UsageError(f"{shown}:{dup['line']}: {invalid}{one_line(dup['key'])} is already set on line "
                         f"{dup['first']}; the first value would be ignored")
    return (docs[0][0], docs[0][1]) if docs else (None, {})


def load_config(path: str | None, verdicts: ConfigVerdicts | None = None) -> Config:
    """Read and validate a config file; any problem is a UsageError `file:line: message`. `verdicts`: configs
    validated before (config_verdicts.py), not validated again."""
    if path is None:
        return Config()
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    if path.endswith(".toml"):
        import tomllib

        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh).get("tool", {}).get("prr-lint", {})
        except tomllib.TOMLDecodeError as e:
            raise UsageError(f"{shown}: invalid TOML: {e}") from None
        spans: dict[Path, Span] = {}
    else:
        raw, spans = read_yaml_file(path, shown, "cannot read config", "")
        if raw is None:
            raw = {}
    policy = raw.get("policy") if isinstance(raw, dict) else None
    for key, instead in REMOTE_POLICY_KEYS.items():
        if isinstance(policy, dict) and key in policy:
            span = spans.get(("policy", key)) or spans.get(("policy",))
            line = span.line if span is not None else 1
            raise UsageError(f"{shown}:{line}: policy.{key} is not allowed in a config file (it may be the checked "
                             f"repository's): {instead}")
    budget = raw.get("error_budget") if isinstance(raw, dict) else None
    for key, instead in REMOTE_BUDGET_KEYS.items():
        if isinstance(budget, dict) and key in budget:
            span = spans.get(("error_budget", key)) or spans.get(("error_budget",))
            raise UsageError(f"{shown}:{span.line if span else 1}: error_budget.{key} is not allowed in a config "
                             f"file (it may be the checked repository's): {instead}")
    if isinstance(raw, dict) and isinstance(raw.get("severity"), dict):
        raw["severity"] = _severity_levels(raw["severity"], spans, shown)
    verdict = verdicts.key(raw) if verdicts is not None else None
    known_valid = verdict is not None and verdicts is not None and verdicts.valid(verdict)
    errors = [] if known_valid else schema_errors(raw, "config.schema.json")
    if errors:
        err = errors[0]
        path_t = tuple(err.absolute_path)
        line = next((spans[path_t[:n]].line for n in range(len(path_t), -1, -1) if path_t[:n] in spans), 1)
        raise UsageError(f"{shown}:{line}: {schema_message(err)}")
    for i, spec in enumerate(raw.get("extra_functions") or [] if isinstance(raw, dict) else []):
        from .checks.metricsql import SpecError, parse_spec

        try:
            parse_spec(spec)
        except SpecError as e:
            span = spans.get(("extra_functions", i)) or spans.get(("extra_functions",))
            raise UsageError(f"{shown}:{span.line if span else 1}: extra_functions: {e}") from None
    cfg = Config(path=path)
    for key, value in raw.items():
        if key == "tiers":
            for tier, numbers in value.items():
                cfg.tiers[int(tier)].update(numbers)
        elif key == "availability_slos":
            cfg.availability_slos.update(value)      # `names:` alone keeps the default `types:`
        else:
            setattr(cfg, key, value)
    if verdicts is not None and verdict is not None and not known_valid and cfg.cache:
        verdicts.add(verdict)
    return cfg
