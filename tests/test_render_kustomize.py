"""Kustomize overlays end to end, with the real kustomize (or kubectl's): production overlays are built and
checked, each finding at the line that set the value; patches are never objects; a failed build is PRR005.

scripts/test installs a kustomize when neither kustomize nor kubectl is on PATH (into .venv/kustomize/bin, which
conftest puts on PATH).
Under CI=true a missing binary fails these tests instead of skipping them."""

import datetime
import os

import pytest

from prr_lint.config import Config
from prr_lint.engine import Engine, Options, run
from prr_lint.errors import UsageError
from prr_lint.render import RENDER_FAILED

from conftest import require_kustomize, write

TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def kustomize_binary(request):
    if "no_kustomize" not in request.fixturenames:
        require_kustomize()


@pytest.fixture
def no_kustomize(tmp_path_factory, monkeypatch):
    """A test about what happens without any kustomize: PATH holds none."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))


SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata: {name: web, owner: team-web, tier: 1}
spec:
  deploy: {kustomize: [overlays/prod]}
"""
BASE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.4.2
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
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
BASE_KUSTOMIZATION = "resources:\n  - deployment.yaml\n  - pdb.yaml\n"
# a strategic-merge patch: alone it would look like a Deployment with no probes, resources or budget
PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          env:
            - name: MODE
              value: production
"""
PROD_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
replicas:
  - name: web
    count: 4
patches:
  - path: patch.yaml
"""


def tree(tmp_path, **overrides) -> str:
    files = {
        "service.yaml": SERVICE,
        "base/deployment.yaml": BASE_DEPLOYMENT,
        "base/pdb.yaml": PDB,
        "base/kustomization.yaml": BASE_KUSTOMIZATION,
        "overlays/prod/kustomization.yaml": PROD_KUSTOMIZATION,
        "overlays/prod/patch.yaml": PATCH,
    }
    for name, text in overrides.items():
        rel = name.replace("__", "/").replace("_yaml", ".yaml")
        if text is None:
            files.pop(rel)
        else:
            files[rel] = text
    return write(str(tmp_path), files)


def check(root: str, config: Config | None = None) -> tuple[list[tuple[str, str, int]], list]:
    result = run(Options(paths=[root], root=root, config=config or Config(), today=TODAY, use_cache=False))
    assert result.errors == []
    # the manifest's own findings (no SLO, no runbook, ...) are not what these tests are about
    return sorted((f.rule_id, f.file, f.span.line) for f in result.findings if f.rule_id.startswith("K8S")), \
        result.notices


def problems(root: str, config: Config | None = None) -> list:
    engine = Engine(Options(paths=[root], root=root, config=config or Config(), today=TODAY, use_cache=False))
    engine.load()
    return engine.rendered.problems


def test_prod_overlay_replicas_replace_the_base_value(tmp_path):
    # no K8S005 for the base's replicas: 1 (the overlay sets 4), and no K8S003/K8S004/K8S006 for the 12-line patch
    assert len(PATCH.splitlines()) == 12
    assert check(tree(tmp_path)) == ([], [])


def test_the_same_patch_outside_a_kustomization_is_a_deployment_with_five_findings(tmp_path):
    # what the patch got before overlays were built: the findings the overlay must not produce
    root = write(str(tmp_path), {"service.yaml": SERVICE, "deployment.yaml": PATCH})
    assert check(root)[0] == [("K8S001", "deployment.yaml", 9), ("K8S002", "deployment.yaml", 9),
                              ("K8S003", "deployment.yaml", 9), ("K8S004", "deployment.yaml", 9),
                              ("K8S005", "deployment.yaml", 5)]


def test_base_alone_keeps_its_finding(tmp_path):
    # the same base with no overlay is built on its own: its replicas: 1 is the tier 1 error, at the base line
    root = tree(tmp_path, overlays__prod__kustomization_yaml=None, overlays__prod__patch_yaml=None)
    assert check(root) == ([("K8S005", "base/deployment.yaml", 6)], [])


