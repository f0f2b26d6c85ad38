"""Terraform module calls end to end, through the real console script on module trees in tmp_path: a value a
call passes is judged in the module's resources and reported at the call's argument; a module's own default
at the module; registry sources and cycles give nothing that cannot be known."""

import json
import os
import time

import pytest

from prr_lint.checks.tfexpr import UNKNOWN, evaluate
from prr_lint.checks.tfmodules import MAX_INSTANCES

from conftest import git, run_cli, write

DB_MODULE = """\
variable "identifier" {
  type = string
}

variable "backup_retention_period" {
  type    = number
  default = 1
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "replicate_source_db" {
  type    = string
  default = null
}

resource "aws_db_instance" "this" {
  identifier              = var.identifier
  replicate_source_db     = var.replicate_source_db
  backup_retention_period = var.backup_retention_period
  deletion_protection     = var.deletion_protection
}
"""
# line of `backup_retention_period = var.backup_retention_period` in DB_MODULE
MODULE_RETENTION_LINE = DB_MODULE.splitlines().index("  backup_retention_period = var.backup_retention_period") + 1


def check(root, select="TF001,TF002", fmt="json"):
    proc = run_cli("check", "--no-cache", "--format", fmt, "--select", select, str(root))
    assert proc.returncode in (0, 1), proc.stderr
    if fmt != "json":
        return proc
    return {(f["rule"], f["file"], f["line"], f["message"]) for f in json.loads(proc.stdout)["findings"]}


