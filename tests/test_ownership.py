"""Service ownership on a repository laid out the way Backstage users lay theirs out: only running Components
are services, scaffolder templates are neither services nor parse errors, `prr-lint/*` annotations claim
files (globs gitignore-style), two manifests of one name are one service and a PRR004, and the manifest
schema holds the value ranges an editor shows."""

import json
import os

import jsonschema
import pytest

from prr_lint.checks.globs import matches, matches_from_root

from conftest import ROOT, write

RAW_SCHEMAS = "https://raw.githubusercontent.com/prr-lint/prr-lint/main/schemas/"

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: {name}:1.0
"""

CATALOG = {
    # a website whose files live under deploy/ and monitoring/, claimed by annotations
    "services/storefront/catalog-info.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: storefront
  annotations:
    prr-lint/tier: "1"
    prr-lint/deploy: /deploy/storefront/**/*.yaml
    prr-lint/alerts: ../../monitoring/storefront.rules.yaml, missing/*.yaml
    prr-lint/runbooks: docs/runbook.md
spec:
  type: website
  lifecycle: production
  owner: team-web
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: storefront-api}
spec: {type: openapi, lifecycle: production, owner: team-web, definition: "openapi: 3.0.0"}
""",
    "services/storefront/docs/runbook.md": "# Storefront runbook\n",
    "deploy/storefront/prod/deployment.yaml": DEPLOYMENT.format(name="storefront"),
    "deploy/storefront/notes.txt": "not YAML\n",
    "monitoring/storefront.rules.yaml": "groups:\n  - name: storefront\n    rules: []\n",
    # a library and a documentation Component: not services
    "libs/ui-kit/catalog-info.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ui-kit}
spec: {type: library, lifecycle: production, owner: team-web}
""",
    "docs/catalog-info.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: handbook}
spec: {type: documentation, lifecycle: production, owner: team-web}
""",
    # a scaffolder template: its skeleton is not YAML until rendered, nor a service when it parses
    "templates/new-service/template.yaml": """apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: new-service}
spec:
  owner: team-platform
  type: service
  steps:
    - id: fetch
      action: fetch:template
      input: {url: ./skeleton}
""",
    "templates/new-service/skeleton/catalog-info.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name | dump }}
  {%- if values.description %}
  description: ${{ values.description }}
  {%- endif %}
spec:
  type: service
  lifecycle: experimental
  owner: ${{ values.owner }}
""",
    "templates/new-service/skeleton/k8s/deployment.yaml": DEPLOYMENT.format(name="${{ values.name }}"),
    "templates/pull-request/catalog-info.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: "${{ values.name }}"}
spec: {type: service, lifecycle: experimental, owner: team-platform}
""",
    # one name in a prr-lint manifest and a Backstage Component
    "services/cart/service.yaml": """apiVersion: prr-lint/v1
kind: Service
metadata: {name: cart, owner: team-shop, tier: 1}
""",
    "catalog/cart.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: cart
  annotations: {prr-lint/tier: "3", prr-lint/deploy: /deploy/cart/}
spec: {type: service, lifecycle: production, owner: team-legacy}
""",
    "deploy/cart/deployment.yaml": DEPLOYMENT.format(name="cart"),
    "slo/cart.yaml": """apiVersion: openslo/v1
kind: SLO
metadata: {name: cart-availability}
spec:
  service: cart
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
  indicator:
    metadata: {name: cart-errors}
    spec:
      ratioMetric:
        good:
          metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{job="cart",code!~"5.."}[5m]))'}}
        total:
          metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{job="cart"}[5m]))'}}
