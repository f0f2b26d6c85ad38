"""Configuration reaches the engine: pyproject.toml, severity overrides, select/ignore, tier numbers, user packs."""

import datetime
import json
import textwrap

from prr_lint.config import load_config
from prr_lint.engine import Options, run

from conftest import write

DB = 'resource "aws_db_instance" "db" {\n  backup_retention_period = 1\n}\n'
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - {name: app, image: "web:1.0"}
"""


def findings(root, config_file=None, **kw):
    cfg = load_config(config_file)
    res = run(Options(paths=[str(root)], config=cfg, root=str(root), use_cache=False,
                      today=datetime.date(2026, 11, 1), **kw))
    assert not res.errors, res.errors
    return {(f.rule_id, f.file, f.severity) for f in res.findings}


def test_default_tier_sets_severity_of_unowned_artifacts(tmp_path):
    write(tmp_path, {"infra/main.tf": DB})
    assert ("TF001", "infra/main.tf", "warning") in findings(tmp_path, select=["TF001"])
    write(tmp_path, {".prr-lint.yaml": "default_tier: 0\n"})
    assert ("TF001", "infra/main.tf", "error") in findings(tmp_path, str(tmp_path / ".prr-lint.yaml"), select=["TF001"])


def test_service_tier_sets_severity_of_owned_artifacts(tmp_path):
    write(tmp_path, {
        "svc/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: a, owner: t, tier: 3}\n",
        "svc/infra/main.tf": DB,
    })
    assert ("TF001", "svc/infra/main.tf", "info") in findings(tmp_path, select=["TF001"])


def test_severity_overrides_per_rule_and_per_tier(tmp_path):
    write(tmp_path, {"infra/main.tf": DB, "k8s/deploy.yaml": DEPLOY,
                     ".prr-lint.yaml": "severity:\n  TF001: info\n  memory-limit: {'2': warning}\n"})
    got = findings(tmp_path, str(tmp_path / ".prr-lint.yaml"), select=["TF001", "K8S002"])
    assert got == {("TF001", "infra/main.tf", "info"), ("K8S002", "k8s/deploy.yaml", "warning")}
    write(tmp_path, {".prr-lint.yaml": "severity:\n  TF001: 'off'\n"})
    assert findings(tmp_path, str(tmp_path / ".prr-lint.yaml"), select=["TF001"]) == set()


def test_select_and_ignore_by_id_name_tag_and_area(tmp_path):
    write(tmp_path, {"infra/main.tf": DB, "k8s/deploy.yaml": DEPLOY})
    both = {("TF001", "infra/main.tf", "warning"), ("K8S002", "k8s/deploy.yaml", "error")}
    assert findings(tmp_path, select=["TF001", "memory-limit"]) == both
    assert findings(tmp_path, select=["resources"]) >= {("K8S002", "k8s/deploy.yaml", "error")}
    assert {f[0] for f in findings(tmp_path, select=["TF001", "K8S002"], ignore=["dr"])} == {"K8S002"}
    area = {f[0] for f in findings(tmp_path, select=["tf"])}
    assert "TF001" in area and all(r.startswith("TF") for r in area)


def test_pyproject_section_is_read(cli, tmp_path):
    write(tmp_path, {
        "pyproject.toml": '[project]\nname = "x"\n\n[tool.prr-lint]\nselect = ["TF001"]\ndefault_tier = 0\n',
        "infra/main.tf": DB, "k8s/deploy.yaml": DEPLOY,
    })
    proc = cli("check", "--format", "json", "--no-cache", str(tmp_path))
    report = json.loads(proc.stdout)
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("TF001", "error")]


def test_pyproject_errors_exit_2(cli, tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.prr-lint]\ndefault_tier = "high"\n'})
    proc = cli("check", str(tmp_path))
    assert proc.returncode == 2 and "pyproject.toml" in proc.stderr and "default_tier" in proc.stderr


def test_tier_numbers_and_user_rule_packs(tmp_path):
    pack = tmp_path / "pack" / "custom" / "ACME001-replicas-echo"
    write(pack, {
        "rule.py": textwrap.dedent('''\
            from prr_lint.model import Hit
            from prr_lint.rule import rule

            @rule(id="ACME001", name="replicas-echo", summary="Reports the tier's minimum replicas.",
                  why="A test rule that shows which tier numbers a rule sees.", fix="Nothing to fix.",
                  targets=["k8s"], tags=["availability"], severity="info", since="0.1.0")
            def check(doc, ctx):
                yield Hit(doc, ("spec",), f"min_replicas={ctx.policy['min_replicas']} tier={ctx.tier}")
            '''),
    })
    repo = tmp_path / "repo"
    write(repo, {"k8s/deploy.yaml": DEPLOY,
                 ".prr-lint.yaml": f"rule_paths: ['{tmp_path / 'pack'}']\ntiers:\n  '2': {{min_replicas: 5}}\n"})
    cfg = load_config(str(repo / ".prr-lint.yaml"))
    res = run(Options(paths=[str(repo)], config=cfg, root=str(repo), use_cache=False, select=["ACME001"]))
    assert [f.message for f in res.findings] == ["min_replicas=5 tier=2"]


def test_a_key_written_twice_in_the_config_exits_2_at_its_line(cli, tmp_path):
    # the second `select:` would silently replace the first: the user believes K8S001 is checked
    write(tmp_path, {".prr-lint.yaml": "select: [K8S001]\nseverity: {}\nselect: [TF001]\n", "infra/main.tf": DB})
    proc = cli("check", "--no-cache", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(
        ".prr-lint.yaml:3: select is already set on line 1; the first value would be ignored")
    assert proc.stderr.count("\n") == 1
