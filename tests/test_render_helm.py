"""Helm charts rendered with the real helm-python-sdk: `prr-lint check` on chart repositories, findings at the
template line that emits each field and, for values, at the values file line that set them."""

import json
import os

import pytest

from prr_lint.render.markers import instrument, source_lines

from conftest import run_cli, write


@pytest.fixture(scope="module", autouse=True)
def helm_sdk():
    """The render tests need the real library: `scripts/test` installs it; under CI a missing one fails."""
    try:
        import helm_python  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("helm-python-sdk is not installed (pip install -e '.[render]'): render tests cannot run")
        pytest.skip("helm-python-sdk is not installed")


MANIFEST = """\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: shop
  owner: team-shop
  tier: 1
spec:
  deploy:
    helm: /charts/shop
"""

CHART = """\
apiVersion: v2
name: shop
version: 1.0.0
"""

VALUES = """\
replicaCount: 3
image:
  repository: registry.example.com/shop
  tag: "1.4.2"
resources:
  requests: {cpu: 100m, memory: 128Mi}
  limits: {memory: 256Mi}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: shop
spec:
  replicas: {{ .Values.replicaCount }}
  revisionHistoryLimit: 5
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app: shop
  template:
    metadata:
      labels:
        app: shop
    spec:
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app: shop
      containers:
        - name: shop
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"""

PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: shop
"""

TEST_HOOK = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
spec:
  containers:
    - name: wget
      image: busybox
"""


def chart_repo(tmp_path, extra=None):
    files = {
        "services/shop/service.yaml": MANIFEST,
        "charts/shop/Chart.yaml": CHART,
        "charts/shop/values.yaml": VALUES,
        "charts/shop/templates/deployment.yaml": DEPLOYMENT,
        "charts/shop/templates/pdb.yaml": PDB,
        "charts/shop/templates/tests/test-connection.yaml": TEST_HOOK,
    }
    files.update(extra or {})
    return write(str(tmp_path), {k: v for k, v in files.items() if v is not None})