""",
}


def run_json(cli, repo, *args):
    proc = cli("check", "--no-cache", "--format", "json", "--fail-on", "never", *args, str(repo))
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from conftest import run_cli

    repo = write(str(tmp_path_factory.mktemp("catalog")), CATALOG)
    return run_json(run_cli, repo)


def found(report, rule_id):
    return sorted((f["file"], f["line"]) for f in report["findings"] if f["rule"] == rule_id)


def test_only_running_components_are_services(report):
    assert sorted((s["name"], s["tier"], s["file"]) for s in report["services"]) == [
        ("cart", 1, "services/cart/service.yaml"), ("storefront", 1, "services/storefront/catalog-info.yaml")]


def test_templates_are_neither_services_nor_parse_errors(report):
    assert found(report, "PRR000") == []
    assert not any("${{" in f["message"] or f["file"].startswith("templates/") for f in report["findings"])
    notes = {n["file"]: n["message"] for n in report["notices"]}
    assert notes["templates/new-service/skeleton/catalog-info.yaml"] == \
        "under a scaffolder skeleton/ directory: a template, not checked"
    assert notes["templates/new-service/skeleton/k8s/deployment.yaml"] == \
        "under a scaffolder skeleton/ directory: a template, not checked"
    assert notes["templates/pull-request/catalog-info.yaml"] == \
        "a document with template placeholders (${{ }} or {% %}): a template, not checked"


def test_placeholders_make_only_their_document_a_template(cli, tmp_path):
    """A Jinja file embedded in a ConfigMap hides nothing; a templated document beside real ones hides only itself;
    placeholders that break the YAML make the file a template, not a PRR000."""
    configmap = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: render}\ndata:\n  page.j2: |\n"
                 "    {% if user %}Hello {{ user }}{% endif %}\n---\n")
    files = {"k8s/app.yaml": configmap + DEPLOYMENT.format(name="app"),
             "k8s/mixed.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{ values.name }}\n"
                               "spec: {replicas: 1}\n---\n" + DEPLOYMENT.format(name="real"),
             "k8s/broken.yaml": "{%- if values.enabled %}\n" + DEPLOYMENT.format(name="x") + "{%- endif %}\n"}
    report = run_json(cli, write(str(tmp_path), files), "--select", "PRR000,K8S005")
    assert sorted((f["rule"], f["file"], f["message"].split(":")[0]) for f in report["findings"]) == [
        ("K8S005", "k8s/app.yaml", "Deployment app"), ("K8S005", "k8s/mixed.yaml", "Deployment real")]
    assert {n["file"]: n["message"] for n in report["notices"]} == {
        "k8s/mixed.yaml": "a document with template placeholders (${{ }} or {% %}): a template, not checked",
        "k8s/broken.yaml": "YAML with template placeholders (${{ }} or {% %}): a template, not checked"}


def test_annotations_claim_deploy_alert_and_runbook_files(report):
    # /deploy/storefront/**/*.yaml reaches prod/deployment.yaml: checked at the storefront's tier 1
    replicas = [f for f in report["findings"] if f["rule"] == "K8S005"]
    assert {(f["file"], f["service"], f["tier"]) for f in replicas} == {
        ("deploy/storefront/prod/deployment.yaml", "storefront", 1), ("deploy/cart/deployment.yaml", "cart", 1)}
    # the runbook annotation is a runbook: no SVC020 for the storefront
    assert not [f for f in report["findings"] if f["rule"] == "SVC020" and f["service"] == "storefront"]
    # one item of a comma-separated annotation that matches nothing is PRR003 at the annotation, by itself
    missing = [f for f in report["findings"] if f["rule"] == "PRR003"]
    assert [(f["file"], f["line"], f["message"]) for f in missing] == [
        ("services/storefront/catalog-info.yaml", 8,
         "storefront (tier 1): alert rules path 'missing/*.yaml' does not exist (resolved to "
         "services/storefront/missing/*.yaml); correct the path or remove it")]


def test_backstage_findings_name_backstage_places(report):
    """A Component has no `spec.rollback`, `spec.dr` or `spec.slos`: its findings say what to add in Backstage."""
    messages = {f["rule"]: f["message"] for f in report["findings"]
                if f["file"] == "services/storefront/catalog-info.yaml"}
    assert {"SVC010", "SVC030", "SVC040"} <= set(messages)
    assert not [m for m in messages.values() if "spec." in m]
    assert messages["SVC030"] == ("storefront (tier 1): no rollback plan; add the annotation "
                                  'prr-lint/rollback-strategy and a metadata.links entry titled "Rollback" '
                                  "(the procedure)")
    assert messages["SVC040"] == ("storefront (tier 1): no disaster-recovery objectives; add the annotation "
                                  "prr-lint/dr-rto and the annotation prr-lint/dr-rpo (e.g. 1h and 5m)")


def test_duplicate_name_is_one_service_and_prr004(report):
    assert [(f["file"], f["line"], f["message"]) for f in report["findings"] if f["rule"] == "PRR004"] == [
        ("catalog/cart.yaml", 4,
         "service 'cart' is declared twice: services/cart/service.yaml is read as the service, and "
         "catalog/cart.yaml adds only its claims and directory to it (its owner, tier and other facts are "
         "ignored); rename one or remove one")]
    # the prr-lint manifest's tier (1) holds for the Component's claimed files, and the OpenSLO joins it
    assert not [f for f in report["findings"] if f["rule"] == "SVC010" and f["service"] == "cart"]
    assert {f["tier"] for f in report["findings"] if f["service"] == "cart"} == {1}


def test_duplicate_join_does_not_depend_on_path_order(cli, tmp_path):
    """A prr-lint manifest is the service whichever path sorts first; between two of one kind, the first path."""
    files = {"a/catalog-info.yaml": CATALOG["catalog/cart.yaml"],
             "z/service.yaml": CATALOG["services/cart/service.yaml"],
             "m/service.yaml": CATALOG["services/cart/service.yaml"].replace("tier: 1", "tier: 0")}
    report = run_json(cli, write(str(tmp_path), files), "--select", "PRR004,SVC003")
    assert [(s["name"], s["tier"], s["file"]) for s in report["services"]] == [("cart", 0, "m/service.yaml")]
    assert found(report, "PRR004") == [("a/catalog-info.yaml", 4), ("z/service.yaml", 3)]


def test_component_types_are_configurable(cli, tmp_path):
    repo = write(str(tmp_path), {**{k: v for k, v in CATALOG.items() if k.startswith(("libs/", "docs/"))},
                                 ".prr-lint.yaml": "backstage_service_types: [service, Library]\n"})
    assert [s["name"] for s in run_json(cli, repo, "--select", "SVC001")["services"]] == ["ui-kit"]
    write(repo, {".prr-lint.yaml": "backstage_service_types: service\n"})
    proc = cli("check", "--no-cache", repo)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "backstage_service_types" in proc.stderr and "Traceback" not in proc.stderr


def test_claims_waivers_and_excludes_share_gitignore_globs():
    assert matches_from_root("deploy/**/*.yaml", "deploy/storefront/prod/deployment.yaml")
    assert matches_from_root("deploy/**/*.yaml", "deploy/x.yaml")
    assert not matches_from_root("deploy/**/*.yaml", "deploy/storefront/notes.txt")
    # a claim is a path from the root: `*.yaml` resolved at the root is not any YAML file below it
    assert matches_from_root("*.yaml", "a.yaml") and not matches_from_root("*.yaml", "k8s/a.yaml")
    # a pattern naming a directory covers the files under it; `*` stays within one directory name
    assert matches_from_root("k8s/*", "k8s/prod/deployment.yaml")
    assert not matches_from_root("k8s/*.yaml", "k8s/prod/deployment.yaml")
    # waiver paths and excludes are gitignore lines: a name without a slash matches at any depth
    assert matches("*.yaml", "k8s/a.yaml")


def test_claim_glob_with_double_star_claims_nested_files(cli, tmp_path):
    files = {"services/api/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: api, tier: 0}\n"
                                          "spec: {deploy: {kubernetes: ['/deploy/**/*.yaml']}}\n",
             "deploy/api/prod/deployment.yaml": DEPLOYMENT.format(name="api")}
    report = run_json(cli, write(str(tmp_path), files), "--select", "K8S005")
    assert [(f["file"], f["service"], f["tier"]) for f in report["findings"]] == [
        ("deploy/api/prod/deployment.yaml", "api", 0)]


def _schema(name):
    with open(os.path.join(ROOT, "schemas", name), encoding="utf-8") as fh:
        return json.load(fh)


def _editor_errors(manifest):
    """What an editor's YAML language server shows: plain JSON Schema validation, no prr-lint code."""
    schema = _schema("service.schema.json")
    validator = jsonschema.validators.validator_for(schema)(schema)
    return sorted(".".join(map(str, e.absolute_path)) for e in validator.iter_errors(manifest))


