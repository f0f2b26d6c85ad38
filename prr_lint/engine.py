"""Run rules over a repository: load, join into services, check, resolve severity, suppress, sort, fingerprint."""

from __future__ import annotations

import datetime
import hashlib
import os
import sys
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from . import heap
from .config import Config
from .depgraph import of as dependency_graph
from .discover import git_toplevel, inside
from .errors import UsageError
from .memo import save_run_memos
from .model import ORIGINS, SEVERITY_RANK, Document, Finding, Hit, Span
from .registry import check_selectors, load_rules, severity_key
from .render import Rendered, RenderJob, meanwhile, render_all
from .render import begin as begin_renders
from .render import inputs as render_inputs
from .repo import DEFAULT_MIN_FILES, Repository
from .rule import ENGINE, PARSE_ERROR, RULE_ERROR, SERVICE, Rule
from .service import Service, ServiceGraph
from .timing import Timing, timed
from .verdicts import verdicts_of

EARLY_RENDER_CHARTS = 256     # charts a whole run begins rendering while it parses (see Engine.load)

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from .baseline import BaselineSummary
    from .cache import ParseCache
    from .depgraph import DependencyGraph
    from .diff import DiffSummary
    from .git import History
    from .loaders import Loaded
    from .replay import Replay
    from .waivers import Waiver

Notice = tuple[str, str]          # (file, message): a run-level note, never a finding


@dataclass
class Settings:
    """What rules may know of the configuration: resolved numbers and lists, never the raw config."""

    default_tier: int
    tiers: dict[int, dict[str, Any]]
    runbook_hosts: list[str]
    repo_url: str | None
    alert_severities: list[str]
    availability_slos: dict[str, list[str]] = field(default_factory=dict)   # SVC061: {types, names}
    promql_dialect: str = "promql"
    promql_functions: dict[str, Any] = field(default_factory=dict)   # functions beyond PromQL this run accepts


@dataclass
class RuleContext:
    tier: int
    policy: dict[str, Any]        # the tier's numbers (min_replicas, min_objective, ...)
    service: Service | None
    graph: ServiceGraph
    repo: Repository
    settings: Settings
    today: datetime.date
    # run-level notes a rule may add (file, message), e.g. "git history unavailable": never findings
    notices: list[Notice] = field(default_factory=list)
    narrow: bool = False          # the run checks part of the repository (paths given): look up little

    def note(self, file: str, message: str) -> None:
        if (file, message) not in self.notices:
            self.notices.append((file, message))

    def validate(self, instance: Any, schema_name: str) -> list[ValidationError]:
        """JSON Schema errors of `instance` against a published schema (schemas/), most specific first; a
        document the parse cache knows to be valid is not validated again (verdicts.py)."""
        return verdicts_of(self.repo).errors(instance, schema_name)

    def dependencies(self) -> DependencyGraph:
        """The run's service dependency graph (SVC060-062): edges, tiers, availability SLOs, cycles."""
        return dependency_graph(self.graph, self.settings.availability_slos)

    def history(self) -> History:
        """The repository's git history (file ages), read once per run."""
        from .git import history

        return history(self.repo.root, self.repo.memo, self.narrow, self.repo.files)


@dataclass
class Options:
    paths: list[str] = field(default_factory=lambda: ["."])
    config: Config = field(default_factory=Config)
    root: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    today: datetime.date | None = None    # None: the clock (the CLI sets --today or PRR_LINT_TODAY here)
    use_cache: bool = True
    # the parse cache, as plain values resolved by the command line (never from the environment here):
    # the user's cache directory (holds the MAC key; no cache without it) and an explicit cache directory
    cache_home: str | None = None
    cache_dir: str | None = None
    notices: list[Notice] = field(default_factory=list)   # (file, message) found before the run, e.g. by the CLI
    extra_rules: list[Rule] = field(default_factory=list)   # e.g. Rego policies as Rule objects
    required: list[str] = field(default_factory=list)      # rule ids run whatever select/ignore say (gate: PRR000)
    trust_repo_rules: bool = False                    # load Python rule packs that live inside the checked tree
    shard: Shard | None = None                        # check only this part of the repository (--shard K/N)
    # parse in this many worker processes (None: one per CPU) when at least parse_pool_min files need parsing
    parse_workers: int | None = None
    parse_pool_min: int = DEFAULT_MIN_FILES
    # post-processing steps (plans, waivers, baseline, diff filter), in order
    steps: list[Step] = field(default_factory=list)
    # give a previous run's result when every input is the same (replay.py): the environment variables results
    # depend on, as the CLI read them; None: never
    replay: dict[str, str] | None = None
    # the caller reads the documents after the run (result.docs, .repo, .graph: the gate does); False: a whole run
    # lets them go before the result is stored and reported, as a replayed result has none
    keep_documents: bool = True
    timing: Timing | None = None      # where the run's time goes (--timing); None: not measured