def test_a_value_the_call_passes_is_reported_at_the_calls_argument(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "db" {\n  source = "./modules/db"\n\n  identifier = "orders"\n'
                   '  backup_retention_period = 0\n  deletion_protection = false\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    assert check(tmp_path) == {
        ("TF001", "main.tf", 5, "module.db → aws_db_instance.this: backup_retention_period = 0 (from "
                                "var.backup_retention_period) disables automated backups; set it to 7 or more"),
        ("TF002", "main.tf", 6, "module.db → aws_db_instance.this: deletion_protection = false (from "
                                "var.deletion_protection) lets Terraform destroy it; set it to true or add "
                                "lifecycle { prevent_destroy = true }"),
    }
    text = check(tmp_path, fmt="text").stdout
    assert "main.tf:5:3  warning  TF001  module.db → aws_db_instance.this: backup_retention_period = 0" in text


def test_the_modules_own_default_is_reported_in_the_module(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "db" {\n  source     = "./modules/db"\n  identifier = "orders"\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    assert check(tmp_path) == {
        ("TF001", "modules/db/main.tf", MODULE_RETENTION_LINE,
         "module.db → aws_db_instance.this: backup_retention_period = 1 (from var.backup_retention_period) "
         "keeps backups for only 1 day; set it to 7 or more"),
    }


def test_a_module_called_twice_is_checked_once_per_call_and_not_on_its_own(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "orders" {\n  source = "./modules/db"\n  identifier = "orders"\n'
                   '  backup_retention_period = 3\n}\n\n'
                   'module "ledger" {\n  source = "./modules/db"\n  identifier = "ledger"\n'
                   '  backup_retention_period = 35\n}\n\n'
                   'module "reports" {\n  source = "./modules/db"\n  identifier = "reports"\n'
                   '  backup_retention_period = 2\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    found = check(tmp_path, select="TF001")
    # ledger passes 35 days: the module's 1-day default, never deployed, is not reported
    assert {(f[1], f[2]) for f in found} == {("main.tf", 4), ("main.tf", 16)}
    assert {f[3].split(":")[0] for f in found} == {"module.orders → aws_db_instance.this",
                                                    "module.reports → aws_db_instance.this"}


def test_a_null_default_is_null_so_the_database_is_no_read_replica(tmp_path):
    # terraform-aws-rds's shape: before, `replicate_source_db = var.replicate_source_db` (default null)
    # made every instance look like a read replica and TF001/TF002 never fired
    write(tmp_path, {"main.tf": """\
variable "replicate_source_db" {
  type    = string
  default = null
}

variable "backup_retention_period" {
  type    = number
  default = null
}

resource "aws_db_instance" "this" {
  identifier              = "orders"
  replicate_source_db     = var.replicate_source_db
  backup_retention_period = var.backup_retention_period
  deletion_protection     = false
}
"""})
    assert check(tmp_path) == {
        ("TF001", "main.tf", 14, "aws_db_instance.this: backup_retention_period = null (from "
                                 "var.backup_retention_period); set it to 7 days or more"),
        ("TF002", "main.tf", 15, "aws_db_instance.this: deletion_protection = false lets Terraform destroy it; "
                                 "set it to true or add lifecycle { prevent_destroy = true }"),
    }


def test_a_replica_named_through_a_call_is_exempt(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "replica" {\n  source = "./modules/db"\n  identifier = "orders-ro"\n'
                   '  replicate_source_db = "orders"\n  backup_retention_period = 0\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    assert check(tmp_path) == set()


def test_locals_and_conditionals_on_known_values_are_resolved(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "db" {\n  source = "./modules/db"\n  environment = "prod"\n}\n\n'
                   'module "dev_db" {\n  source = "./modules/db"\n  environment = "dev"\n}\n',
        "modules/db/main.tf": """\
variable "environment" {
  type = string
}

variable "create" {
  type    = bool
  default = true
}

locals {
  is_prod   = var.environment == "prod"
  retention = local.is_prod ? 14 : 1
  create    = var.create && !local.is_prod || local.is_prod
}

resource "aws_db_instance" "this" {
  count                   = local.create ? 1 : 0
  identifier              = "db-${var.environment}"
  backup_retention_period = local.retention
  deletion_protection     = local.is_prod
}
""",
    })
    # prod: 14 days, protected; dev: 1 day, unprotected, both caused by the `environment` the call passed
    assert {(f[0], f[1], f[2]) for f in check(tmp_path)} == {("TF001", "main.tf", 8), ("TF002", "main.tf", 8)}


def test_a_null_argument_is_null_unless_the_variable_is_not_nullable(tmp_path):
    module = DB_MODULE.replace('  default = 1\n}', '  default = 1\n  nullable = false\n}')
    write(tmp_path, {
        "main.tf": 'module "db" {\n  source = "./modules/db"\n  identifier = "orders"\n'
                   '  backup_retention_period = null\n  deletion_protection = null\n}\n',
        "modules/db/main.tf": module,
    })
    assert {(f[0], f[1], f[2]) for f in check(tmp_path)} == {
        ("TF001", "modules/db/main.tf", MODULE_RETENTION_LINE + 1),   # the default (1 day) applies
        ("TF002", "main.tf", 5),                                      # null: not protected
    }


def test_count_zero_and_unknown_values_give_no_finding(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "off" {\n  source = "./modules/db"\n  count = 0\n  identifier = "x"\n'
                   '  backup_retention_period = 0\n}\n\n'
                   'module "computed" {\n  source = "./modules/db"\n  identifier = "y"\n'
                   '  backup_retention_period = max(var.days, 1)\n  deletion_protection = var.protect\n}\n\n'
                   'variable "days" {\n  type = number\n}\n\nvariable "protect" {\n  type = bool\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    assert check(tmp_path) == set()


def test_nested_calls_report_at_the_outermost_argument(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "orders" {\n  source = "./modules/service"\n  name = "orders"\n  retention = 2\n}\n',
        "modules/service/main.tf": 'variable "name" {\n  type = string\n}\n\nvariable "retention" {\n'
                                   '  type = number\n  default = 30\n}\n\nmodule "db" {\n  source = "../db"\n'
                                   '  identifier = var.name\n  backup_retention_period = var.retention\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    assert check(tmp_path, select="TF001") == {
        ("TF001", "main.tf", 4, "module.orders → module.db → aws_db_instance.this: backup_retention_period = 2 "
                                "(from var.backup_retention_period) keeps backups for only 2 days; set it to 7 or "
                                "more"),
    }


def test_a_value_from_the_callers_own_default_is_reported_at_the_argument_passing_it(tmp_path):
    write(tmp_path, {
        "main.tf": 'variable "days" {\n  type = number\n  default = 3\n}\n\n'
                   'module "db" {\n  source = "./modules/db"\n  identifier = "orders"\n'
                   '  backup_retention_period = var.days\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    assert {(f[1], f[2]) for f in check(tmp_path, select="TF001")} == {("main.tf", 9)}


def test_registry_and_git_sources_are_not_fetched_and_give_nothing(tmp_path):
    write(tmp_path, {"main.tf": """\
module "rds" {
  source  = "terraform-aws-modules/rds/aws"
  version = "6.10.0"

  backup_retention_period = 0
  deletion_protection     = false
}

module "git" {
  source = "git::https://example.com/modules.git//db?ref=v1"

  backup_retention_period = 0
}

module "outside" {
  source = "../../elsewhere"

  backup_retention_period = 0
}
"""})
    proc = run_cli("check", "--no-cache", "--format", "json", "--select", "TF", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["findings"] == []


def test_module_cycles_end_and_their_modules_are_still_checked(tmp_path):
    # a ↔ b and a module calling itself: invalid for Terraform, so never followed; with no root above them
    # they are checked as roots, each once
    write(tmp_path, {
        "a/main.tf": 'module "b" {\n  source = "../b"\n}\n\nresource "aws_db_instance" "a" {\n'
                     '  backup_retention_period = 0\n  deletion_protection = true\n}\n',
        "b/main.tf": 'module "a" {\n  source = "../a"\n}\n\nresource "aws_db_instance" "b" {\n'
                     '  backup_retention_period = 1\n  deletion_protection = true\n}\n',
        "self/main.tf": 'module "me" {\n  source = "./"\n}\n\nresource "aws_db_instance" "s" {\n'
                        '  backup_retention_period = 2\n  deletion_protection = true\n}\n',
    })
    started = time.monotonic()
    found = check(tmp_path, select="TF001")
    assert time.monotonic() - started < 60
    assert sorted((f[1], f[2], f[3].split(":")[0]) for f in found) == [
        ("a/main.tf", 6, "aws_db_instance.a"),
        ("b/main.tf", 6, "aws_db_instance.b"),
        ("self/main.tf", 6, "aws_db_instance.s"),
    ]


@pytest.mark.parametrize("levels", [10, 4])
def test_deep_or_wide_module_calls_are_bounded_and_say_so(tmp_path, levels):
    # modules each calling the next one ten times: 10^levels instances if nothing stopped it; ten levels
    # pass the depth limit, four the limit on instances
    files = {"main.tf": "".join(f'module "m{i}" {{\n  source = "./l1"\n}}\n' for i in range(10))}
    for level in range(1, levels):
        files[f"l{level}/main.tf"] = "".join(f'module "m{i}" {{\n  source = "../l{level + 1}"\n}}\n'
                                             for i in range(10))
    files[f"l{levels}/main.tf"] = 'resource "aws_db_instance" "x" {\n  backup_retention_period = 0\n}\n'
    write(tmp_path, files)
    started = time.monotonic()
    proc = run_cli("check", "--no-cache", "--format", "json", "--select", "TF001", str(tmp_path))
    assert time.monotonic() - started < 60
    report = json.loads(proc.stdout)
    assert len(report["findings"]) <= MAX_INSTANCES
    assert {"file": "main.tf", "message": "module calls nested deeper than 8 levels, or past 2000 module "
                                          "instances, were not followed: the resources of those instances "
                                          "are not checked"} in report["notices"]


def test_tfvars_beside_a_root_make_its_variables_unknown(tmp_path):
    write(tmp_path, {
        "main.tf": 'variable "days" {\n  type = number\n  default = 1\n}\n\n'
                   'module "db" {\n  source = "./modules/db"\n  identifier = "orders"\n'
                   '  backup_retention_period = var.days\n}\n',
        "terraform.tfvars": "days = 14\n",
        "modules/db/main.tf": DB_MODULE,
    })
    assert check(tmp_path, select="TF001") == set()


def test_only_listed_tfvars_count_and_a_warm_run_sees_their_edits(tmp_path):
    """A git-ignored var file is not in CI's checkout: it changes nothing here either. A listed one is an input
    of the run like any file: editing it is never answered from the last run's result."""
    root = tmp_path / "repo"
    write(root, {
        "main.tf": 'variable "days" {\n  type = number\n  default = 1\n}\n\n'
                   'module "db" {\n  source = "./modules/db"\n  identifier = "orders"\n'
                   '  backup_retention_period = var.days\n}\n',
        "secret.tfvars": "days = 14\n",
        ".gitignore": "secret.tfvars\n",
        "modules/db/main.tf": DB_MODULE,
    })
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "x")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PRR_LINT_CACHE_DIR": ""}

    def cached_check():
        proc = run_cli("check", "--format", "json", "--select", "TF001", str(root), env=env)
        assert proc.returncode in (0, 1), proc.stderr
        return {(f["rule"], f["file"], f["line"]) for f in json.loads(proc.stdout)["findings"]}

    reported = {("TF001", "main.tf", 9)}
    assert cached_check() == reported               # the ignored file sets `days`: not seen
    assert cached_check() == reported               # replayed
    (root / "terraform.tfvars").write_text("days = 14\n")        # listed (untracked, not ignored)
    assert cached_check() == set()
    (root / "terraform.tfvars").write_text("other = 1\n")
    assert cached_check() == reported


@pytest.mark.parametrize("text,want", [
    ('var.a ? 1 : 0', 1),
    ('var.a ? "x" : coalesce(var.b, 2)', "x"),   # only the chosen branch is evaluated
    ('!var.f ? var.b : 0', 2),
    ('var.a && var.missing', UNKNOWN),
    ('var.f && var.missing', False),
    ('var.f || var.missing', UNKNOWN),
    ('var.n != null ? var.n : 7', 7),
    ('var.n == null', True),
    ('(var.a)', True),
    ('"1" == 1', False),
    ('var.a ? local.x.y : 0', UNKNOWN),
    ('var.b + 1', UNKNOWN),
    ('upper("x")', UNKNOWN),
    ('"${var.b}-x"', UNKNOWN),
    ('var.a ?', UNKNOWN),
    ("(" * 5000 + "1" + ")" * 5000, UNKNOWN),    # longer than any real expression
    ("(" * 1000 + "1" + ")" * 1000, UNKNOWN),    # nested deeper than any real expression
    ("(" * 20 + "1" + ")" * 20, 1),
    ("!" * 3000 + "true", UNKNOWN),
    ("var.a ? " * 500 + "1" + " : 0" * 500, UNKNOWN),
])
def test_expression_evaluation(text, want):
    values = {"var.a": True, "var.f": False, "var.b": 2, "var.n": None}
    value, _ = evaluate(text, lambda key: (values.get(key, UNKNOWN), None))
    assert value is want if isinstance(want, bool) or want is UNKNOWN else value == want


def test_a_conditional_keeps_the_origin_of_what_decided_it():
    origins = {"var.env": ("env", "call"), "var.days": ("days", "call")}
    values = {"var.env": "prod", "var.days": 3}

    def lookup(key):
        return values.get(key, UNKNOWN), origins.get(key)

    assert evaluate('var.env == "prod" ? 14 : 1', lookup) == (14, ("env", "call"))
    assert evaluate('var.env == "prod" ? var.days : 1', lookup) == (3, ("days", "call"))
    assert evaluate("7", lookup) == (7, None)


def test_a_run_scoped_to_a_module_or_to_its_caller_judges_the_call_whole(tmp_path):
    write(tmp_path, {
        "services/orders/main.tf": 'module "db" {\n  source = "../../modules/db"\n  identifier = "orders"\n'
                                   '  deletion_protection = false\n}\n',
        "modules/db/main.tf": DB_MODULE,
    })
    both = {("TF001", "modules/db/main.tf", MODULE_RETENTION_LINE), ("TF002", "services/orders/main.tf", 4)}
    for scope in ("modules/db", "services/orders", "services/orders/main.tf", "."):
        proc = run_cli("check", "--no-cache", "--format", "json", "--select", "TF001,TF002", scope, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr   # warnings at the default tier
        assert {(f["rule"], f["file"], f["line"]) for f in json.loads(proc.stdout)["findings"]} == both, scope


def test_long_or_circular_chains_of_locals_are_unknown_not_a_crash(tmp_path):
    chain = "".join(f"  l{i} = local.l{i + 1}\n" for i in range(3000))
    write(tmp_path, {"main.tf": f"locals {{\n{chain}  l3000 = 0\n  a = local.b\n  b = local.a\n}}\n\n"
                                'resource "aws_db_instance" "x" {\n  backup_retention_period = local.l0\n'
                                '  deletion_protection = local.a\n}\n\n'
                                'resource "aws_db_instance" "y" {\n  backup_retention_period = local.l2990\n'
                                '  deletion_protection = true\n}\n'})
    # l2990 is ten locals from its literal: known; l0 and the a/b cycle are not
    assert {(f[0], f[2]) for f in check(tmp_path, select="TF001,TF002,PRR007")} == {("TF001", 3013)}


def _calls(fn) -> int:
    """Python function calls made by fn(): work, not time, so a loaded machine gives the same answer."""
    import sys

    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def test_work_grows_linearly_with_the_number_of_module_calls(tmp_path):
    from prr_lint.config import Config
    from prr_lint.engine import Options, run

    def work(n: int) -> int:
        root = tmp_path / str(n)
        files = {"modules/db/main.tf": DB_MODULE, "modules/service/main.tf":
                 'variable "name" {\n  type = string\n}\n\nvariable "days" {\n  type = number\n}\n\n'
                 'module "db" {\n  source = "../db"\n  identifier = var.name\n'
                 '  backup_retention_period = var.days\n}\n'}
        for i in range(n):
            files[f"services/s{i}/main.tf"] = (f'module "svc" {{\n  source = "../../modules/service"\n'
                                               f'  name = "s{i}"\n  days = 2\n}}\n')
        write(root, files)
        # a scoped run: the module in scope brings in every caller
        options = Options(paths=[str(root / "modules" / "db")], config=Config(), root=str(root), use_cache=False)
        result = None

        def go():
            nonlocal result
            result = run(options)

        count = _calls(go)
        assert len([f for f in result.findings if f.rule_id == "TF001"]) == n
        return count

    work(5)   # one-time work (imports, rule loading, the parser) is not the run's
    small, large = work(40), work(80)
    # at least the per-call work (a fixed part, imports and rule loading aside, stays), at most linear
    assert 1.3 < large / small < 2.2, (small, large)
