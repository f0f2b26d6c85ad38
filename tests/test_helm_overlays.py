"""Helm values files below a chart's directory: overlays when a service or CI claims them, else named in the
notices with the other values files prr-lint does not read."""

import json

from conftest import write

CHART = {
    "charts/shop/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    "charts/shop/values.yaml": "image: {repository: r/shop, tag: 1.0.0}\nreplicaCount: 3\n",
    "charts/shop/env/prod/values.yaml": "replicaCount: 1\n",
    "charts/shop/env/dev/values.yaml": "replicaCount: 1\n",
    "charts/shop/ci/ct-values.yaml": "replicaCount: 1\n",
    "charts/shop/prod-values.yaml": "replicaCount: 1\n",
    "charts/shop/values-test.yaml": "replicaCount: 1\n",
    "charts/shop/templates/values.yaml": "{{ .Values | toYaml }}\n",
}
DEPLOY = """\
name: deploy
on: push
jobs:
  prod:
    runs-on: ubuntu-latest
    steps:
      - run: helm upgrade --install shop charts/shop -f charts/shop/env/prod/values.yaml
"""


def check(cli, repo):
    proc = cli("check", "--format", "json", "--no-cache", "--fail-on", "never", "--select", "HELM002", str(repo))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    findings = [(f["file"], f["line"], f["message"]) for f in report["findings"]]
    notices = [(n["file"], n["message"]) for n in report["notices"] if n["file"].startswith("charts/")]
    return findings, notices


NOT_VALUES = ("values file not read: only values.yaml, values-<env>.yaml and <env>.values.yaml beside a chart's "
              "Chart.yaml are Helm values (chart charts/shop)")
UNREAD = [
    ("charts/shop/ci/ct-values.yaml", NOT_VALUES),
    ("charts/shop/env/dev/values.yaml", "values file not read: it is below chart charts/shop and no service "
                                        "(spec.deploy.helm) or CI file names it as an overlay"),
    ("charts/shop/prod-values.yaml", NOT_VALUES),
    ("charts/shop/values-test.yaml", "values overlay not checked: named for a non-production environment"),
]


def test_unclaimed_values_below_a_chart_are_named_not_checked(cli, tmp_path):
    write(tmp_path, CHART)
    findings, notices = check(cli, tmp_path)
    assert findings == []
    assert notices == sorted(UNREAD + [
        ("charts/shop/env/prod/values.yaml", "values file not read: it is below chart charts/shop and no service "
                                             "(spec.deploy.helm) or CI file names it as an overlay")])


def test_a_ci_workflow_that_deploys_with_it_makes_it_an_overlay(cli, tmp_path):
    write(tmp_path, {**CHART, ".github/workflows/deploy.yaml": DEPLOY})
    findings, notices = check(cli, tmp_path)
    assert findings == [("charts/shop/env/prod/values.yaml", 1, "chart shop: replicaCount is 1, below the tier 2 "
                         "minimum of 2; raise replicaCount to 2 or more or enable autoscaling")]
    assert notices == UNREAD


def test_a_service_claim_makes_it_an_overlay_and_a_claimed_dev_one_is_still_not_checked(cli, tmp_path):
    write(tmp_path, {**CHART, "service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: shop, "
                     "owner: team-shop, tier: 1}\nspec:\n  deploy:\n    helm: [charts/shop, charts/shop/env/]\n"})
    findings, notices = check(cli, tmp_path)
    assert findings == [("charts/shop/env/prod/values.yaml", 1, "chart shop: replicaCount is 1, below the tier 1 "
                         "minimum of 2; raise replicaCount to 2 or more or enable autoscaling")]
    assert notices == sorted(UNREAD[:1] + [
        ("charts/shop/env/dev/values.yaml", "values overlay not checked: named for a non-production environment")]
        + UNREAD[2:])