@dataclass
class ServiceSummary:
    name: str
    tier: int
    file: str
    owner: str | None
    # what the scorecard needs of the service, as plain data: the kinds of its documents (None: unknown, every
    # rule applies) and its files
    kinds: list[str] | None = None
    files: list[str] = field(default_factory=list)


@dataclass
class Result:
    root: str
    findings: list[Finding]
    rules: list[Rule]             # every rule loaded (the report describes them)
    notices: list[Notice]         # (file, message)
    services: list[ServiceSummary]
    files_read: int = 0
    documents: int = 0
    errors: list[str] = field(default_factory=list)   # internal errors: exit 2
    scope: list[str] = field(default_factory=list)
    whole: bool = True            # the run covered the whole project, not a narrower path or a shard
    shard: Shard | None = None
    # set by the engine: what the run read and decided with
    selected: list[Rule] | None = None            # the rules that ran (None: all of `rules`)
    today: datetime.date | None = None
    repo: Repository | None = None
    graph: ServiceGraph | None = None
    docs: list[Document] = field(default_factory=list)
    dependencies: DependencyGraph | None = None   # the run's one dependency graph (SVC060-062 and the reports)
    # set by the steps
    plans: list[str] = field(default_factory=list)        # --plan files, as shown in findings
    waivers: list[Waiver] = field(default_factory=list)   # waivers read (file entries and inline comments)
    diff: DiffSummary | None = None
    baseline: BaselineSummary | None = None

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    @property
    def ran(self) -> list[Rule]:
        """The rules that ran."""
        return list(self.rules if self.selected is None else self.selected)


class StepContext:
    """What a step may ask of the engine besides the Result: to check a document the step brings (a waiver
    file, a --plan file) and to make a finding of its own at a place in a file (an expired inline waiver).
    Either one gives every finding its fingerprint again, as the engine did."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def check(self, result: Result, doc: Document, owner: Service | None = None) -> None:
        """Run the selected rules for the document's kind on it; findings go to `result`."""
        engine = self._engine
        graph, repo = result.graph, result.repo
        if graph is None or repo is None:   # Engine.run sets both before any step runs
            raise RuntimeError("a step checked a document outside an engine run")
        ctx = engine.context(owner, graph, repo, result.notices)
        before = len(result.findings)
        for r in engine.by_target.get(doc.kind, ()):
            engine._check(r, doc, ctx, result.findings, result.errors)
        if len(result.findings) != before:
            assign_fingerprints(result.findings)

    def emit(self, result: Result, rule: Rule, file: str, line: int, col: int, message: str, address: str) -> None:
        self._engine.emit_at(rule, file, line, col, message, address, result.graph, result.findings)
        assign_fingerprints(result.findings)


class Step(Protocol):
    """A post-processing step (plans, waivers, baseline, diff filter): gets the Result, returns it."""

    def __call__(self, result: Result, run: StepContext) -> Result: ...


@dataclass(frozen=True)
class Shard:
    """Part K of N of a repository, deterministic by path: a service goes whole to the shard its manifest's
    path hashes to (so cross-file rules see all its files); a file no service owns goes by its own path."""

    index: int                    # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        k, sep, n = text.partition("/")
        if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
            raise UsageError(f"--shard {text}: expected K/N with 1 <= K <= N (e.g. 2/8)")
        return cls(int(k), int(n))

    def holds(self, key: str) -> bool:
        # crc32, not hash(): the same on every machine and every run, so N jobs split the tree exactly
        return zlib.crc32(key.encode("utf-8", "surrogateescape")) % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def find_root(paths: Sequence[str]) -> str:
    first = os.path.abspath(paths[0] if paths else ".")
    top = git_toplevel(first)
    if top:
        return top
    cwd = os.getcwd()
    if inside(cwd, first):
        return cwd
    return first if os.path.isdir(first) else os.path.dirname(first)