def test_overlay_replicas_entry_is_where_a_low_count_is_reported(tmp_path):
    root = tree(tmp_path, overlays__prod__kustomization_yaml=PROD_KUSTOMIZATION.replace("count: 4", "count: 1"))
    assert check(root)[0] == [("K8S005", "overlays/prod/kustomization.yaml", 7)]


def test_patch_removing_a_probe_is_reported_at_the_patch_line(tmp_path):
    patch = PATCH.replace("          env:\n", "          livenessProbe: null\n          env:\n")
    findings, _ = check(tree(tmp_path, overlays__prod__patch_yaml=patch))
    assert findings == [("K8S003", "overlays/prod/patch.yaml", 10)]


def test_patch_setting_a_bad_value_is_reported_at_the_patch_line(tmp_path):
    patch = PATCH.replace("spec:\n  template:", "spec:\n  replicas: 1\n  template:")
    prod = PROD_KUSTOMIZATION.replace("replicas:\n  - name: web\n    count: 4\n", "")
    findings, _ = check(tree(tmp_path, overlays__prod__patch_yaml=patch, overlays__prod__kustomization_yaml=prod))
    assert findings == [("K8S005", "overlays/prod/patch.yaml", 6)]


def test_json6902_remove_is_reported_at_the_operation(tmp_path):
    ops = "- op: remove\n  path: /spec/template/spec/containers/0/readinessProbe\n"
    prod = PROD_KUSTOMIZATION.replace("  - path: patch.yaml\n",
                                      "  - path: ops.yaml\n    target: {kind: Deployment, name: web}\n")
    root = tree(tmp_path, overlays__prod__kustomization_yaml=prod, overlays__prod__patch_yaml=None,
                overlays__prod__ops_yaml=ops)
    assert check(root)[0] == [("K8S004", "overlays/prod/ops.yaml", 1)]


def test_images_entry_is_where_a_mutable_tag_is_reported(tmp_path):
    prod = PROD_KUSTOMIZATION + "images:\n  - name: registry.example.com/web\n    newTag: latest\n"
    findings, _ = check(tree(tmp_path, overlays__prod__kustomization_yaml=prod))
    assert findings == [("K8S007", "overlays/prod/kustomization.yaml", 12)]


def test_non_production_overlay_is_not_built(tmp_path):
    dev = "resources:\n  - ../../base\npatches:\n  - path: patch.yaml\n"
    dev_patch = PATCH.replace("          env:\n", "          livenessProbe: null\n          env:\n")
    root = tree(tmp_path, overlays__dev__kustomization_yaml=dev, overlays__dev__patch_yaml=dev_patch)
    assert check(root) == ([], [])


def test_resources_of_a_non_production_overlay_are_not_checked(tmp_path, no_kustomize):
    dev = "resources:\n  - ../../base\n  - debug.yaml\n"
    debug = BASE_DEPLOYMENT.replace("name: web\n", "name: web-debug\n", 1)
    debug = debug.replace("          livenessProbe:\n            httpGet: {path: /healthz, port: 8080}\n", "")
    root = tree(tmp_path, overlays__dev__kustomization_yaml=dev, overlays__dev__debug_yaml=debug)
    # without kustomize the base is checked as written (replicas: 1), never the dev overlay's own Deployment
    assert check(root)[0] == [("K8S005", "base/deployment.yaml", 6)]


def test_overlay_below_a_non_production_directory_is_not_built(tmp_path):
    region = "resources:\n  - ../../../base\nreplicas:\n  - {name: web, count: 1}\n"
    root = tree(tmp_path, overlays__staging__eu_west_1__kustomization_yaml=region)
    engine = Engine(Options(paths=[root], root=root, today=TODAY, use_cache=False))
    engine.load()
    assert {d.meta["overlay"] for d in engine.rendered.docs} == {"overlays/prod/kustomization.yaml"}
    assert check(root) == ([], [])


