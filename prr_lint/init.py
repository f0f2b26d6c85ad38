"""`prr-lint init`: discover what a repository deploys, group it into services, write a manifest per service.

Discovery reads the repository the way a check does (same loaders, same limits, nothing executed) and collects
*artifacts*: workloads, charts, Kustomize apps, Terraform directories, alert files, OpenSLO/Sloth specs and
runbook-like Markdown. Each artifact gets a service name: the deepest directory of its path that is not a generic
one (`services/checkout/k8s/deploy.yaml` -> checkout, `charts/web/` -> web), else the name it declares (a
workload's `metadata.name`, an alert file's stem: `alerts/web-rules.yaml` -> web). A name becomes a service when
something of it is deployed (a workload, chart, overlay or Terraform directory) or has an SLO; artifacts of other
names are listed, not guessed.

Manifests are written with ruamel.yaml (round-trip): a new one holds what was found (name, deploy and alert
claims, runbooks) and commented TODOs for what cannot be found (owner, tier, on-call, rollback, DR). An existing
manifest is never rewritten: only claims it lacks are added, its comments and order kept. `--dry-run` shows the
changes as a diff and writes nothing.
"""

from __future__ import annotations

import difflib
import io
import os
import posixpath
import sys
from dataclasses import dataclass, field

from .errors import UsageError
from .escape import one_line

GENERIC_DIRS = frozenset("""
services service apps app applications components deploy deployment deployments k8s kube kubernetes manifests
charts chart helm infra infrastructure terraform tf modules alerts alerting monitoring prometheus rules docs
runbooks runbook slos slo overlays overlay base bases prod production staging stage dev development test
environments environment envs env templates src config configs ops platform
""".split())
NAME_SUFFIXES = ("-deployment", "-deploy", "-statefulset", "-daemonset", "-rollout", "-cronjob", "-service", "-svc",
                 "-chart", "-rules", "-alerts", ".rules", ".alerts", "-alerting", "-runbook", "-slos", "-slo", "-tf",
                 "-infra", "-prometheusrule")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Rollout", "CronJob", "Job", "ReplicationController")
DEPLOYED = ("kubernetes", "helm", "kustomize", "terraform")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MANIFEST_NAME = "service.yaml"
TODO = "TODO(prr-lint init)"


@dataclass
class Artifact:
    kind: str                     # kubernetes, helm, kustomize, terraform, alerts, slo, runbook
    path: str                     # repository-relative file, or directory with a trailing "/"
    name: str                     # the service it belongs to


@dataclass
class Plan:
    name: str
    manifest: str                 # repository-relative path of the manifest to write or extend
    artifacts: list[Artifact] = field(default_factory=list)
    existing: bool = False


def normalize(name: str) -> str:
    name = name.lower().strip()
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name.strip("-._")


def path_name(path: str) -> str | None:
    """The deepest directory of a path that is not a generic one (services/checkout/k8s/x.yaml -> checkout)."""
    parts = path.rstrip("/").split("/")
    dirs = parts if path.endswith("/") else parts[:-1]
    for part in reversed(dirs):
        if part and part.lower() not in GENERIC_DIRS and not part.startswith("."):
            return normalize(part)
    return None


def _stem(path: str) -> str:
    base = posixpath.basename(path.rstrip("/"))
    for ext in (".yaml", ".yml", ".md", ".json", ".tf"):
        if base.endswith(ext):
            base = base[: -len(ext)]
    return base


def _valid_name(name: str | None) -> str | None:
    import re

    if not name:
        return None
    name = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
    return name or None