def _scope(root: str, paths: Sequence[str]) -> list[str]:
    out = []
    for p in paths or ["."]:
        full = os.path.abspath(p)
        if not os.path.exists(full):
            raise UsageError(f"{p}: no such file or directory")
        if not inside(root, full):
            raise UsageError(f"{p}: outside the repository root {root}")
        rel = os.path.relpath(full, root).replace(os.sep, "/")
        out.append("" if rel == "." else rel)
    return out


def _in_scope(rel: str, scope: Iterable[str]) -> bool:
    for s in scope:     # a loop, not any(): this runs once per document of a run
        if s == "" or rel == s or rel.startswith(s + "/"):
            return True
    return False


def _files_in(files: Iterable[str], scope: Collection[str]) -> list[str]:
    """The files `_in_scope`, in their order: one C-level prefix test per file instead of a call."""
    if "" in scope:
        return list(files)
    exact, prefixes = set(scope), tuple(s + "/" for s in scope)
    return [rel for rel in files if rel in exact or rel.startswith(prefixes)]


def selected_rules(rules: list[Rule], config: Config, select: Sequence[str], ignore: Sequence[str],
                   required: Collection[str] = ()) -> list[Rule]:
    """The rules a run checks. A selector that names no rule, or a selection that leaves no rule to run, is a
    UsageError: a typo in --select must never check nothing and pass. `required` rules (the gate's PRR000)
    run whatever the selection says."""
    where = _config_shown(config)
    check_selectors(rules, config.select, f"{where}: select")
    check_selectors(rules, config.ignore, f"{where}: ignore")
    check_selectors(rules, list(select), "--select")
    check_selectors(rules, list(ignore), "--ignore")
    selectors = list(config.select) + list(select)
    ignored = list(config.ignore) + list(ignore)
    out = []
    for r in rules:
        if selectors and not any(r.matches(s) for s in selectors):
            continue
        if any(r.matches(s) for s in ignored):
            continue
        out.append(r)
    if not out:
        raise UsageError("no rule selected: --select/--ignore and the config's select/ignore leave no rule "
                         "to run (see `prr-lint rules`)")
    return out + [r for r in rules if r.id in required and r not in out]


def resolve_severity_keys(rules: list[Rule], config: Config) -> None:
    """`severity:` keys name a rule by id (any case, stored as the id) or name; any other key is an error."""
    where = f"{_config_shown(config)}: severity"
    config.severity = {severity_key(rules, k, where): v for k, v in config.severity.items()}


def _config_shown(config: Config) -> str:
    if not config.path:
        return "config"
    rel = os.path.relpath(config.path)
    return config.path if rel.startswith("..") else rel


def severity_for(rule: Rule, tier: int, config: Config) -> str | None:
    override = config.severity.get(rule.id, config.severity.get(rule.name))
    if isinstance(override, str):
        return None if override == "off" else override
    if isinstance(override, dict) and str(tier) in override:
        level: str = override[str(tier)]
        return None if level == "off" else level
    return rule.level(tier)