def test_schema_bounds_seen_by_an_editor():
    def manifest(tier, objective):
        return {"apiVersion": "prr-lint/v1", "kind": "Service", "metadata": {"name": "cart", "tier": tier},
                "spec": {"slos": [{"name": "availability", "objective": objective, "window": "30d"}]}}

    assert _editor_errors(manifest(1, 99.9)) == []
    assert _editor_errors(manifest("2", 99)) == []
    assert _editor_errors(manifest(7, 120)) == ["metadata.tier", "spec.slos.0.objective"]
    assert _editor_errors(manifest(-1, 0)) == ["metadata.tier", "spec.slos.0.objective"]
    assert _editor_errors(manifest("high", 100)) == ["metadata.tier", "spec.slos.0.objective"]


def test_out_of_range_values_are_reported_once(cli, tmp_path):
    files = {"service.yaml": "apiVersion: prr-lint/v1\nkind: Service\nmetadata: {name: cart, tier: 7}\n"
                             "spec:\n  slos: [{name: availability, objective: 120, window: 30d}]\n"}
    report = run_json(cli, write(str(tmp_path), files), "--select", "PRR001,SVC003,SVC011")
    assert [(f["rule"], f["line"]) for f in report["findings"]] == [("SVC003", 3), ("SVC011", 5)]


