"""Kubernetes and Helm helpers, and the cross-file behaviour of their rules through the real CLI."""

import json

import pytest

from prr_lint.checks.helm import merge, non_production
from prr_lint.checks.k8s import selector_matches, split_image
from prr_lint.model import Document

from conftest import write


def values(file, data, overlay=False):
    return Document("helm-values", file, data, {}, 0, {"chart": "c", "overlay": overlay})


def run_json(cli, repo, *select):
    proc = cli("check", "--format", "json", "--no-cache", "--fail-on", "never",
               *[a for s in select for a in ("--select", s)], str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)["findings"]


def pairs(findings):
    return {(f["rule"], f["file"], f["line"]) for f in findings}


# -- helpers -------------------------------------------------------------------------------------

def test_merge_is_helm_coalescing_and_remembers_who_set_each_value():
    base = values("c/values.yaml", {"image": {"repository": "r", "tag": "1"}, "resources": {"limits": {"cpu": 1}},
                                    "pdb": {"create": False}, "args": ["a", "b"]})
    prod = values("c/values-prod.yaml", {"resources": {"requests": {"cpu": "1"}}, "pdb": None, "args": ["c"]},
                  overlay=True)
    view = merge([base, prod])
    assert view.data == {"image": {"repository": "r", "tag": "1"},
                         "resources": {"limits": {"cpu": 1}, "requests": {"cpu": "1"}}, "args": ["c"]}
    assert view.source(("image", "tag")) is base
    assert view.source(("resources", "limits", "cpu")) is base
    assert view.source(("resources", "requests", "cpu")) is prod
    # a missing value points at the deepest mapping that exists, set last by the overlay
    assert view.source(("resources", "limits", "memory")) is base
    assert view.source(("resources", "requests", "memory")) is prod
    assert view.source(("args", 0)) is prod
    assert not view.has(("pdb",))          # null deletes the key


@pytest.mark.parametrize("name,skip", [
    ("charts/a/values-prod.yaml", False), ("charts/a/production.values.yaml", False),
    ("charts/a/values-eu-west-1.yaml", False), ("charts/a/values-dev.yaml", True),
    ("charts/a/values.staging.yaml", True), ("charts/a/ci.values.yaml", True), ("charts/a/values-e2e.yml", True),
])
def test_non_production_overlays(name, skip):
    assert non_production(name) is skip


@pytest.mark.parametrize("image,expected", [
    ("nginx", ("nginx", None, None)),
    ("nginx:1.27", ("nginx", "1.27", None)),
    ("registry:5000/team/app", ("registry:5000/team/app", None, None)),
    ("registry:5000/team/app:latest", ("registry:5000/team/app", "latest", None)),
    ("app@sha256:abc", ("app", None, "sha256:abc")),
    ("app:1.0@sha256:abc", ("app", "1.0", "sha256:abc")),
])
def test_split_image(image, expected):
    assert split_image(image) == expected


def test_selector_matches_labels_and_expressions():
    labels = {"app": "web", "tier": "front"}
    assert selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not selector_matches({"matchLabels": {"app": "web", "team": "x"}}, labels)
    assert selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]},
                                                  {"key": "canary", "operator": "DoesNotExist"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]},
                                labels)
    assert not selector_matches({}, labels)            # an empty selector is not aimed at this workload
    assert not selector_matches("app=web", labels)