def fingerprint(rule_id: str, file: str, address: str, occurrence: int) -> str:
    """A finding's stable identity (baselines, SARIF, waivers): no line number, so moving code keeps it."""
    raw = f"{rule_id}\0{file}\0{address}\0{occurrence}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class Engine:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.config = options.config
        self.root = os.path.abspath(options.root or find_root(options.paths))
        self.scope = _scope(self.root, options.paths)
        # `/`-anchored manifest paths start at the project root: where .prr-lint.yaml is, else the repository root
        cfg_path = options.config.path
        anchor = os.path.relpath(os.path.dirname(os.path.abspath(cfg_path)), self.root) if cfg_path else "."
        self.anchor = "" if anchor == "." or anchor.startswith("..") else anchor.replace(os.sep, "/")
        # a run over the whole project (the repository, or the directory of .prr-lint.yaml)
        self.whole = any(_in_scope(self.anchor, [s]) for s in self.scope)
        cfg = self.config
        from .checks import metricsql, promql

        self.settings = Settings(cfg.default_tier, cfg.tiers, list(cfg.runbook_hosts), cfg.repo_url,
                                 list(cfg.alert_severities), dict(cfg.availability_slos), cfg.promql_dialect,
                                 metricsql.accepted(cfg.promql_dialect, list(cfg.extra_functions)))
        promql.use_functions(self.settings.promql_functions)
        self.today = options.today or datetime.date.today()
        from .policy import policy_loader

        loader = policy_loader(options)
        all_rules = load_rules([self._rel_to_cwd(p) for p in cfg.rule_paths], policy_loader=loader,
                               untrusted_root=None if options.trust_repo_rules else self.root) \
            + list(options.extra_rules)
        self.all_rules = all_rules
        resolve_severity_keys(all_rules, cfg)
        self.rules = selected_rules(all_rules, cfg, options.select, options.ignore, options.required)
        self.rendered = Rendered()
        self.shard = options.shard
        self.graph: ServiceGraph | None = None
        self.replay: Replay | None = None
        self.by_target: dict[str, list[Rule]] = {}
        for r in self.rules:
            for t in r.targets:
                self.by_target.setdefault(t, []).append(r)

    def _rel_to_cwd(self, p: str) -> str:
        base = os.path.dirname(self.config.path) if self.config.path else self.root
        return p if os.path.isabs(p) else os.path.join(base, p)

    # -- loading -----------------------------------------------------------------------------
    def load(self) -> tuple[Repository, ServiceGraph, list[Loaded], list[Document]]:
        cfg = self.config
        make = self.replay.new_repository if self.replay is not None else Repository
        with self._stage("list files"):
            repo = make(self.root, cfg.include, cfg.exclude, cfg.max_file_size, self._cache(), project=self.anchor,
                        parse_workers=self.options.parse_workers, parse_pool_min=self.options.parse_pool_min)
        with self._stage("read and parse"):
            return self._load(repo)

    def _load(self, repo: Repository) -> tuple[Repository, ServiceGraph, list[Loaded], list[Document]]:
        cfg = self.config
        whole = self.whole and self.shard is None
        # every manifest and SLO file, to know which service owns what; from the cache when unchanged
        if whole:
            context_files = list(repo.candidates)
            in_scope = set(context_files)
            # the charts render (Go, in threads) while the rest is parsed: the listing names their files, which
            # the parse pool (started first, to import meanwhile) parses before the others. Only up to
            # EARLY_RENDER_CHARTS charts: what they render is then held through the parse and the cache's writing,
            # with the Helm library, which for thousands of charts is the run's peak (+90 MB at 4,000 charts for
            # 3 % of the time); more charts render once the parse's cache text is written and let go.
            repo.start_pool(context_files)
            if len(repo.chart_dirs) <= EARLY_RENDER_CHARTS:
                early = RenderJob(self.root, repo, ServiceGraph([], cfg.default_tier, self.anchor), cfg, (),
                                  context_files, self.scope)
                repo.prefetch(context_files, first=render_inputs(repo), then=lambda: begin_renders(early))
            else:
                repo.prefetch(context_files)
        else:
            in_scope = set(_files_in(repo.candidates, self.scope)) if self.shard is None else set()
            context = repo.context_files()
            context_files = [rel for rel in repo.candidates if rel in context or rel in in_scope]
        manifests: list[Document] = []
        slo_docs: list[Document] = []
        for rel in meanwhile(repo, context_files):
            # what other services' manifests say is read, where it is written only for their own findings
            for doc in repo.load(rel, lazy=not self.whole and rel not in in_scope).docs:
                if doc.kind in ("service", "backstage"):
                    manifests.append(doc)
                elif doc.kind in ("openslo", "sloth"):
                    slo_docs.append(doc)
        graph = ServiceGraph.build(manifests, slo_docs, cfg.default_tier, self.anchor, cfg.backstage_service_types)
        self.graph = graph
        if not self.whole:
            # a Markdown file in scope (a runbook whose heading was renamed) answers for the links to it:
            # the files that link to it join the scope, so what its change breaks there is reported
            self.scope = self.scope + sorted(_linking_files(repo, graph, self.settings, self.scope) - set(self.scope))
            # Terraform module calls are judged whole: a module in scope through its callers, a caller with
            # the files of the modules it calls
            from .checks.tfmodules import scoped_files

            scope = self.scope
            candidates = repo.candidates
            # no Terraform file in scope (a one-file run on a manifest): no module to join, no pass over them all
            if any(candidates[rel] == "terraform" for rel in _files_in(candidates, scope)):
                self.scope = scope + sorted(scoped_files(repo, lambda rel: _in_scope(rel, scope)) - set(scope))
        if whole:
            needed = list(repo.candidates)
        elif self.whole:          # the whole project, one shard of it: its files and the context
            context = set(context_files)
            needed = [rel for rel in repo.candidates if rel in context or self.in_shard(rel)]
        else:
            needed = self._needed(repo, graph, set(context_files))
        repo.prefetch(needed)
        loaded = [repo.load(rel) for rel in needed]
        docs = [d for item in loaded for d in item.docs]
        repo.save_cache()       # the parsed files' cache text is let go before rendering, not held through it
        heap.give_back()
        with self._stage("render"):
            self.rendered = render_all(RenderJob(self.root, repo, graph, cfg, docs, needed, self.scope))
            if self.rendered.docs or self.rendered.replaced:
                docs = [d for d in docs if d.file not in self.rendered.replaced] + self.rendered.docs
            graph.attach(docs)
            repo.save_cache()       # what rendering read
        return repo, graph, loaded, docs

    def _stage(self, name: str) -> AbstractContextManager[None]:
        """A stage of the run, timed when --timing asks."""
        return timed(self.options.timing, name)

    def _cache(self) -> ParseCache | None:
        options = self.options
        if not (options.use_cache and self.config.cache and options.cache_home):
            return None
        from .cache import default_directory, open_cache

        directory = options.cache_dir or default_directory(options.cache_home, self.root)
        return open_cache(directory, os.path.join(options.cache_home, "prr-lint"), self.anchor, self.root)

    def _needed(self, repo: Repository, graph: ServiceGraph, context: set[str]) -> list[str]:
        """Files a scoped run reads: those in scope, the context, and every file of the services the
        scope touches (so cross-file rules see the HPA, the PDB, the alerts of a changed workload)."""
        in_scope = _files_in(repo.candidates, self.scope)
        # a manifest's own directory makes its service the owner of the manifest file too
        touched = {id(svc) for rel in in_scope if (svc := graph.owner_of(rel)) is not None}
        services = [s for s in graph.services if id(s) in touched]
        prefixes = list({p for s in services for p in s.directories + [_glob_free(c.target) for c in s.claims]})
        needed = set(in_scope) | context
        for rel in _files_in(repo.candidates, prefixes):
            if rel not in needed:
                owner = graph.owner_of(rel)
                if owner is not None and id(owner) in touched:
                    needed.add(rel)
        return [rel for rel in repo.candidates if rel in needed]

    # -- checking ----------------------------------------------------------------------------
    def context(self, owner: Service | None, graph: ServiceGraph, repo: Repository,
                notices: list[Notice]) -> RuleContext:
        tier = owner.tier if owner else self.settings.default_tier
        return RuleContext(tier, self.config.tier_policy(tier), owner, graph, repo, self.settings, self.today, notices,
                           narrow=not self.whole)

    def in_shard(self, rel: str) -> bool:
        """Whether a file is this shard's to check (always, without --shard)."""
        if self.shard is None:
            return True
        owner = self.graph.owner_of(rel) if self.graph is not None else None
        return self.shard.holds(owner.manifest.file if owner is not None else rel)

    def _shard_reports(self, finding: Finding) -> bool:
        """A service's finding goes with the service (a stale runbook outside its directory included)."""
        svc = self.graph.by_name.get(finding.service or "") if self.graph is not None else None
        if self.shard is None or svc is None:
            return self.in_shard(finding.file)
        return self.shard.holds(svc.manifest.file)

    def selects(self, rel: str) -> bool:
        """Whether the run checks and reports a file: in the paths given, and in this shard."""
        return (self.whole or _in_scope(rel, self.scope)) and self.in_shard(rel)

    def touches(self, svc: Service) -> bool:
        """Whether a service has its manifest or any of its files in the run's scope."""
        if self.shard is not None and not self.in_shard(svc.manifest.file):
            return False
        return self.whole or _in_scope(svc.manifest.file, self.scope) or any(_in_scope(d.file, self.scope)
                                                                             for d in svc.docs)

    def emit_at(self, rule: Rule, file: str, line: int, col: int, message: str, address: str,
                graph: ServiceGraph | None, findings: list[Finding]) -> None:
        """A finding the engine makes itself at a place in a file (a parse error, an expired inline waiver)."""
        owner = graph.owner_of(file) if graph is not None else None
        tier = owner.tier if owner else self.settings.default_tier
        doc = Document("file", file, None, {(): Span(line, col)}, meta={"address": address})
        self._emit(rule, Hit(doc, (), message, Span(line, col)), tier, owner, findings)

    def run(self) -> Result:
        from .replay import Replay

        timing = self.options.timing
        if timing is not None:
            timing.since_start("start-up")      # imports, config, rule packs
        with self._stage("replay check"):
            self.replay = Replay.open(self)
            replayed = self.replay.result() if self.replay is not None else None
        if replayed is not None:
            if timing is not None:
                timing.replayed = True
            return replayed
        result = self._run()
        with self._stage("store result"):
            # a whole run's documents are most of its memory; a run on paths holds few, and letting them go costs
            # time
            if not self.options.keep_documents and self.whole:
                self._let_go(result)
            if self.replay is not None:
                self.replay.store(result)
        return result

    def _let_go(self, result: Result) -> None:
        """Drop the run's documents (most of its memory) before the replay entry and the report are made."""
        if result.repo is not None:
            result.repo.let_go()
        result.docs, result.graph, result.repo = [], None, None
        self.graph, self.rendered = None, Rendered()
        # and what the rules held of them: PromQL ASTs (the parser's native memory, if it was imported), spans
        # decoded last
        from .cache import forget_decoded_spans

        promql = sys.modules.get(f"{__package__}.checks.promql")
        if promql is not None:
            promql.parse.cache_clear()
            promql._facts.cache_clear()
        forget_decoded_spans()
        heap.give_back()

    def _run(self) -> Result:
        # the stages inside are timed as themselves: this one is the collection and freeze when loading ends
        with self._stage("garbage collection"):
            with heap.loading():    # documents live to the end of the run: the collector need not walk them
                repo, graph, loaded, docs = self.load()
        with self._stage("rules"):
            findings, notices, errors, touched, dependencies = self._check_all(repo, graph, loaded, docs)
        with self._stage("findings"):
            return self._result(repo, graph, loaded, docs, findings, notices, errors, touched, dependencies)

    def _check_all(self, repo: Repository, graph: ServiceGraph, loaded: list[Loaded], docs: list[Document]
                   ) -> tuple[list[Finding], list[Notice], list[str], list[Service], DependencyGraph]:
        """Every selected rule on the documents and services the run checks: (findings, notices, errors, the
        services checked, the dependency graph)."""
        findings: list[Finding] = []
        notices: list[Notice] = list(self.options.notices)
        errors: list[str] = []
        parse_rule = next((r for r in self.rules if r.id == PARSE_ERROR), None)
        notices.extend(self.rendered.notices)
        for problem in self.rendered.problems:
            render_rule = next((r for r in self.rules if r.id == problem.rule_id), None)
            if render_rule is not None:
                self.emit_at(render_rule, problem.file, problem.line, problem.col, problem.message, problem.address,
                             graph, findings)
        for item in loaded:
            if item.notice:
                notices.append((item.file, item.notice))
            if item.error is not None and parse_rule is not None:
                self.emit_at(parse_rule, item.file, item.error.line, item.error.col, item.error.message, "file",
                             graph, findings)

        for doc in docs:
            doc_rules = self.by_target.get(doc.kind)
            # context documents (other services' manifests) are read for the graph, not checked
            if not doc_rules:
                continue
            if not self.selects(doc.file):
                # an object built from sources in scope (a Kustomize patch) is checked where it lands
                origins = doc.meta.get(ORIGINS) or {}
                if not (self.in_shard(doc.file) and any(_in_scope(f, self.scope) for f in origins.values())):
                    continue
            ctx = self.context(graph.by_name.get(doc.service or ""), graph, repo, notices)
            for r in doc_rules:
                self._check(r, doc, ctx, findings, errors)
        touched = [svc for svc in graph.services if self.touches(svc)]
        dependencies = dependency_graph(graph, self.settings.availability_slos)   # one per run: SVC060-062, reports
        for svc in touched:
            ctx = self.context(svc, graph, repo, notices)
            for r in self.by_target.get(SERVICE, []):
                self._check(r, svc, ctx, findings, errors, service_level=True)
        return findings, notices, errors, touched, dependencies

    def _result(self, repo: Repository, graph: ServiceGraph, loaded: list[Loaded], docs: list[Document],
                findings: list[Finding], notices: list[Notice], errors: list[str], touched: list[Service],
                dependencies: DependencyGraph) -> Result:
        findings = _dedupe(f for f in findings if _in_scope(f.file, self.scope) and self._shard_reports(f))
        assign_fingerprints(findings)
        findings.sort(key=Finding.sort_key)
        summaries = [_summary(s, graph) for s in touched]
        result = Result(self.root, findings, self.all_rules, sorted(set(notices)), summaries,
                        files_read=sum(1 for item in loaded if (item.docs or item.error) and self.in_shard(item.file)),
                        documents=sum(1 for d in docs if self.in_shard(d.file)),
                        errors=errors, scope=self.scope, whole=self.whole and self.shard is None,
                        selected=list(self.rules), shard=self.shard,
                        today=self.today, repo=repo, graph=graph, docs=docs, dependencies=dependencies)
        access = StepContext(self)
        for step in self.options.steps:
            result = step(result, access)
        result.findings.sort(key=Finding.sort_key)
        save_run_memos(repo, whole=self.whole and self.shard is None)
        heap.release()
        return result

    MAX_RULE_ERROR = 500          # characters of a PRR007 message: an exception may quote a whole document

    def _check(self, r: Rule, target: Document | Service, ctx: RuleContext, findings: list[Finding], errors: list[str],
               service_level: bool = False) -> None:
        check = r.check
        if check is None or ENGINE in r.targets:
            return
        timing = self.options.timing
        if timing is None:
            self._check_one(r, check, target, ctx, findings, errors, service_level)
            return
        start = time.perf_counter()
        try:
            self._check_one(r, check, target, ctx, findings, errors, service_level)
        finally:
            timing.rule(r.id, time.perf_counter() - start)

    def _check_one(self, r: Rule, check: Callable[..., Any], target: Document | Service, ctx: RuleContext,
                   findings: list[Finding], errors: list[str], service_level: bool) -> None:
        try:
            for hit in check(target, ctx) or ():
                self._emit(r, hit, ctx.tier, ctx.service, findings, service_level)
        except (UsageError, OSError) as e:
            # the environment failed, not the document (a policy server refused the connection, a deadline
            # passed, a policy does not compile): no verdict on anything, the run fails (exit 2)
            where = target.file if isinstance(target, Document) else f"service {target.name}"
            errors.append(f"rule {r.id} failed on {where}: {type(e).__name__}: {e}")
        except BaseException as e:  # BaseException: a panic in a Rust extension is pyo3's PanicException
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            # a rule that raises on one document is a finding on that document (PRR007), whatever is
            # selected: the document was not fully checked, and the rest of the run goes on
            doc = target if isinstance(target, Document) else target.manifest
            from .escape import one_line

            failed = next((x for x in self.all_rules if x.id == RULE_ERROR), None)
            text = one_line(f"rule {r.id} {r.name} failed: {type(e).__name__}: {e}")
            if len(text) > self.MAX_RULE_ERROR:
                text = text[:self.MAX_RULE_ERROR] + "..."
            if failed is None:  # pragma: no cover - the built-in pack always has it
                errors.append(f"{one_line(doc.file)}: {text}")
                return
            self._emit(failed, Hit(doc, (), text), ctx.tier, ctx.service, findings, service_level)

    def _emit(self, r: Rule, hit: Hit, tier: int, owner: Service | None, findings: list[Finding],
              service_level: bool = False) -> None:
        level = severity_for(r, tier, self.config)
        if level is None:
            return
        if hit.severity and r.id not in self.config.severity and r.name not in self.config.severity:
            level = hit.severity
        file, span = (hit.doc.file, hit.span) if hit.span else hit.doc.source(hit.path)
        address = hit.doc.address
        logical = hit.doc.logical_path(hit.path) if hit.doc.data is not None else ""
        findings.append(Finding(
            rule_id=r.id, rule_name=r.name, severity=level, message=_with_value_origin(hit, file, span),
            file=file, span=span,
            service=hit.service or (owner.name if owner else None), tier=tier,
            address=f"{address}:{logical}" if logical else address, service_level=service_level,
        ))