def test_base_used_only_by_non_production_overlays_is_checked_as_written(tmp_path):
    dev = "resources:\n  - ../../base\n"
    root = tree(tmp_path, overlays__prod__kustomization_yaml=None, overlays__prod__patch_yaml=None,
                overlays__staging__kustomization_yaml=dev)
    assert check(root) == ([("K8S005", "base/deployment.yaml", 6)], [])


def test_broken_kustomization_is_render_failed_at_the_kustomization(tmp_path):
    prod = PROD_KUSTOMIZATION.replace("replicas:", "replicaz:")
    root = tree(tmp_path, overlays__prod__kustomization_yaml=prod)
    found = problems(root)
    assert [(p.rule_id, p.file, p.line) for p in found] == [(RENDER_FAILED, "overlays/prod/kustomization.yaml", 1)]
    assert found[0].message.startswith("Kustomize overlay overlays/prod could not be built: ")
    assert "replicaz" in found[0].message
    assert str(tmp_path) not in found[0].message and "\n" not in found[0].message
    # kustomize's own words, without kubectl's log prefix or the temporary wrapper around the overlay
    assert "run.go" not in found[0].message and "../src" not in found[0].message
    assert "must resolve to a file" not in found[0].message
    # nothing of the overlay is checked, and its base is not checked as written in its place
    assert check(root) == ([], [])


def test_missing_resource_is_refused_at_its_entry(tmp_path):
    # kustomize would take a name it cannot find for a remote base: it is refused before kustomize runs
    prod = PROD_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - gitlab.example.com/acme/web\n")
    found = problems(tree(tmp_path, overlays__prod__kustomization_yaml=prod))
    assert [(p.rule_id, p.file, p.line, p.message) for p in found] == [
        (RENDER_FAILED, "overlays/prod/kustomization.yaml", 5,
         "Kustomize overlay overlays/prod not built: resource gitlab.example.com/acme/web is not in the repository")]


def test_remote_base_is_refused_without_running_kustomize(tmp_path):
    prod = PROD_KUSTOMIZATION.replace("  - ../../base\n",
                                      "  - ../../base\n  - https://github.com/acme/bases//web?ref=v1\n")
    found = problems(tree(tmp_path, overlays__prod__kustomization_yaml=prod))
    assert [(p.rule_id, p.file, p.line) for p in found] == [(RENDER_FAILED, "overlays/prod/kustomization.yaml", 5)]
    assert found[0].message == ("Kustomize overlay overlays/prod not built: remote resource "
                                "https://github.com/acme/bases//web?ref=v1 is not fetched (no network)")


def test_base_outside_the_repository_is_refused(tmp_path):
    write(str(tmp_path), {"base/kustomization.yaml": BASE_KUSTOMIZATION, "base/deployment.yaml": BASE_DEPLOYMENT})
    prod = PROD_KUSTOMIZATION.replace("../../base", "../../../base")
    root = tree(tmp_path / "repo", overlays__prod__kustomization_yaml=prod, base__kustomization_yaml=None)
    found = problems(root)
    assert [(p.rule_id, p.file, p.line) for p in found] == [(RENDER_FAILED, "overlays/prod/kustomization.yaml", 4)]
    assert found[0].message == ("Kustomize overlay overlays/prod not built: resource ../../../base is outside "
                                "the repository")


def test_no_binary_gives_one_notice_and_patches_stay_out(tmp_path, no_kustomize):
    root = tree(tmp_path)
    findings, notices = check(root)
    # the base is checked as written (replicas: 1); the 12-line patch is not a Deployment of its own
    assert findings == [("K8S005", "base/deployment.yaml", 6)]
    assert notices == [("overlays/prod/kustomization.yaml",
                        "Kustomize overlays not built: neither kustomize nor kubectl is on PATH (set "
                        "kustomize_bin); their patches are not checked as objects")]