# -- discovery -----------------------------------------------------------------------------------------------
def discover(repo, docs, graph, anchor: str) -> tuple[list[Artifact], list[str]]:
    """(artifacts not yet claimed by any manifest, files found that could not be given a service)."""
    from .service import slo_service_name

    found: dict[str, Artifact] = {}
    unnamed: list[str] = []

    def add(kind: str, path: str, declared: str | None) -> None:
        if graph.owner_of(path.rstrip("/")) is not None or path in found:
            return
        name = _valid_name(path_name(path) or (normalize(declared) if declared else None))
        if name is None:
            unnamed.append(path)
        else:
            found[path] = Artifact(kind, path, name)

    chart_dirs = sorted(repo.chart_dirs)
    kustomize_apps = _kustomize_apps(repo.files)
    grouped_dirs = [d + "/" for d in chart_dirs] + [d + "/" for d in kustomize_apps]

    def in_grouped(rel: str) -> bool:
        return any(rel.startswith(d) for d in grouped_dirs)

    for directory in chart_dirs:
        add("helm", directory + "/", posixpath.basename(directory))
    for directory in kustomize_apps:
        add("kustomize", directory + "/", posixpath.basename(directory))
    tf_dirs: set[str] = set()
    for doc in docs:
        if in_grouped(doc.file):
            continue
        if doc.kind == "k8s" and doc.get(("kind",)) in WORKLOAD_KINDS:
            add("kubernetes", doc.file, doc.get(("metadata", "name")))
        elif doc.kind == "terraform":
            tf_dirs.add(posixpath.dirname(doc.file))
        elif doc.kind == "prometheus-rules":
            add("alerts", doc.file, _stem(doc.file))
        elif doc.kind in ("openslo", "sloth") and not doc.service:
            add("slo", doc.file, slo_service_name(doc))
    for doc in docs:   # objects beside the workloads (Service, PDB, HPA) go with the workloads of their file
        if doc.kind == "k8s" and doc.file not in found and not in_grouped(doc.file):
            workload = next((a for a in found.values() if a.kind == "kubernetes"
                             and posixpath.dirname(a.path) == posixpath.dirname(doc.file)), None)
            if workload is not None and graph.owner_of(doc.file) is None:
                found[doc.file] = Artifact("kubernetes", doc.file, workload.name)
    for directory in sorted(tf_dirs):
        add("terraform", (directory + "/") if directory else "", posixpath.basename(directory))
    for rel in repo.files:
        if rel.lower().endswith(".md") and "runbook" in rel.lower():
            add("runbook", rel, _stem(rel))
    return sorted(found.values(), key=lambda a: a.path), unnamed


def _kustomize_apps(files) -> list[str]:
    """Directories holding Kustomize trees: the parent of `base/` + `overlays/`, else each kustomization's own."""
    dirs = sorted({posixpath.dirname(f) for f in files if posixpath.basename(f) in KUSTOMIZATION_FILES})
    apps: set[str] = set()
    for d in dirs:
        parts = d.split("/")
        for i, part in enumerate(parts):
            if part in ("base", "bases", "overlays", "components"):
                apps.add("/".join(parts[:i]))
                break
        else:
            apps.add(d)
    # an app inside another app's tree is part of it
    return [a for a in sorted(apps) if a and not any(a != b and b and a.startswith(b + "/") for b in apps)]


# -- grouping --------------------------------------------------------------------------------------------------
def plan_services(artifacts: list[Artifact], graph, anchor: str, files) -> tuple[list[Plan], list[Artifact]]:
    """One plan per service name that has something deployed or an SLO (or an existing manifest)."""
    by_name: dict[str, list[Artifact]] = {}
    for a in artifacts:
        by_name.setdefault(a.name, []).append(a)
    plans: list[Plan] = []
    left: list[Artifact] = []
    dirs = {posixpath.dirname(f) for f in files}
    for name, items in sorted(by_name.items()):
        existing = graph.by_name.get(name)
        if existing is None and not any(a.kind in DEPLOYED or a.kind == "slo" for a in items):
            left.extend(items)
            continue
        if existing is not None:
            if existing.manifest.kind != "service":
                left.extend(items)   # a Backstage Component: its annotations are the user's to write
                continue
            plans.append(Plan(name, existing.manifest.file, items, existing=True))
            continue
        plans.append(Plan(name, _manifest_place(name, items, anchor, dirs, by_name), items))
    return plans, left


def _manifest_place(name: str, items: list[Artifact], anchor: str, dirs: set, by_name: dict) -> str:
    """The directory of the service's files when it is named for the service, else services/<name>/."""
    paths = [a.path.rstrip("/") if a.path.endswith("/") else posixpath.dirname(a.path) for a in items]
    common = posixpath.commonpath(paths) if paths and all(paths) else ""
    while common:
        if posixpath.basename(common) == name or normalize(posixpath.basename(common)) == name:
            return posixpath.join(common, MANIFEST_NAME)
        common = posixpath.dirname(common)
    base = posixpath.join(anchor, "services") if anchor else "services"
    return posixpath.join(base, name, MANIFEST_NAME)