def _with_value_origin(hit: Hit, file: str, span: Span) -> str:
    """A rendered object's finding names the values file line that set the value, when that is elsewhere."""
    origins = hit.doc.meta.get("value_origin")
    path = tuple(hit.path)
    for n in range(len(path), 0, -1):
        where = origins.get(path[:n]) if origins else None
        if where is not None:
            if where != f"{file}:{span.line}":
                from .escape import one_line

                return f"{hit.message} (value from {one_line(where)})"
            break
    return hit.message


def _linking_files(repo: Repository, graph: ServiceGraph, settings: Settings, scope: list[str]) -> set[str]:
    """Files holding a link (runbook, runbook_url, rollback procedure, ...) that resolves to a Markdown file
    in `scope`. Only files that name such a file's base name are parsed to check."""
    from .checks.links import MARKDOWN_EXT, resolve

    markdown = {rel for rel in repo.files if rel.lower().endswith(MARKDOWN_EXT) and _in_scope(rel, scope)}
    if not markdown:
        return set()
    names = {os.path.basename(m) for m in markdown}
    out: set[str] = set()
    for rel in repo.candidates:
        text = repo.read(rel)
        if not text or not any(n in text or quote(n) in text for n in names):
            continue
        for doc in repo.load(rel).docs:
            base = os.path.dirname(doc.file)
            for _, value in doc.walk():
                if isinstance(value, str) and any(n in value or quote(n) in value for n in names) and \
                        resolve(value, repo, settings, base, graph.anchor).local in markdown:
                    out.add(rel)
                    break
            if rel in out:
                break
    return out