def test_configured_binary_must_be_kustomize_or_kubectl(tmp_path, no_kustomize):
    with pytest.raises(UsageError, match="kustomize_bin: sh is not a kustomize or kubectl binary"):
        problems(tree(tmp_path), Config(kustomize_bin="sh"))


def test_origin_annotations_are_not_seen_by_rules(tmp_path):
    engine = Engine(Options(paths=[tree(tmp_path)], root=str(tmp_path), today=TODAY, use_cache=False))
    engine.load()
    built = {d.data["kind"]: d for d in engine.rendered.docs}
    assert sorted(built) == ["Deployment", "PodDisruptionBudget"]
    deployment = built["Deployment"]
    assert "annotations" not in deployment.data["metadata"]
    assert (deployment.file, deployment.data["spec"]["replicas"]) == ("base/deployment.yaml", 4)
    assert deployment.source(("spec", "replicas"))[0] == "overlays/prod/kustomization.yaml"
    assert deployment.source(("spec", "template", "spec", "containers", 0, "env"))[0] == "overlays/prod/patch.yaml"
    assert engine.rendered.replaced == {"overlays/prod/patch.yaml", "base/deployment.yaml", "base/pdb.yaml"}


def test_configured_binary_that_is_not_there_is_a_notice(tmp_path, no_kustomize):
    _, notices = check(tree(tmp_path), Config(kustomize_bin="/nonexistent/kustomize"))
    assert notices == [("overlays/prod/kustomization.yaml",
                        "Kustomize overlays not built: kustomize_bin /nonexistent/kustomize is not found; their "
                        "patches are not checked as objects")]


def test_config_file_names_only_a_kustomize_or_kubectl(tmp_path, cli):
    root = tree(tmp_path, **{".prr-lint.yaml": "kustomize_bin: /bin/sh\n"})
    proc = cli("check", "--no-cache", root)
    assert proc.returncode == 2
    assert proc.stderr.startswith("prr-lint: error: ") and "kustomize_bin" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_component_alone_is_not_built(tmp_path):
    component = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: ha-\n"
    root = tree(tmp_path, components__ha__kustomization_yaml=component)
    assert problems(root) == []
    assert check(root) == ([], [])


def test_claimed_directory_without_kustomization_is_render_failed(tmp_path):
    service = SERVICE.replace("[overlays/prod]", "[overlays/prod, deploy/k8s]")
    root = tree(tmp_path, service_yaml=service, deploy__k8s__deployment_yaml=BASE_DEPLOYMENT)
    found = problems(root)
    assert [(p.rule_id, p.file, p.line, p.col) for p in found] == [(RENDER_FAILED, "service.yaml", 5, 39)]
    assert found[0].message == ("web: Kustomize overlay deploy/k8s has no kustomization.yaml; nothing of it was "
                                "built or checked")


def test_inline_patch_is_reported_at_its_entry(tmp_path):
    prod = PROD_KUSTOMIZATION.replace("  - path: patch.yaml\n", """\
  - target: {kind: Deployment, name: web}
    patch: |-
      - op: remove
        path: /spec/template/spec/containers/0/livenessProbe
""")
    root = tree(tmp_path, overlays__prod__kustomization_yaml=prod, overlays__prod__patch_yaml=None)
    # the operation's line inside the literal block
    assert check(root)[0] == [("K8S003", "overlays/prod/kustomization.yaml", 11)]