# -- writing ---------------------------------------------------------------------------------------------------
def _ref(path: str, manifest_dir: str, anchor: str) -> str:
    """A claim as the manifest writes it: relative under its directory, else /-anchored at the project root."""
    if manifest_dir and (path + "/").startswith(manifest_dir + "/") and path != manifest_dir:
        return path[len(manifest_dir) + 1:]
    rel = path[len(anchor) + 1:] if anchor and path.startswith(anchor + "/") else path
    return "/" + rel


def _claims(plan: Plan, anchor: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    directory = posixpath.dirname(plan.manifest)
    for a in plan.artifacts:
        key = {"slo": None}.get(a.kind, a.kind)
        if key is None:
            continue
        out.setdefault(key, []).append(_ref(a.path, directory, anchor))
    return out


def new_manifest(plan: Plan, anchor: str) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    claims = _claims(plan, anchor)
    doc = CommentedMap()
    doc["apiVersion"] = "prr-lint/v1"
    doc["kind"] = "Service"
    meta = CommentedMap()
    meta["name"] = plan.name
    doc["metadata"] = meta
    spec = CommentedMap()
    deploy = CommentedMap()
    for kind in DEPLOYED:
        if claims.get(kind):
            deploy[kind] = _flow(CommentedSeq(claims[kind]))
    if deploy:
        spec["deploy"] = deploy
    if claims.get("alerts"):
        spec["alerts"] = _flow(CommentedSeq(claims["alerts"]))
    if claims.get("runbook"):
        spec["runbooks"] = _flow(CommentedSeq(claims["runbook"]))
    doc["spec"] = spec
    # left out rather than guessed: a placeholder owner or tier would pass the rules that ask for them
    doc.yaml_set_comment_before_after_key("spec", before=f"{TODO}: who owns it and how critical it is:\n"
                                          "owner: team-x\ntier: 1      # 0 (most critical) to 3", indent=2)
    slo_files = [a.path for a in plan.artifacts if a.kind == "slo"]
    todo = [
        f"{TODO}: what prr-lint could not find. Fill these in (see the README's service manifest):",
        "oncall: {rotation: pagerduty/PXXXXXX, escalation: docs/oncall.md}",
    ]
    if slo_files:
        todo.append(f"SLOs: {', '.join(slo_files)} join this service by name")
    else:
        todo.append("slos: [{name: availability, objective: 99.9, window: 30d, sli: {good: ..., total: ...}}]")
    if not claims.get("runbook"):
        todo.append("runbooks: [docs/runbook.md]")
    todo += ["rollback: {strategy: rolling, automated: true, procedure: docs/runbook.md#rollback}",
             "dr: {rto: 4h, rpo: 1h, backups: true}"]
    out = io.StringIO()
    out.write("# yaml-language-server: $schema=https://raw.githubusercontent.com/prr-lint/prr-lint/main/schemas/service.schema.json\n")
    out.write(f"# Written by `prr-lint init`: {len(plan.artifacts)} file(s) found for this service.\n")
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump(doc, out)
    out.write("".join(f"  # {line}\n" for line in todo))
    return out.getvalue()


def _flow(seq):
    seq.fa.set_flow_style()
    return seq


def extend_manifest(text: str, plan: Plan, anchor: str) -> str | None:
    """The manifest with the claims it lacks added (comments and order kept), or None when it lacks none."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = YAML()
    yaml.preserve_quotes = True
    try:
        doc = yaml.load(text)
    except Exception as e:  # ruamel raises many error types; the file was parsed once already by the check
        raise UsageError(f"{plan.manifest}: cannot read the manifest to extend it: {type(e).__name__}") from None
    if not isinstance(doc, dict):
        return None
    spec = doc.setdefault("spec", CommentedMap())
    claims = _claims(plan, anchor)
    changed = False

    def extend(container, key: str, refs: list[str]) -> None:
        nonlocal changed
        current = container.get(key)
        items = [current] if isinstance(current, str) else list(current or [])
        new = [r for r in refs if r not in items]
        if not new:
            return
        if isinstance(current, list):
            current.extend(new)
        else:
            container[key] = _flow(CommentedSeq(items + new))
        changed = True

    deploy_claims = {k: claims[k] for k in DEPLOYED if claims.get(k)}
    if deploy_claims:
        deploy = spec.setdefault("deploy", CommentedMap())
        for kind, refs in deploy_claims.items():
            extend(deploy, kind, refs)
    if claims.get("alerts"):
        extend(spec, "alerts", claims["alerts"])
    if claims.get("runbook"):
        extend(spec, "runbooks", claims["runbook"])
    if not changed:
        return None
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


# -- the command ---------------------------------------------------------------------------------------------
def add_commands(subparsers) -> None:
    p = subparsers.add_parser("init", help="discover services and write a service.yaml for each (never overwrites)")
    p.add_argument("path", nargs="?", default=".", help="repository or project directory (default: .)")
    p.add_argument("-c", "--config", help="config file (default: nearest .prr-lint.yaml or pyproject.toml)")
    p.add_argument("--dry-run", action="store_true", help="show what would be written, as a diff; write nothing")
    p.add_argument("--no-check", action="store_true", help="do not run `check` afterwards")
    p.set_defaults(handler=cmd_init)


def _options(args):
    from .cli import make_options

    class Args:   # the run arguments of `check`, at their defaults
        paths = [args.path]
        config = args.config
        select: list = []
        ignore: list = []
        no_cache = True
        cache_dir = None
        allow_config_cache_dir = False
        today = None
        trust_repo_rules = False

    return make_options(Args())


def cmd_init(args) -> int:
    from .engine import Engine

    if not os.path.isdir(args.path):
        raise UsageError(f"{args.path}: not a directory")
    engine = Engine(_options(args))
    repo, graph, _loaded, docs = engine.load()
    artifacts, unnamed = discover(repo, docs, graph, engine.anchor)
    plans, left = plan_services(artifacts, graph, engine.anchor, repo.files)
    changes: list[tuple[str, str, str]] = []   # (path, old text, new text)
    for plan in plans:
        full = os.path.join(engine.root, plan.manifest)
        if plan.existing:
            old = repo.read(plan.manifest) or ""
            new = extend_manifest(old, plan, engine.anchor)
            if new is not None:
                changes.append((plan.manifest, old, new))
        elif os.path.lexists(full):
            raise UsageError(f"{plan.manifest}: exists but is not a service manifest; not overwritten")
        else:
            changes.append((plan.manifest, "", new_manifest(plan, engine.anchor)))
    out = sys.stdout
    for path, old, new in changes:
        if args.dry_run:
            out.write("".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                   "/dev/null" if not old else f"a/{path}", f"b/{path}")))
        else:
            _write(os.path.join(engine.root, path), new)
    verb = "would write" if args.dry_run else "wrote"
    for plan in plans:
        if any(path == plan.manifest for path, _, _ in changes):
            what = "claims added" if plan.existing else "new manifest"
            print(f"prr-lint init: {verb} {one_line(plan.manifest)} ({what}: {plan.name}, "
                  f"{len(plan.artifacts)} file(s))")
    if not changes:
        print("prr-lint init: every file found already belongs to a service; nothing to write")
    for a in left:
        print(f"prr-lint init: not grouped: {one_line(a.path)} ({a.kind}; nothing deployed is named {a.name!r})")
    for path in unnamed:
        print(f"prr-lint init: not grouped: {one_line(path)} (no service name in its path or content)")
    if args.dry_run or args.no_check:
        return 0
    return _summary(args)


def _write(path: str, text: str) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "x" if not os.path.exists(path) else "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise UsageError(f"{path}: cannot write: {e.strerror}") from None


def _summary(args) -> int:
    """Run the check and print, per service, what it still lacks."""
    from .engine import run
    from .reporters import counts

    result = run(_options(args))
    print()
    print("Readiness after init (prr-lint check):")
    by_service: dict[str | None, list] = {}
    for f in result.active:
        by_service.setdefault(f.service, []).append(f)
    width = max([7] + [len(one_line(s.name)) for s in result.services])
    print(f"  {'service':<{width}}  tier  errors  warnings  most common")
    for s in sorted(result.services, key=lambda s: s.name):
        mine = by_service.get(s.name, [])
        c = counts(mine)
        rules: dict[str, int] = {}
        for f in mine:
            rules[f.rule_id] = rules.get(f.rule_id, 0) + 1
        top = ", ".join(r for r, _ in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))[:4])
        print(f"  {one_line(s.name):<{width}}  {s.tier:<4}  {c['error']:<6}  {c['warning']:<8}  {top}")
    unowned = by_service.get(None, [])
    if unowned:
        print(f"  {'(no service)':<{width}}  -     {len(unowned)} finding(s) in files no service claims")
    print("Run `prr-lint check` for the findings; fill in the TODOs in each service.yaml.")
    return 0