# -- end to end ------------------------------------------------------------------------------------

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: web:1.0
"""
HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 6
"""
PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
"""


def test_unowned_workload_is_judged_with_the_hpa_and_pdb_of_its_own_directory(cli, tmp_path):
    write(tmp_path, {
        "apps/web/deployment.yaml": DEPLOY, "apps/web/hpa.yaml": HPA, "apps/web/pdb.yaml": PDB,
        # the same names in another directory are another application: its HPA does not count here
        "apps/other/deployment.yaml": DEPLOY, "apps/other/pdb.yaml": PDB,
    })
    found = pairs(run_json(cli, tmp_path, "K8S005", "K8S006"))
    assert found == {("K8S005", "apps/other/deployment.yaml", 6)}


def test_unowned_workload_sees_an_hpa_in_a_direct_subdirectory(cli, tmp_path):
    write(tmp_path, {
        "apps/web/deployment.yaml": DEPLOY, "apps/web/pdb.yaml": PDB,
        "apps/web/hpa/hpa.yaml": HPA.replace("minReplicas: 3", "minReplicas: 1"),
        # two levels down is another application's business
        "apps/api/deployment.yaml": DEPLOY.replace("replicas: 1", "replicas: 2"),
        "apps/api/x/y/hpa.yaml": HPA.replace("minReplicas: 3", "minReplicas: 1"),
    })
    found = pairs(run_json(cli, tmp_path, "K8S005", "K8S006"))
    assert found == {("K8S005", "apps/web/hpa/hpa.yaml", 7), ("K8S006", "apps/api/deployment.yaml", 4)}


def test_service_workload_sees_the_hpa_anywhere_in_its_service(cli, tmp_path):
    write(tmp_path, {
        "svc/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: web, owner: t, tier: 0}\n"
                            "spec:\n  deploy: {kubernetes: [base/, scaling/]}\n",
        "svc/base/deployment.yaml": DEPLOY,
        "svc/scaling/hpa.yaml": HPA.replace("minReplicas: 3", "minReplicas: 2"),
    })
    found = run_json(cli, tmp_path, "K8S005", "K8S006")
    assert pairs(found) == {("K8S005", "svc/scaling/hpa.yaml", 7), ("K8S006", "svc/base/deployment.yaml", 4)}
    k8s005 = next(f for f in found if f["rule"] == "K8S005")
    assert "tier 0 minimum of 3" in k8s005["message"] and "minReplicas 2" in k8s005["message"]


CHART = {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: '2.0'\n",
    "charts/web/values.yaml": (
        "image: {repository: registry.example.com/web, tag: ''}\n"       # 1
        "replicaCount: 1\n"                                              # 2
        "pdb:\n"                                                         # 3
        "  create: false\n"                                              # 4
        "resources:\n"                                                   # 5
        "  requests: {cpu: 100m, memory: 128Mi}\n"                       # 6
        "  limits: {memory: 128Mi}\n"                                    # 7
    ),
    "charts/web/values-prod.yaml": "replicaCount: 3\nimage:\n  tag: latest\n",
    "charts/web/values-dev.yaml": "replicaCount: 1\nimage:\n  tag: latest\n",
}


def test_overlay_findings_point_at_the_file_that_set_the_value(cli, tmp_path):
    write(tmp_path, CHART)
    found = run_json(cli, tmp_path, "HELM")
    assert pairs(found) == {
        ("HELM002", "charts/web/values.yaml", 2),       # base alone: 1 replica
        ("HELM003", "charts/web/values.yaml", 4),       # 3 replicas in prod, budget off in the base file
        ("HELM005", "charts/web/values-prod.yaml", 3),  # the tag set by the prod overlay; dev is not checked
    }
    pdb = next(f for f in found if f["rule"] == "HELM003")
    assert pdb["message"].endswith("(with values-prod.yaml)")
    assert 'chart web' in pdb["message"] and "3 replicas" in pdb["message"]


@pytest.mark.parametrize("text", [
    "- just\n- a list\n", "42\n", "image: [1, 2]\nreplicaCount: {a: 1}\nresources: nope\n",
    "image: {repository: r, tag: [latest]}\nautoscaling: {enabled: true, minReplicas: many}\n"
    "livenessProbe: true\npdb: {create: 'false'}\nreplicas: '3'\n",
    "worker:\n  image: 'x:latest'\n  podDisruptionBudget: []\n  replicaCount: null\n",
])
def test_odd_values_never_crash(cli, tmp_path, text):
    write(tmp_path, {"charts/x/Chart.yaml": "apiVersion: v2\nname: x\nversion: 1.0.0\n",
                     "charts/x/values.yaml": text, "charts/x/values-prod.yaml": text})
    run_json(cli, tmp_path, "HELM")


@pytest.mark.parametrize("text", [
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: many, template: {spec: {}}}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n"
    "      containers: [null, 3, {name: c, image: 7, resources: []}]\n      affinity: []\n",
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\nspec: [1]\n",
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\n"
    "spec: {selector: {matchExpressions: [{key: a, operator: Bogus}]}, maxUnavailable: '0'}\n",
    "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec: {scaleTargetRef: a}\n",
])
def test_odd_workloads_never_crash(cli, tmp_path, text):
    write(tmp_path, {"k8s/a.yaml": text, "k8s/b.yaml": DEPLOY})
    run_json(cli, tmp_path, "K8S")