def _glob_free(target: str) -> str:
    """The directory part of a claim before any glob character."""
    for i, ch in enumerate(target):
        if ch in "*?[":
            return target[:i].rsplit("/", 1)[0] if "/" in target[:i] else ""
    return target


def _summary(svc: Service, graph: ServiceGraph) -> ServiceSummary:
    # the service the graph knows by this name (the first manifest when two share it) describes the card
    named = graph.by_name.get(svc.name)
    kinds = sorted({d.kind for d in named.docs} | {named.manifest.kind}) if named is not None else None
    files = sorted({svc.manifest.file} | ({d.file for d in named.docs} if named is not None else set()))
    return ServiceSummary(svc.name, svc.tier, svc.manifest.file, _str(svc.get("owner")), kinds, files)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (rule, place, message): e.g. a Helm value checked under several overlays."""
    seen: set[tuple[str, str, int, int, str]] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.file, f.span.line, f.span.col, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def assign_fingerprints(findings: list[Finding]) -> None:
    """Give each finding its fingerprint: rule, file, address and its rank among findings that share them."""
    seen: dict[tuple[str, str, str], int] = {}
    for f in sorted(findings, key=Finding.sort_key):
        key = (f.rule_id, f.file, f.address)
        n = seen.get(key, 0)
        seen[key] = n + 1
        f.fingerprint = fingerprint(f.rule_id, f.file, f.address, n)


def exit_code(result: Result, fail_on: str) -> int:
    if result.errors:
        return 2
    if fail_on == "never":
        return 0
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold for f in result.active) else 0


def run(options: Options) -> Result:
    return Engine(options).run()