@pytest.mark.parametrize("name", sorted(os.listdir(os.path.join(ROOT, "schemas"))))
def test_schema_id_is_its_raw_url_in_this_repository(name):
    assert _schema(name)["$id"] == RAW_SCHEMAS + name


def test_readme_documents_the_modeline():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    assert f"# yaml-language-server: $schema={RAW_SCHEMAS}service.schema.json" in readme


def _graph(claims: dict):
    """A service graph of manifests at services/<name>/service.yaml claiming the given Kubernetes paths."""
    from prr_lint.model import Document
    from prr_lint.service import ServiceGraph

    manifests = [Document("service", f"services/{name}/service.yaml",
                          {"apiVersion": "prr-lint/v1", "kind": "Service",
                           "metadata": {"name": name, "owner": "team", "tier": 2},
                           "spec": {"deploy": {"kubernetes": targets}}}, {})
                 for name, targets in claims.items()]
    return ServiceGraph.build(manifests, [], 2)


GLOB_CLAIMS = {
    "a": ["/deploy/a-*.yaml", "/deploy/**/shared-a.yaml"],
    "b": ["/deploy/a-b*", "/deploy/[ab]x/*.yaml", "/deploy/*.json"],
    "c": ["/*/c-*.yaml", "/deploy/c\\*.yaml", "/deploy/../deploy/c-*.yaml"],
    "d": ["/deploy/nested/d-*/**", "/**/*.tf", "/deploy/ with space*"],
}
GLOB_FILES = ["deploy/a-web.yaml", "deploy/a-bc.yaml", "deploy/a-b/x.yaml", "deploy/ax/one.yaml", "deploy/bx/one.yaml",
              "deploy/x.json", "deploy/c-one.yaml", "deploy/c*.yaml", "other/c-two.yaml", "deploy/nested/d-1/k.yaml",
              "deploy/nested/shared-a.yaml", "infra/main.tf", "deploy/ with spaces.yaml", "deploy/nothing.yaml",
              "services/a/k8s/x.yaml"]


def test_a_file_belongs_to_the_first_glob_claim_that_matches_it():
    """Glob claims are looked up by where they point; the answer is the plain scan's: the first claim in service
    order that matches the file."""
    graph = _graph(GLOB_CLAIMS)
    ranked = [(target, name) for name, targets in GLOB_CLAIMS.items() for target in targets]
    for rel in GLOB_FILES:
        first = next((name for target, name in ranked if matches_from_root(target.lstrip("/"), rel)), None)
        owner = graph.owner_of(rel)
        if first is not None:
            assert owner is not None and owner.name == first, rel
        else:
            assert owner is None or not rel.startswith("deploy/"), rel
    assert graph.owner_of("deploy/a-bc.yaml").name == "a"      # a's claim ranks before b's
    assert graph.owner_of("deploy/a-b/x.yaml").name == "b"


def test_glob_ownership_does_not_try_every_claim_for_every_file(monkeypatch):
    """Services claiming files of one shared directory by name (deploy/<name>-*.yaml): a file tries the claims
    that could match it, so twice the services is twice the matching, not four times."""
    from prr_lint import service

    def matched(n: int) -> int:
        graph = _graph({f"svc-{i}": [f"/deploy/svc-{i}-*.yaml"] for i in range(n)})
        calls = 0
        original = service.matches_from_root

        def counting(pattern, rel):
            nonlocal calls
            calls += 1
            return original(pattern, rel)

        monkeypatch.setattr(service, "matches_from_root", counting)
        owners = [graph.owner_of(f"deploy/svc-{i}-web.yaml") for i in range(n)]
        monkeypatch.setattr(service, "matches_from_root", original)
        assert [o.name for o in owners] == [f"svc-{i}" for i in range(n)]
        return calls

    small, large = matched(100), matched(200)
    assert large <= 2.2 * small, (small, large)