def test_kustomization_fields_map_to_their_lines(tmp_path):
    prod = PROD_KUSTOMIZATION.replace("resources:", "namespace: shop\ncommonLabels:\n  team: web\nresources:")
    root = tree(tmp_path, overlays__prod__kustomization_yaml=prod)
    engine = Engine(Options(paths=[root], root=root, today=TODAY, use_cache=False))
    engine.load()
    deployment = next(d for d in engine.rendered.docs if d.data["kind"] == "Deployment")
    kustomization = "overlays/prod/kustomization.yaml"
    assert deployment.source(("metadata", "namespace"))[0] == kustomization
    assert deployment.source(("metadata", "namespace"))[1].line == 3
    assert [deployment.source(place + ("team",))[1].line for place in
            [("metadata", "labels"), ("spec", "selector", "matchLabels"), ("spec", "template", "metadata", "labels")]] \
        == [5, 5, 5]
    # what nothing in the overlay touched stays at the base's line
    assert deployment.source(("spec", "template", "spec", "containers", 0, "image")) == \
        ("base/deployment.yaml", deployment.spans[("spec", "template", "spec", "containers", 0, "image")])
    assert deployment.spans[("spec", "template", "spec", "containers", 0, "image")].line == 15


def test_a_run_on_the_patch_alone_reports_what_the_patch_breaks(tmp_path):
    patch = PATCH.replace("          env:\n", "          livenessProbe: null\n          env:\n")
    root = tree(tmp_path, overlays__prod__patch_yaml=patch)
    result = run(Options(paths=[os.path.join(root, "overlays", "prod", "patch.yaml")], root=root, today=TODAY,
                         use_cache=False, select=["K8S003", "K8S005"]))
    assert [(f.rule_id, f.file, f.span.line) for f in result.findings] == [("K8S003", "overlays/prod/patch.yaml", 10)]


def test_two_production_overlays_of_one_base_report_a_base_problem_once(tmp_path):
    base = BASE_DEPLOYMENT.replace("          livenessProbe:\n            httpGet: {path: /healthz, port: 8080}\n", "")
    root = tree(tmp_path, base__deployment_yaml=base, overlays__prod_eu__kustomization_yaml=PROD_KUSTOMIZATION,
                overlays__prod_eu__patch_yaml=PATCH)
    engine = Engine(Options(paths=[root], root=root, today=TODAY, use_cache=False))
    engine.load()
    assert sorted(d.meta["overlay"] for d in engine.rendered.docs if d.data["kind"] == "Deployment") == \
        ["overlays/prod/kustomization.yaml", "overlays/prod_eu/kustomization.yaml"]
    assert check(root)[0] == [("K8S003", "base/deployment.yaml", 14)]


def test_built_objects_belong_to_the_service_that_deploys_the_overlay(tmp_path):
    # a shared base outside the service's directory: the overlay's service and tier judge what it deploys
    service = SERVICE.replace("tier: 1", "tier: 0")
    prod = PROD_KUSTOMIZATION.replace("../../base", "../../../../shared/base").replace("count: 4", "count: 2")
    root = write(str(tmp_path), {
        "services/web/service.yaml": service, "services/web/overlays/prod/kustomization.yaml": prod,
        "services/web/overlays/prod/patch.yaml": PATCH, "shared/base/kustomization.yaml": BASE_KUSTOMIZATION,
        "shared/base/deployment.yaml": BASE_DEPLOYMENT, "shared/base/pdb.yaml": PDB})
    result = run(Options(paths=[root], root=root, today=TODAY, use_cache=False, select=["K8S005"]))
    assert [(f.file, f.span.line, f.service, f.tier) for f in result.findings] == \
        [("services/web/overlays/prod/kustomization.yaml", 7, "web", 0)]
    assert "below the tier 0 minimum of 3" in result.findings[0].message