def check(root, *args, env=None):
    proc = run_cli("check", "--no-cache", "--format", "json", *args, root, cwd=root, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    return proc, report


def found(report, prefix=("K8S", "HELM", "PRR")):
    return sorted((f["rule"], f["file"], f["line"], f["message"]) for f in report["findings"]
                  if f["rule"].startswith(prefix))


def test_template_findings_point_at_the_template_line(tmp_path):
    root = chart_repo(tmp_path)
    proc, report = check(root)
    assert found(report) == [
        ("K8S003", "charts/shop/templates/deployment.yaml", 28,
         'Deployment shop: container "shop" has no liveness probe; add livenessProbe (httpGet, tcpSocket, grpc or '
         "exec) so a hung process is restarted"),
        ("K8S008", "charts/shop/templates/deployment.yaml", 11,
         "Deployment shop: strategy.type Recreate stops every pod before starting the new version (downtime on "
         "each deploy); use RollingUpdate (tier 1)"),
    ]
    assert proc.returncode == 1


def test_values_prod_overlay_names_the_values_line(tmp_path):
    root = chart_repo(tmp_path, {"charts/shop/values-prod.yaml": "# production\nreplicaCount: 1\n",
                                 "charts/shop/values-dev.yaml": "replicaCount: 0\n"})
    _, report = check(root)
    replicas = [f for f in found(report) if f[0] == "K8S005"]
    # the dev overlay is not production: only values.yaml (3 replicas, fine) and values-prod.yaml are rendered
    assert replicas == [
        ("K8S005", "charts/shop/templates/deployment.yaml", 8,
         "Deployment shop: spec.replicas is 1, below the tier 1 minimum of 2; raise spec.replicas to 2 or more "
         "(value from charts/shop/values-prod.yaml:2)"),
    ]


def test_one_finding_for_the_same_problem_in_several_renders(tmp_path):
    root = chart_repo(tmp_path, {"charts/shop/values-prod.yaml": "image:\n  tag: \"1.4.2\"\n"})
    _, report = check(root)
    assert [f[:3] for f in found(report)] == [
        ("K8S003", "charts/shop/templates/deployment.yaml", 28),
        ("K8S008", "charts/shop/templates/deployment.yaml", 11),
    ]


def test_values_rules_do_not_repeat_the_rendered_findings(tmp_path):
    values = VALUES.replace('tag: "1.4.2"', "tag: latest")
    root = chart_repo(tmp_path, {"charts/shop/values.yaml": values})
    _, report = check(root)
    rules = [f[:3] for f in found(report)]
    assert ("K8S007", "charts/shop/templates/deployment.yaml", 29) in rules
    assert not [r for r in rules if r[0].startswith("HELM")]
    k8s007 = next(f for f in found(report) if f[0] == "K8S007")
    assert k8s007[3].endswith("(value from charts/shop/values.yaml:4)")


def test_broken_template_is_prr005_at_its_line(tmp_path):
    broken = DEPLOYMENT.replace("  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: {{ .Values.history.limit }}\n")
    root = chart_repo(tmp_path, {"charts/shop/templates/deployment.yaml": broken})
    proc, report = check(root)
    assert found(report, ("PRR",)) == [
        ("PRR005", "charts/shop/templates/deployment.yaml", 9,
         'chart shop failed to render with values.yaml: shop/templates/deployment.yaml:9:34 executing '
         '"shop/templates/deployment.yaml" at <.Values.history.limit>: nil pointer evaluating interface {}.limit'),
    ]
    assert proc.returncode == 1
    # nothing of the chart was checked, and the values rules say what they can
    assert not [f for f in found(report) if f[0].startswith("K8S")]


def test_prr005_cannot_be_selected_away(tmp_path):
    broken = DEPLOYMENT.replace("{{ .Values.replicaCount }}", "{{ .Values.replicaCount | nosuchfunc }}")
    root = chart_repo(tmp_path, {"charts/shop/templates/deployment.yaml": broken})
    proc = run_cli("gate", "--no-cache", "--select", "K8S003", root, cwd=root)
    assert proc.returncode == 2, proc.stderr    # the gate cannot decide: fail closed
    assert ("charts/shop/templates/deployment.yaml:8: cannot render: chart shop failed to render with values.yaml: "
            'parse error at (shop/templates/deployment.yaml:8): function "nosuchfunc" not defined') in proc.stdout


def test_missing_dependency_is_prr006_at_its_line(tmp_path):
    chart = CHART + "dependencies:\n  - name: redis\n    version: 19.0.0\n    repository: https://charts.example.com\n"
    root = chart_repo(tmp_path, {"charts/shop/Chart.yaml": chart})
    _, report = check(root)
    assert found(report, ("PRR",)) == [
        ("PRR006", "charts/shop/Chart.yaml", 5,
         "dependency redis of chart shop is missing (not vendored in charts/ nor a file:// path): the chart was "
         "rendered without it, so its objects were not checked"),
    ]


def test_file_dependency_is_rendered_at_its_own_templates(tmp_path):
    chart = CHART + "dependencies:\n  - name: worker\n    version: 0.1.0\n    repository: file://../worker\n"
    worker = DEPLOYMENT.replace("name: {{ .Release.Name }}", "name: {{ .Release.Name }}-worker") \
        .replace("type: Recreate", "type: RollingUpdate").replace("{{ .Values.replicaCount }}", "2")
    root = chart_repo(tmp_path, {"charts/shop/Chart.yaml": chart,
                                 "charts/worker/Chart.yaml": "apiVersion: v2\nname: worker\nversion: 0.1.0\n",
                                 "charts/worker/values.yaml": VALUES,
                                 "charts/worker/templates/deployment.yaml": worker})
    _, report = check(root)
    worker_findings = [f[:3] for f in found(report) if f[1].startswith("charts/worker/")]
    # rendered once, as a part of shop (not on its own too), with shop's release name
    assert worker_findings == [
        ("K8S003", "charts/worker/templates/deployment.yaml", 28),
        ("K8S006", "charts/worker/templates/deployment.yaml", 4),
    ]
    assert "Deployment shop-worker:" in next(f[3] for f in found(report) if f[0] == "K8S006")
    assert not [f for f in found(report) if f[0] == "PRR006"]


def test_library_chart_is_not_rendered(tmp_path):
    root = write(str(tmp_path), {
        "charts/common/Chart.yaml": "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n",
        "charts/common/templates/_names.tpl": '{{- define "common.name" -}}{{ .Chart.Name }}{{- end }}\n',
        "charts/common/templates/broken.yaml": "kind: {{ .Values.a.b.c }}\n",
    })
    proc, report = check(root)
    assert found(report) == []
    assert proc.returncode == 0


def test_without_the_sdk_one_notice_and_values_rules(tmp_path):
    blocker = write(str(tmp_path / "blocker"), {"helm_python/__init__.py": "raise ImportError('not installed')\n"})
    root = chart_repo(tmp_path / "repo", {"charts/shop/values.yaml": VALUES.replace("replicaCount: 3",
                                                                                    "replicaCount: 1")})
    env = {"PYTHONPATH": blocker}
    _, report = check(root, env=env)
    assert [f[:3] for f in found(report)] == [("HELM002", "charts/shop/values.yaml", 1)]
    notices = [n for n in report["notices"] if "not rendered" in json.dumps(n)]
    assert len(notices) == 1
    assert "helm-python-sdk is not installed" in json.dumps(notices[0])


def test_an_sdk_that_cannot_run_here_is_one_notice_and_values_rules(tmp_path):
    blocker = write(str(tmp_path / "blocker"), {"helm_python/__init__.py": (
        "class HelmLibraryError(Exception):\n    pass\n\n\n"
        "def helm_sdk_version():\n    raise HelmLibraryError('libhelm_c.so: cannot open shared object file')\n")})
    root = chart_repo(tmp_path / "repo", {"charts/shop/values.yaml": VALUES.replace("replicaCount: 3",
                                                                                    "replicaCount: 1")})
    _, report = check(root, env={"PYTHONPATH": blocker})
    assert [f[:3] for f in found(report)] == [("HELM002", "charts/shop/values.yaml", 1)]
    assert [n["message"] for n in report["notices"] if "not rendered" in n["message"]] == [
        "Helm templates were not rendered: helm-python-sdk cannot run here (HelmLibraryError: libhelm_c.so: cannot "
        "open shared object file); Helm values are checked by HELM001-005 only"]


def test_symlink_out_of_the_chart_is_not_read(tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("top secret\n")
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  s: {{ .Files.Get \"leak.txt\" | quote }}\n"
    root = chart_repo(tmp_path / "repo", {"charts/shop/templates/cm.yaml": cm})
    os.symlink(str(secret), os.path.join(root, "charts/shop/leak.txt"))
    from prr_lint.engine import Options, run

    result = run(Options(paths=[root], root=root, use_cache=False))
    maps = [d for d in result.docs if d.file == "charts/shop/templates/cm.yaml"]
    assert [d.data["data"] for d in maps] == [{"s": ""}]


# -- markers ------------------------------------------------------------------------------------------------

def test_markers_keep_lines_and_skip_unsafe_places():
    template = ("a: 1\n"
                "{{- if .Values.x }}\n"
                "b: {{ .Values.b }}\n"
                "{{- end }}\n"
                "c: |\n"
                "  text {{ .Values.c }}\n"
                "d: {{ toYaml .Values.d\n"
                "   | nindent 2 }}\n"
                "e: [1,\n"
                "  2]\n"
                "f:\n"
                "  {{- toYaml .Values.f | nindent 2 }}\n")
    marked, count = instrument(template)
    lines = marked.split("\n")
    assert len(lines) == len(template.split("\n"))
    assert [n for n, line in enumerate(lines, 1) if "# prr-line:" in line] == [1, 3, 5, 11, 12]
    assert count == 5
    assert lines[2] == "b: {{ .Values.b }}  # prr-line:3"


def test_unmarked_rendered_lines_take_the_next_marker():
    rendered = "a: 1  # prr-line:1\nf:  # prr-line:11\n  x: 1\n  y: 2  # prr-line:12\n---\nz: 1\n"
    assert source_lines(rendered) == [1, 11, 12, 12, None, None, None]


def test_overlay_with_a_date_and_an_overlay_that_is_no_mapping(tmp_path):
    root = chart_repo(tmp_path, {"charts/shop/values-prod.yaml": "released: 2026-11-01\nreplicaCount: 4\n",
                                 "charts/shop/values.production.yaml": "- a list\n"})
    _, report = check(root)
    assert [f[:3] for f in found(report)] == [
        ("K8S003", "charts/shop/templates/deployment.yaml", 28),
        ("K8S008", "charts/shop/templates/deployment.yaml", 11),
    ]


def test_rendered_objects_map_to_their_template_and_test_hooks_are_dropped(tmp_path):
    root = chart_repo(tmp_path, {"charts/shop/values-prod.yaml": "replicaCount: 4\n"})
    from prr_lint.engine import Options, run

    result = run(Options(paths=[root], root=root, use_cache=False))
    rendered = sorted((d.file, d.data["kind"], d.meta["values"]) for d in result.docs if "value_origin" in d.meta)
    assert rendered == [
        ("charts/shop/templates/deployment.yaml", "Deployment", "values-prod.yaml"),
        ("charts/shop/templates/deployment.yaml", "Deployment", "values.yaml"),
        ("charts/shop/templates/pdb.yaml", "PodDisruptionBudget", "values.yaml"),   # the same in both renders
    ]
    prod = next(d for d in result.docs if d.meta.get("values") == "values-prod.yaml")
    assert prod.service == "shop"
    assert prod.locate(("spec", "replicas")).line == 8
    assert prod.locate(("spec", "strategy", "type")).line == 11
    assert prod.locate(("spec", "template", "spec", "containers", 0, "resources", "limits", "memory")).line == 33
    assert prod.meta["value_origin"][("spec", "replicas")] == "charts/shop/values-prod.yaml:1"
    assert prod.meta["value_origin"][("spec", "template", "spec", "containers", 0, "resources", "limits",
                                      "memory")] == "charts/shop/values.yaml:7"


def test_block_scalar_content_is_never_marked_across_control_lines():
    template = ("data:\n"
                "{{- range $key, $value := .Values.files }}\n"
                "  {{ $key }}: |\n"
                "{{- if eq $key \"a\" }}\n"
                "    global:\n"
                "{{ $value | indent 6 }}\n"
                "{{- end }}\n"
                "{{- end }}\n"
                "kind: ConfigMap\n")
    marked, _ = instrument(template)
    assert [n for n, line in enumerate(marked.split("\n"), 1) if "# prr-line:" in line] == [1, 3, 9]


def test_vendored_archive_dependency_is_rendered_at_its_chart_yaml_line(tmp_path):
    import io
    import tarfile

    cache = DEPLOYMENT.replace("name: {{ .Release.Name }}", "name: {{ .Release.Name }}-cache") \
        .replace("type: Recreate", "type: RollingUpdate").replace("{{ .Values.replicaCount }}", "1")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, text in {"cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.3.0\n",
                           "cache/values.yaml": VALUES, "cache/templates/deployment.yaml": cache}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    chart = CHART + "dependencies:\n  - name: cache\n    version: 0.3.0\n    repository: https://charts.example.com\n"
    root = chart_repo(tmp_path, {"charts/shop/Chart.yaml": chart, "charts/shop/charts/cache-0.3.0.tgz": b""})
    with open(os.path.join(root, "charts/shop/charts/cache-0.3.0.tgz"), "wb") as fh:
        fh.write(archive.getvalue())
    _, report = check(root)
    # its objects are checked; what they get wrong is set where the chart names the dependency
    assert [f[:3] for f in found(report) if f[1] == "charts/shop/Chart.yaml"] == [
        ("K8S003", "charts/shop/Chart.yaml", 5),
        ("K8S005", "charts/shop/Chart.yaml", 5),
    ]
    assert "Deployment shop-cache:" in next(f[3] for f in found(report) if f[0] == "K8S005")


def test_a_run_scoped_to_one_template_renders_its_chart(tmp_path):
    root = chart_repo(tmp_path, {"charts/shop/values-prod.yaml": "replicaCount: 1\n"})
    proc = run_cli("check", "--no-cache", "--format", "json", "charts/shop/templates/deployment.yaml", cwd=root)
    report = json.loads(proc.stdout)
    assert [f[:3] for f in found(report)] == [
        ("K8S003", "charts/shop/templates/deployment.yaml", 28),
        ("K8S005", "charts/shop/templates/deployment.yaml", 8),     # with the prod overlay, read for the render
        ("K8S008", "charts/shop/templates/deployment.yaml", 11),
    ]


def test_a_template_that_renders_for_too_long_is_given_up(tmp_path, monkeypatch):
    import prr_lint.render.helm as helm_renderer
    from prr_lint.engine import Options, run

    slow = "{{- range until 4000 }}{{ range until 4000 }}{{ end }}{{ end }}\n" + PDB
    root = chart_repo(tmp_path, {"charts/shop/templates/pdb.yaml": slow})
    monkeypatch.setattr(helm_renderer, "RENDER_TIMEOUT", 0.2)
    result = run(Options(paths=[root], root=root, use_cache=False))
    assert [(f.rule_id, f.file, f.span.line, f.message) for f in result.findings if f.rule_id == "PRR005"] == [
        ("PRR005", "charts/shop/Chart.yaml", 1,
         "chart shop could not be rendered: rendering took longer than 0.2 seconds; given up")]


def test_multi_line_scalars_keep_their_text_and_their_key_line():
    template = ("spec:\n"
                "  description: spec defines the\n"
                "    specification of\n"
                "    the thing.\n"
                "  items:\n"
                "  - first item\n"
                "    continued\n"
                "  - name: x\n"
                "    image: y\n"
                "    args:\n"
                "      - {{ .Values.arg | quote }}\n"
                "    ports:\n")
    marked, _ = instrument(template)
    assert marked.split("\n") == [
        "spec:  # prr-line:1",
        "  description: spec defines the",
        "    specification of",
        "    the thing.  # prr-line:2",      # the scalar's last line carries its key's line
        "  items:  # prr-line:5",
        "  - first item",
        "    continued  # prr-line:6",
        "  - name: x  # prr-line:8",
        "    image: y  # prr-line:9",
        "    args:  # prr-line:10",
        "      - {{ .Values.arg | quote }}  # prr-line:11",   # an item made by an action opens no scalar
        "    ports:  # prr-line:12",
        "",
    ]
    import yaml

    plain = template.replace("{{ .Values.arg | quote }}", "x")
    assert yaml.safe_load(marked.replace("{{ .Values.arg | quote }}", "x")) == yaml.safe_load(plain)
    assert source_lines(marked)[:4] == [1, 2, 2, 2]


def test_rendered_output_that_is_not_yaml_is_prr005_at_the_template_line(tmp_path):
    bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  a: b: c\n"
    root = chart_repo(tmp_path, {"charts/shop/templates/cm.yaml": bad})
    _, report = check(root)
    assert found(report, ("PRR",)) == [
        ("PRR005", "charts/shop/templates/cm.yaml", 6,
         "chart shop rendered with values.yaml: the output of templates/cm.yaml cannot be read: invalid YAML: "
         "mapping values are not allowed in this context"),
    ]


def test_a_file_dependency_named_as_a_path_never_leaves_the_copy(tmp_path):
    import tempfile

    # from the copy's charts/ directory (<tmp>/prr-helm-*/chart/charts) up and into this test's directory
    name = os.path.relpath(str(tmp_path / "escaped"), os.path.join(tempfile.gettempdir(), "x", "chart", "charts"))
    chart = CHART + f"dependencies:\n  - name: {name}\n    version: 0.1.0\n    repository: file://../worker\n"
    root = chart_repo(tmp_path / "repo", {"charts/shop/Chart.yaml": chart,
                                          "charts/worker/Chart.yaml": "apiVersion: v2\nname: worker\nversion: 0.1.0\n"})
    _, report = check(root)
    assert [f[:3] for f in found(report, ("PRR",))] == [("PRR006", "charts/shop/Chart.yaml", 5)]
    assert not list(tmp_path.glob("**/escaped"))


def test_templates_cannot_resolve_names_nor_read_the_environment(tmp_path):
    from prr_lint.engine import Options, run

    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  ip: \"{{ getHostByName \"localhost\" }}\"\n"
    root = chart_repo(tmp_path / "dns", {"charts/shop/templates/cm.yaml": cm})
    result = run(Options(paths=[root], root=root, use_cache=False))
    assert [d.data["data"] for d in result.docs if d.file == "charts/shop/templates/cm.yaml"] == [{"ip": ""}]

    root = chart_repo(tmp_path / "env", {"charts/shop/templates/env.yaml": "a: {{ env \"HOME\" }}\n"})
    result = run(Options(paths=[root], root=root, use_cache=False))
    # `env` is no template function in Helm: the chart does not render
    assert [(f.rule_id, f.file, f.span.line) for f in result.findings if f.rule_id == "PRR005"] == [
        ("PRR005", "charts/shop/templates/env.yaml", 1)]


def test_a_gate_cannot_turn_off_ignore_or_waive_a_chart_that_does_not_render(tmp_path):
    broken = DEPLOYMENT.replace("{{ .Values.replicaCount }}", "{{ .Values.replicaCount | nosuchfunc }}")
    chart = CHART + "dependencies:\n  - name: redis\n    version: 19.0.0\n    repository: https://charts.example.com\n"
    waive = "waivers:\n" + "".join(
        f"  - rule: {rule}\n    target: {{path: '**'}}\n    reason: trust me\n    owner: someone\n"
        "    expires: 2099-01-01\n"
        for rule in ("PRR005", "render-failed", "PRR006", "render-incomplete"))
    root = chart_repo(tmp_path, {
        "charts/shop/templates/deployment.yaml": broken, "charts/shop/Chart.yaml": chart,
        ".prr-lint.yaml": "ignore: [PRR005, PRR006]\nseverity: {PRR005: 'off', render-incomplete: 'off'}\n",
        ".prr-waivers.yaml": waive})
    proc = run_cli("gate", "--no-cache", root, cwd=root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "charts/shop/templates/deployment.yaml:8: cannot render:" in proc.stdout
    assert "charts/shop/Chart.yaml:5: rendered in part: dependency redis of chart shop is missing" in proc.stdout


def test_markers_never_change_what_yaml_says():
    """Any YAML (block or flow, folded plain scalars, quoted and block strings, any value) with keys as
    Kubernetes objects have them: marked, it reads the same."""
    import yaml
    from hypothesis import given, settings
    from hypothesis import strategies as st

    text = st.text(st.sampled_from("ab :#-'\"|>{}[],\n\\"), max_size=30)
    keys = st.text(st.sampled_from("ab-_./1"), min_size=1, max_size=8)     # keys as Kubernetes writes them
    scalars = st.one_of(text, st.integers(), st.booleans(), st.none())
    trees = st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
        max_leaves=20)

    @settings(max_examples=300, deadline=None)
    @given(trees, st.integers(min_value=12, max_value=60), st.sampled_from([None, "|", '"', "'"]), st.booleans())
    def check(tree, width, style, flow):
        source = yaml.safe_dump({"root": tree}, width=width, default_style=style, default_flow_style=flow)
        marked, _ = instrument(source)
        assert yaml.safe_load(marked) == yaml.safe_load(source), (source, marked)

    check()


def test_a_vendored_dependency_of_another_version_is_prr006(tmp_path):
    chart = CHART + "dependencies:\n  - name: cache\n    version: 0.3.0\n    repository: https://charts.example.com\n"
    vendored = "apiVersion: v2\nname: cache\nversion: 0.2.0\n"
    root = chart_repo(tmp_path, {"charts/shop/Chart.yaml": chart, "charts/shop/charts/cache/Chart.yaml": vendored})
    _, report = check(root)
    assert found(report, ("PRR",)) == [
        ("PRR006", "charts/shop/Chart.yaml", 5,
         "dependency cache of chart shop in charts/ is wrong version: what was rendered and checked is not the "
         "dependency Chart.yaml asks for"),
    ]


def test_a_dependency_switched_on_in_production_only_is_needed(tmp_path):
    chart = (CHART + "dependencies:\n  - name: redis\n    version: 19.0.0\n    repository: https://charts.example.com\n"
             "    condition: redis.enabled\n")
    values = VALUES + "redis:\n  enabled: false\n"
    root = chart_repo(tmp_path / "off", {"charts/shop/Chart.yaml": chart, "charts/shop/values.yaml": values})
    _, report = check(root)
    assert found(report, ("PRR",)) == []
    root = chart_repo(tmp_path / "prod", {"charts/shop/Chart.yaml": chart, "charts/shop/values.yaml": values,
                                          "charts/shop/values-prod.yaml": "redis:\n  enabled: true\n"})
    _, report = check(root)
    assert [f[:3] for f in found(report, ("PRR",))] == [("PRR006", "charts/shop/Chart.yaml", 5)]


def test_custom_resource_definitions_are_not_read_and_keep_the_lines_after_them(tmp_path):
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x.example.com\n"
           "spec:\n  group: example.com\n---\n")
    root = chart_repo(tmp_path, {"charts/shop/templates/deployment.yaml": crd + DEPLOYMENT})
    from prr_lint.engine import Options, run

    result = run(Options(paths=[root], root=root, use_cache=False))
    kinds = sorted(d.data["kind"] for d in result.docs if d.file == "charts/shop/templates/deployment.yaml")
    assert kinds == ["Deployment"]
    assert [(f.rule_id, f.span.line) for f in result.findings if f.rule_id in ("K8S003", "K8S008")] == [
        ("K8S008", 11 + 7), ("K8S003", 28 + 7)]