def test_patch_targets_by_kind_name_and_simple_selectors(no_kustomize):
    from prr_lint.render.kustomize import Patch, _targets

    web = {"kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}}}

    def targets(target: dict) -> bool:
        return _targets(Patch("p.yaml", ("patches", 0), [], target), web, {"web"})

    assert targets({"kind": "Deployment", "name": "web"}) is True
    assert targets({"kind": "StatefulSet", "name": "web"}) is False
    assert targets({"name": "api"}) is False
    assert targets({"labelSelector": "app=web"}) is True
    assert targets({"labelSelector": "app=api"}) is False
    assert targets({"labelSelector": "app!=web"}) is False
    # a pattern is never run as a Python regular expression (it could backtrack for ever): it counts as a match
    assert targets({"name": "(a+)+$"}) is True


def test_symlink_out_of_the_repository_is_not_copied_for_kustomize(tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: host-secret}\nstringData: {token: hunter2}\n")
    root = tree(tmp_path / "repo")
    os.symlink(secret, os.path.join(root, "base", "secret.yaml"))
    with open(os.path.join(root, "base", "kustomization.yaml"), "a") as fh:
        fh.write("  - secret.yaml\n")
    # refused at the base's entry before kustomize runs: the real path leaves the repository
    found = problems(root)
    assert [(p.rule_id, p.file, p.line) for p in found] == [(RENDER_FAILED, "base/kustomization.yaml", 4)]
    assert found[0].message == ("Kustomize overlay overlays/prod not built: resource secret.yaml is outside the "
                                "repository")


def test_generator_file_behind_a_symlink_out_of_the_repository_is_never_read(tmp_path):
    secret = tmp_path / "token.txt"
    secret.write_text("hunter2\n")
    prod = PROD_KUSTOMIZATION + "configMapGenerator:\n  - name: leak\n    files: [token.txt]\n"
    root = tree(tmp_path / "repo", overlays__prod__kustomization_yaml=prod)
    os.symlink(secret, os.path.join(root, "overlays", "prod", "token.txt"))
    found = problems(root)
    assert [(p.rule_id, p.file, p.line) for p in found] == [(RENDER_FAILED, "overlays/prod/kustomization.yaml", 1)]
    assert "token.txt" in found[0].message and "hunter2" not in found[0].message
    engine = Engine(Options(paths=[root], root=root, today=TODAY, use_cache=False))
    engine.load()
    assert "hunter2" not in repr([d.data for d in engine.rendered.docs])


def test_kustomize_too_old_for_origin_annotations_says_so(tmp_path, no_kustomize):
    # a stand-in for kustomize before 4.5: it refuses the wrapper's buildMetadata field, as those versions do
    old = tmp_path / "bin" / "kustomize"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\necho 'Error: json: unknown field \"buildMetadata\"' >&2\nexit 1\n")
    old.chmod(0o755)
    found = problems(tree(tmp_path / "repo"), Config(kustomize_bin=str(old)))
    assert [p.message for p in found] == [
        "Kustomize overlay overlays/prod could not be built: json: unknown field \"buildMetadata\" (origin "
        "annotations need kustomize 4.5.4 or later: set kustomize_bin)"]


def test_overlay_directory_name_is_quoted_in_the_wrapper(tmp_path):
    # a name that YAML would read as a mapping and a comment, were it written unquoted
    name = "prod: eu #1\nbuildMetadata: []"
    root = tree(tmp_path, overlays__prod__kustomization_yaml=None, overlays__prod__patch_yaml=None,
                **{f"overlays/{name}/kustomization.yaml": PROD_KUSTOMIZATION, f"overlays/{name}/patch.yaml": PATCH})
    assert problems(root) == []
    assert check(root) == ([], [])


def test_copy_for_kustomize_leaves_out_kustomizations_the_overlay_does_not_build_on(tmp_path, monkeypatch):
    import prr_lint.render.kustomize as kustomize

    root = tree(tmp_path, **{"kustomization.yaml": "resources:\n  - overlays/prod\n",
                             "overlays/dev/kustomization.yaml": "resources:\n  - ../../base\n",
                             "overlays/dev/notes.txt": "dev only\n", "README.md": "# web\n"})
    copied: list[str] = []

    def read_bytes(path: str, max_size: int) -> bytes:
        copied.append(os.path.relpath(path, os.path.realpath(root)).replace(os.sep, "/"))
        with open(path, "rb") as fh:
            return fh.read()

    monkeypatch.setattr(kustomize, "read_bytes", read_bytes)
    assert problems(root) == []
    # the root kustomization and the claimed overlay are built; nothing of overlays/dev is copied for either
    assert sorted(set(copied)) == ["README.md", "base/deployment.yaml", "base/kustomization.yaml", "base/pdb.yaml",
                                   "kustomization.yaml", "overlays/prod/kustomization.yaml",
                                   "overlays/prod/patch.yaml", "service.yaml"]


def test_remote_transformer_configuration_is_refused(tmp_path):
    prod = PROD_KUSTOMIZATION + "transformers:\n  - https://example.com/labels.yaml\n"
    found = problems(tree(tmp_path, overlays__prod__kustomization_yaml=prod))
    assert [(p.rule_id, p.line, p.message) for p in found] == [
        (RENDER_FAILED, 11, "Kustomize overlay overlays/prod not built: remote transformers entry "
                            "https://example.com/labels.yaml is not fetched (no network)")]


def test_an_overlays_inputs_are_found_without_walking_the_whole_listing():
    from types import SimpleNamespace

    from prr_lint.render.kustomize import _chosen

    class Listing(list):   # a walk over every file of the repository fails the test
        def __iter__(self):
            raise AssertionError("the whole listing was walked")

    files = sorted([f"apps/app{i}/deploy.yaml" for i in range(50)] + [
        "ov/base/deploy.yaml", "ov/base/kustomization.yaml", "ov/base/nested/kustomization.yaml",
        "ov/base/nested/x.yaml", "ov/base.yaml", "ov/prod/kustomization.yaml", "ov/prod/patch.yaml",
        "ov/prod2/kustomization.yaml", "shared/patch.yaml"])
    job = SimpleNamespace(repo=SimpleNamespace(files=Listing(files), file_set=set(files)))
    assert _chosen(job, ["ov/prod", "ov/base"], ["ov/base/nested", "ov/prod2"], {"shared/patch.yaml", "gone.yaml"}) \
        == ["ov/base/deploy.yaml", "ov/base/kustomization.yaml", "ov/prod/kustomization.yaml", "ov/prod/patch.yaml",
            "shared/patch.yaml"]


def test_a_built_objects_spans_are_the_bases_looked_up_when_asked():
    # what a walk copying every base span would give (_map), for every path of both trees, without the copy
    from prr_lint.model import Span
    from prr_lint.render.kustomize import _BuiltSpans, _map

    base = {"kind": "Deployment", "metadata": {"name": "api", "$patch": "x"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]},
                {"name": "side", "image": "s:1"},
                {"name": "app", "image": "dup"}]}}},
            "list": ["x", "y"], 7: {"deep": True}}
    built = {"kind": "Deployment", "metadata": {"name": "prod-api", "namespace": "prod"},
             "spec": {"template": {"spec": {"containers": [
                 {"name": "side", "image": "s:2"},
                 {"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]}]}}},
             "list": ["x"], 7: {"deep": True}}

    def paths(node, path=()):
        yield path
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            yield from paths(value, path + (key,))

    base_spans = {p: Span(n + 1, 1) for n, p in enumerate(paths(base))}
    del base_spans[("spec", "replicas")]          # a node without a span keeps none
    eager: dict = {}
    _map(base, base_spans, (), built, (), "base.yaml", eager, {}, patch=False)
    lazy = _BuiltSpans(base, base_spans, built)
    asked = set(paths(built)) | set(paths(base)) | set(eager) | \
        {("nope",), ("spec", "template", "spec", "containers", 5)}
    assert {p: lazy.get(p) for p in asked} == {p: eager.get(p) for p in asked}
    # the duplicate "app" container: the later base item wins, as the walk's later write does
    assert lazy[("spec", "template", "spec", "containers", 1, "image")] == \
        base_spans[("spec", "template", "spec", "containers", 2, "image")]
    lazy[("metadata", "name")] = Span(99, 3)      # a patch or the overlay's namePrefix sets its own
    assert lazy[("metadata", "name")] == Span(99, 3) and dict(lazy) == eager | {("metadata", "name"): Span(99, 3)}
