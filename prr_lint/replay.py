"""Result replay: a run whose inputs are exactly those of a previous run gives that run's result, read from the
cache, without loading a document or calling a rule.

Rules join files across services, so results are kept per run rather than per file. An entry is found by a key
over everything a run depends on that is not a file of the repository: prr-lint's own code, the interpreter and
its libraries, the rule packs (user packs and Rego policies by content), the effective configuration and options
(selection, severities, tiers, paths, shard, steps such as waiver files and baselines), "today", the git commit
checked out and what is staged (file ages, pending changes), the renderers (helm SDK, kustomize binary) and the
environment variables the CLI hands over. The entry then holds what the run saw of the repository, checked again
before it is used:

- every listed file (the listing itself compared whole): its lstat stamp and a hash of its bytes, taken before
  the run reads it. A file whose stamp is one an entry stored is trusted unchanged (as the parse cache trusts its
  index); any other is read and hashed. A stamp taken within RACY_SECONDS of a change is never stored. The hash
  of a regular file prr-lint parses is its parse cache content key: on a first run it is the key the parse
  computed from the bytes it parsed (each file is read and hashed once a run), and only the other files are
  read here before the run;
- every question the rules asked about paths that are not listed files (does a linked runbook exist, is it a
  directory, where does a path really lead, what does an unlisted file hold): asked again, answered the same.

Any difference, and the run is a full run, whose result then replaces the entry. A run that had errors, reached a
network (an OPA server), ran a step whose inputs are not known here (--diff-base, --plan) or rules handed over
in-process, or runs without the cache is never stored nor replayed; nor is the gate (it does not ask for it), nor
a run on files that changed since the last run on the same paths (a pre-commit run after an edit: `_seen_before`).
The replayed Result carries what the reporters read (findings, notices, services with their document kinds and
files, the dependency graph, the baseline summary), not documents, the service graph or waivers.
The entry is signed JSON in the parse cache's directory (cache.py), never pickle; the KEEP most recently used
entries are kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import posixpath
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import __version__, prestart
from . import cache as parse_cache
from .cache import load_key, read_signed, write_signed
from .depgraph import DependencyGraph, Edge
from .discover import list_files, stamp_files
from .discover import stamp as _stamp
from .loaders import candidate_kind, read_bytes
from .loaders.errors import LoadError
from .model import Finding, Span, Suppression
from .repo import Repository, chart_dirs
from .resources import rules_dir

if TYPE_CHECKING:
    from .engine import Engine, Result

FORMAT = 2                        # 2: files prr-lint parses hashed by their parse cache content key
KEEP = 6                          # entries kept per repository cache directory (whole runs, paths)
PREFIX = "replay-"
MAX_PACK_FILES = 5000             # a user rule pack larger than this is not hashed: no replay
SEEN = "seen-paths.json"          # what the files named by the last file-scoped runs held (`_seen_before`)
SEEN_KEEP = 64                    # sets of paths remembered
MAX_SEEN_FILES = 64               # a run on more files than this always takes the replay's way
# environment variables that change what a run finds or renders (PRR_LINT_*, renderers' HELM_*): the CLI passes
# them in Options.replay
ENV_PREFIXES = ("PRR_", "HELM_", "KUSTOMIZE_", "KUBECTL_")
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _digest(*parts: str | bytes) -> str:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


# -- what the run saw of the repository --------------------------------------------------------------------
class RecordingRepository(Repository):
    """A Repository that writes down the answers to the path questions rules ask. Not those the listing answers:
    a listed file is checked by its stamp or bytes, and a directory holding listed files exists, is a directory
    and is where it says (git and the walk do not go through symlinks), unless the answer says otherwise."""

    asked: dict[tuple[str, str], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.asked = {}
        super().__init__(*args, **kwargs)

    def _record(self, question: str, rel: Any, answer: Any, listed_answer: Any) -> None:
        listed = getattr(self, "file_set", None)     # None: asked while the listing is being made
        if not isinstance(rel, str) or listed is not None and rel in listed:     # most questions: a listed path
            return
        norm = posixpath.normpath(rel.rstrip("/") or ".") if rel else "."
        if listed is not None and norm in listed:
            return
        if listed is not None and norm in self.dirs and answer == listed_answer(norm):
            return
        self.asked[(question, rel)] = answer

    def real(self, rel: str) -> str | None:
        answer = super().real(rel)
        self._record("real", rel, answer, lambda norm: os.path.join(self.real_root, norm))
        return answer

    def exists(self, rel: str) -> bool:
        answer = super().exists(rel)
        self._record("exists", rel, answer, lambda norm: True)
        return answer

    def is_dir(self, rel: str) -> bool:
        answer = super().is_dir(rel)
        self._record("is_dir", rel, answer, lambda norm: True)
        return answer

    def read_text(self, rel: str) -> tuple:
        text, why = super().read_text(rel)
        self._record("read", rel, [_digest(text) if text is not None else None, why], lambda norm: None)
        return text, why


def _ask_again(root: str, max_file_size: int, asked: list) -> bool:
    """Whether every recorded path question gets the same answer now, asked the way the run asked it."""
    # the Repository's own answers, without listing the tree again (an empty listing: nothing stat-ed)
    probe = Repository(root, max_file_size=max_file_size, listing=([], {}))
    for question, rel, answer in asked:
        if question == "real":
            now: Any = probe.real(rel)
        elif question == "exists":
            now = probe.exists(rel)
        elif question == "is_dir":
            now = probe.is_dir(rel)
        elif question == "read":
            text, why = probe.read_text(rel)
            now = [_digest(text) if text is not None else None, why]
        else:
            return False
        if now != answer:
            return False
    return True


def _read_digest(path: str, max_size: int) -> str | None:
    """A hash of a listed file's bytes (a symlink: of where it leads); None when it cannot be read."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(path)
            return _digest("link", target, _read_digest(os.path.realpath(path), max_size) or "")
        if not stat.S_ISREG(st.st_mode):
            return _digest("special", str(stat.S_IFMT(st.st_mode)))
        if st.st_size > max_size:
            return _digest("large", str(st.st_size))
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            return _digest(fh.read(max_size + 1))
    except (OSError, ValueError):
        return None


def _file_digest(path: str, rel: str, how: str | None, stamp: list | None, max_size: int) -> str | None:
    """The hash a listed file's row holds: for a regular file prr-lint parses (`how`, from its name), its parse
    cache content key, the one the parse computes from the same bytes; for any other, _read_digest."""
    if how is not None and stamp is not None and stat.S_ISREG(stamp[4]):
        try:
            return parse_cache.content_key(rel, how, max_size, read_bytes(path, max_size))
        except LoadError:
            pass
    return _read_digest(path, max_size)


UNREAD = "unread"       # the row of a file whose bytes the run did not hash: never equal to a hash


# -- the key -------------------------------------------------------------------------------------------
def _tree_stamps(top: str, suffixes: tuple[str, ...]) -> list:
    """(path, stamp) of the files under `top` with these suffixes: prr-lint's own code, changed in place."""
    out = []
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(suffixes):
                full = os.path.join(directory, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                out.append((os.path.relpath(full, top), st.st_mtime_ns, st.st_size))
    return out


def _tree_contents(top: str) -> list | None:
    """(path, hash) of every file under a user rule pack or policy directory; None when too large to hash."""
    if os.path.isfile(top):
        return [(top, _read_digest(top, 64 << 20))]
    out = []
    for directory, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(directory, name)
            out.append((full, _read_digest(full, 64 << 20)))
            if len(out) > MAX_PACK_FILES:
                return None
    return out


def _git_state(root: str) -> tuple[str, Any]:
    """(the commit checked out and the shallow boundary, what is staged): rules read file ages from the history
    and pending changes from the status. The commit is read from the .git directory; a work tree whose .git is a
    file (a linked worktree, a submodule) asks git."""
    git_dir = os.path.join(root, ".git")
    if not os.path.lexists(git_dir):
        return "no git", None
    if os.path.isdir(git_dir) and not os.path.islink(git_dir):
        try:
            head = _text(os.path.join(git_dir, "HEAD")).strip()
            commit = head
            if head.startswith("ref: "):
                ref = head[5:]
                path = os.path.join(git_dir, *ref.split("/"))
                if os.path.isfile(path):
                    commit = _text(path).strip()
                else:
                    packed = _text(os.path.join(git_dir, "packed-refs")) \
                        if os.path.isfile(os.path.join(git_dir, "packed-refs")) else ""
                    commit = next((line.split(" ")[0] for line in packed.splitlines()
                                   if line.endswith(" " + ref)), f"unborn {ref}")
            shallow = os.path.join(git_dir, "shallow")
            return f"{commit} {_text(shallow) if os.path.isfile(shallow) else ''}", _staged(root)
        except (OSError, UnicodeDecodeError):
            pass
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD", "--is-shallow-repository"], cwd=root,
                              capture_output=True, timeout=30, stdin=subprocess.DEVNULL, env=prestart.hardened())
    except (OSError, subprocess.SubprocessError):
        return "git failed", None
    return f"{proc.returncode} {proc.stdout.decode('utf-8', 'replace')}", _staged(root)


def _staged(root: str) -> str | None:
    """What the index holds that HEAD does not (paths, modes, blobs): a change staged and then undone in the work
    tree is still a pending change (SVC022). `diff-index --cached` compares without refreshing or writing the
    index, which `git status` rewrites whenever its stat data is stale."""
    try:
        proc = subprocess.run(["git", "diff-index", "--cached", "--raw", "-z", "--no-renames", "HEAD", "--"],
                              cwd=root, capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                              env=prestart.hardened())
    except (OSError, subprocess.SubprocessError):
        return None
    return _digest(str(proc.returncode), proc.stdout)


def _text(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read(1 << 20)


def _renderers(engine: Engine) -> list:
    """What rendering ran with: the helm SDK package's files, the kustomize or kubectl binary found."""
    import importlib.util

    out: list = []
    try:
        spec = importlib.util.find_spec("helm_python")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        out.append(("helm", _tree_stamps(os.path.dirname(spec.origin), (".py", ".so", ".dylib", ".dll", ".json"))))
    for name in filter(None, (getattr(engine.config, "kustomize_bin", None), "kustomize", "kubectl")):
        found = shutil.which(name)
        if found is not None:
            try:
                st = os.stat(found)
                out.append((name, os.path.realpath(found), st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError:
                out.append((name, found))
    return out


def _interpreter() -> list:
    """The Python that runs the rules and the libraries installed for it (a dist-info name carries its version)."""
    import sys

    out: list = [sys.version, sys.executable]
    for entry in sys.path:
        if os.path.basename(entry) in ("site-packages", "dist-packages") and os.path.isdir(entry):
            try:
                out.append((entry, sorted(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info")))))
            except OSError:
                out.append((entry, None))
    return out


def _steps(engine: Engine) -> list | None:
    """What the post-processing steps depend on; None when a step's inputs are not known here."""
    from .baseline import BaselineStep
    from .waivers import WaiverStep

    out: list = []
    for step in engine.options.steps:
        if isinstance(step, WaiverStep):
            extra = _read_digest(step.extra_file, 64 << 20) if step.extra_file else None
            out.append(("waivers", step.inline, step.extra_file, extra, step.repository_files,
                        sorted(step.protected)))
        elif isinstance(step, BaselineStep):
            out.append(("baseline", step.source, sorted(map(repr, step.keys)), sorted(step.protected)))
        else:          # a diff against a ref, Terraform plans: inputs from outside the tree
            return None
    return out


def _packs(engine: Engine) -> list | None:
    """Content of every rule pack that is not built in: Python packs by their files, Rego policies by the
    sources the run evaluates (packs, loose files, helper packages)."""
    out: list = []
    for p in engine.config.rule_paths:
        contents = _tree_contents(os.path.abspath(engine._rel_to_cwd(p)))
        if contents is None:
            return None
        out.append((p, contents))
    runtime = getattr(engine.options, "policy_runtime", None)
    for source in getattr(runtime, "files", None) or []:
        out.append((source.path, _digest(source.text)))
    return out


def _key_parts(engine: Engine) -> dict | None:
    """What the entry's key is made of, or None when the run may not be replayed."""
    options = engine.options
    runtime = getattr(options, "policy_runtime", None)
    settings = getattr(runtime, "settings", None)
    if settings is not None and getattr(settings, "opa_url", None):
        return None                         # results come from a server: never replayed
    if any(r.origin != "rego" for r in options.extra_rules):
        return None                         # rules handed over in-process: their code is not known here
    steps, packs = _steps(engine), _packs(engine)
    if steps is None or packs is None:
        return None
    config = engine.config
    config_bytes = _read_digest(config.path, 64 << 20) if config.path else None
    policy = {k: v for k, v in vars(settings).items() if k != "token"} if settings is not None else None
    parts = {
        "format": FORMAT, "version": __version__, "python": _interpreter(),
        "code": _tree_stamps(_PACKAGE, (".py", ".json")), "rules": _tree_stamps(rules_dir(), (".py", ".rego")),
        "packs": packs, "policy": repr(policy),
        "config": repr(dataclasses.asdict(config)), "config_bytes": config_bytes,
        "root": engine.root, "anchor": engine.anchor, "scope": engine.scope, "whole": engine.whole,
        "shard": str(engine.shard), "select": options.select, "ignore": options.ignore, "required": options.required,
        "rule_ids": [r.id for r in engine.all_rules], "selected": [r.id for r in engine.rules],
        "trust": options.trust_repo_rules, "notices": options.notices, "steps": steps,
        "today": engine.today.isoformat(), "git": list(_git_state(engine.root)), "renderers": _renderers(engine),
        "env": sorted((options.replay or {}).items()),
    }
    return parts


def _key(parts: dict) -> str:
    return _digest(json.dumps(parts, sort_keys=True, default=repr))


# -- the result as plain data -------------------------------------------------------------------------
def _finding_data(f: Finding) -> list:
    s = f.suppression
    return [f.rule_id, f.rule_name, f.severity, f.message, f.file, list(f.span), f.service, f.tier, f.address,
            f.fingerprint, [s.kind, s.justification, s.owner, s.expires, s.source] if s is not None else None,
            f.service_level]


def _finding(item: list) -> Finding:
    s = item[10]
    return Finding(item[0], item[1], item[2], item[3], item[4], Span(*item[5]), item[6], item[7], item[8], item[9],
                   Suppression(*s) if s is not None else None, item[11])


def _graph_data(graph: DependencyGraph | None) -> dict | None:
    if graph is None:
        return None
    return {"tiers": graph.tiers, "default_tiered": sorted(graph.default_tiered), "availability": graph.availability,
            "edges": [[e.source, e.target, e.critical, list(e.path)] for e in graph.edges]}


def _graph(data: dict | None) -> DependencyGraph | None:
    if data is None:
        return None
    graph = DependencyGraph(tiers=dict(data["tiers"]), default_tiered=set(data["default_tiered"]),
                            availability=dict(data["availability"]))
    for source, target, critical, path in data["edges"]:
        edge = Edge(source, target, critical, tuple(path))
        graph.edges.append(edge)
        graph._out.setdefault(source, []).append(edge)
    return graph


def _result_data(result: Result) -> dict:
    """What `_restore` makes a Result of, but its findings (`_with_findings` writes them)."""
    baseline = result.baseline
    return {
        "notices": [list(n) for n in result.notices],
        "services": [[s.name, s.tier, s.file, s.owner, s.kinds, s.files] for s in result.services],
        "files_read": result.files_read, "documents": result.documents, "scope": result.scope,
        "whole": result.whole, "dependencies": _graph_data(result.dependencies),
        "baseline": [baseline.file, baseline.entries, baseline.matched] if baseline is not None else None,
    }


def _restore(engine: Engine, data: dict) -> Result:
    from .baseline import BaselineSummary
    from .engine import Result, ServiceSummary

    baseline = data["baseline"]
    return Result(engine.root, [_finding(item) for item in data["findings"]], engine.all_rules,
                  [(file, message) for file, message in data["notices"]],
                  [ServiceSummary(*item) for item in data["services"]], files_read=data["files_read"],
                  documents=data["documents"], scope=list(data["scope"]), whole=data["whole"], shard=engine.shard,
                  selected=list(engine.rules), today=engine.today, dependencies=_graph(data["dependencies"]),
                  baseline=BaselineSummary(*baseline) if baseline is not None else None)


# -- runs on files that were just edited --------------------------------------------------------------------
def _seen_before(engine: Engine, directory: str, mac_key: bytes) -> bool:
    """Whether the files a run names (a pre-commit run's) hold what they held at the last run on the same paths.
    A file that changed since makes every stored entry of these paths a miss, so the replay's work (stamping the
    whole listing, decoding an entry, storing one) would buy nothing now; the run goes without replay and the
    new content is remembered. A run on the same content again (the hook run once more) takes the replay's
    way: it stores its result, which the next such run replays. Runs on directories, on many files or on
    anything that is not a regular file always take the replay's way."""
    scope = engine.scope
    if not scope or "" in scope or len(scope) > MAX_SEEN_FILES:
        return True
    prefix = os.path.join(engine.root, "")
    stamps = []
    for rel in scope:
        try:
            st = os.lstat(prefix + rel)
        except (OSError, ValueError):
            return True
        if not stat.S_ISREG(st.st_mode):
            return True
        stamps.append(_stamp(st))
    seen = read_signed(mac_key, directory, SEEN)
    seen = seen if isinstance(seen, dict) else {}
    name = _digest(engine.root, *scope)
    before = seen.get(name)
    if not (isinstance(before, list) and len(before) == len(scope) and
            all(isinstance(row, list) and len(row) == 2 for row in before)):
        before = None
    racy = time.time_ns() - parse_cache.RACY_SECONDS * 10**9
    now = []
    for i, (rel, stamp) in enumerate(zip(scope, stamps, strict=True)):
        if before is not None and before[i][0] is not None and before[i][0] == stamp:
            digest = before[i][1]       # the stamp it had then: the content it had then (as the parse cache trusts)
        else:
            digest = _read_digest(prefix + rel, engine.config.max_file_size)
        now.append([stamp if stamp[2] < racy else None, digest])
    if now != before:
        seen.pop(name, None)
        seen[name] = now                # most recent last: the oldest sets of paths are forgotten first
        kept = dict(list(seen.items())[-SEEN_KEEP:])
        if parse_cache._ensure_directory(directory):
            write_signed(mac_key, directory, SEEN, json.dumps(kept, separators=(",", ":")))
    return before is not None and [row[1] for row in before] == [row[1] for row in now]


FINDINGS_PER_PART = 2000


def _with_findings(head: str, findings: list[Finding]) -> Iterator[str]:
    """The entry's JSON text in parts: `head` (its "result" the last key, without findings) with the findings
    put last in "result", a few thousand at a time, so that a large run's findings are never one string and
    never all in their stored form at once."""
    if not head.endswith("}}"):
        raise ValueError("an entry ends with its result")
    yield head[:-2] + ',"findings":['
    for start in range(0, len(findings), FINDINGS_PER_PART):
        part = json.dumps([_finding_data(f) for f in findings[start:start + FINDINGS_PER_PART]],
                          separators=(",", ":"))[1:-1]
        yield part if start == 0 else "," + part
    yield "]}}"


# -- the replay ---------------------------------------------------------------------------------------------
class Replay:
    """One run's replay: `result()` before the run (None: run in full), `repository` for the run, `store` after."""

    def __init__(self, engine: Engine, directory: str, mac_key: bytes, parts: dict) -> None:
        self.engine = engine
        self.directory = directory
        self._mac_key = mac_key
        self.parts = parts
        self.key = _key(parts)
        self.name = f"{PREFIX}{self.key[:40]}.json"
        config = engine.config
        self.max_size = config.max_file_size
        problems: dict = {}
        self._read: tuple | None = None      # (this run's entry, else a donor) read while git lists the files
        stamped: dict = {}
        stamped_at: list = []

        def meanwhile() -> None:
            # while git walks the work tree: the stored entry is decoded and the files it lists are stamped
            try:
                entry = self._entry()
                donor = self._donor() if entry is None else None
                self._read = (entry, donor)
                known = (entry if entry is not None else donor or {}).get("files")
                if isinstance(known, list):
                    stamped_at.append(time.time_ns())
                    stamped.update(stamp_files(self.engine.root, [rel for rel in known if isinstance(rel, str)]))
            except Exception:       # an entry of another shape: read again, and every file stamped, after
                self._read = None
                stamped.clear()

        self.files = list_files(engine.root, [engine.anchor], list(config.include), list(config.exclude),
                                problems=problems, meanwhile=meanwhile)
        self.problems = problems
        # when the stamps were taken: a stamp is trusted next time only for a file changed RACY_SECONDS before
        self.listed_at = min([time.time_ns(), *stamped_at])
        self.stamps = self._stamps(stamped)
        charts = chart_dirs(self.files)
        self.hows = [candidate_kind(rel, charts) for rel in self.files]
        self.repository: RecordingRepository | None = None
        self.table: list | None = None      # what the run sees of the listed files (set by `result`)

    @classmethod
    def open(cls, engine: Engine) -> Replay | None:
        """The replay of this run, or None when it may not be replayed (no cache, an input from a network)."""
        options = engine.options
        if options.replay is None or not (options.use_cache and engine.config.cache and options.cache_home):
            return None
        key_dir = os.path.join(options.cache_home, "prr-lint")
        if parse_cache._inside(engine.root, key_dir):     # a key that came with the checked tree is no secret
            return None
        mac_key = load_key(key_dir)
        if mac_key is None:
            return None
        directory = options.cache_dir or parse_cache.default_directory(options.cache_home, engine.root)
        if not _seen_before(engine, directory, mac_key):
            return None
        parts = _key_parts(engine)
        if parts is None:
            return None
        return cls(engine, directory, mac_key, parts)

    def _stamps(self, stamped: dict) -> list:
        """The stamp of every listed file (None: gone), taken before the run reads it: `stamped` while git listed,
        the others now."""
        stamped = {**stamped, **stamp_files(self.engine.root, [rel for rel in self.files if rel not in stamped])}
        return [stamped.get(rel) for rel in self.files]

    def new_repository(self, *args: Any, **kwargs: Any) -> Repository:
        """The run's Repository, on the listing already made and its stamps (one lstat per file a run), recording
        the path questions of the rules."""
        lstats = {rel: stamp for rel, stamp in zip(self.files, self.stamps, strict=True) if stamp is not None}
        self.repository = RecordingRepository(*args, listing=(self.files, dict(self.problems)), lstats=lstats,
                                              **kwargs)
        return self.repository

    def _entry(self, name: str | None = None) -> dict | None:
        entry = read_signed(self._mac_key, self.directory, name or self.name)
        if not isinstance(entry, dict) or (name is None and entry.get("key") != self.key):
            return None
        return entry

    def _donor(self) -> dict | None:
        """The most recently used other entry: what it knows of the files' stamps spares reading them."""
        try:
            names = [n for n in os.listdir(self.directory)
                     if n.startswith(PREFIX) and n.endswith(".json") and n != self.name]
            names.sort(key=lambda n: os.stat(os.path.join(self.directory, n)).st_mtime_ns, reverse=True)
        except OSError:
            return None
        return self._entry(names[0]) if names else None

    def _table(self, known: dict | None, defer: bool = False) -> list:
        """[stamp or None, hash] of every listed file, before the run reads any: a stamp the `known` entry has
        vouches for its hash, any other file is read. A stamp is kept for next time only when it can be trusted
        (a regular file not changed within RACY_SECONDS); a file changed after this, while the run reads it,
        has another stamp next time, so it is read again and the difference seen. `defer`: a regular file the
        run parses is not read here; its hash is None until `store` takes the key the parse computed."""
        rows: dict = {}
        # a --cache-dir may be shared: only an entry of this tree vouches for its files
        if known is not None and known.get("root") == self.engine.root and known.get("max_size") == self.max_size and \
                known.get("format") == FORMAT and len(known.get("files", ())) == len(known.get("table", ())):
            rows = dict(zip(known["files"], known["table"], strict=True))
        prefix = os.path.join(self.engine.root, "")
        racy = self.listed_at - parse_cache.RACY_SECONDS * 10**9
        table = []
        for rel, stamp, how in zip(self.files, self.stamps, self.hows, strict=True):
            row = rows.get(rel)
            if row is not None and row[0] is not None and row[0] == stamp:
                digest = row[1]
            elif defer and how is not None and stamp is not None and stat.S_ISREG(stamp[4]):
                digest = None
            else:
                digest = _file_digest(prefix + rel, rel, how, stamp, self.max_size)
            trusted = stamp is not None and stat.S_ISREG(stamp[4]) and stamp[2] < racy
            table.append([stamp if trusted else None, digest])
        return table

    def _complete(self, table: list, keys: dict) -> list:
        """The table with the hashes `_table` deferred: the content keys the run's parse computed. A file the
        run did not read (a run on a path) is hashed now if its stamp is still the one taken before the run;
        else its row matches nothing, and the next run is a full run."""
        prefix = os.path.join(self.engine.root, "")
        out = []
        for rel, stamp, how, row in zip(self.files, self.stamps, self.hows, table, strict=True):
            if row[1] is None and how is not None and stamp is not None and stat.S_ISREG(stamp[4]):
                digest = keys.get(rel)
                if digest is None:
                    try:
                        same = _stamp(os.lstat(prefix + rel)) == stamp and row[0] is not None
                    except (OSError, ValueError):
                        same = False
                    digest = _file_digest(prefix + rel, rel, how, stamp, self.max_size) if same else UNREAD
                row = [row[0] if digest != UNREAD else None, digest]
            out.append(row)
        return out

    def result(self) -> Result | None:
        """The stored result when everything the run would see is what the stored run saw."""
        if self._read is not None:
            entry, donor = self._read
            self._read = None
        else:
            entry = self._entry()
            donor = self._donor() if entry is None else None
        try:
            # no entry to compare with (a first run): the files the run parses are hashed by the parse
            self.table = self._table(entry if entry is not None else donor, defer=entry is None)
            if entry is None or entry["files"] != self.files or entry["problems"] != self.problems:
                return None
            if [row[1] for row in entry["table"]] != [row[1] for row in self.table]:
                return None
            if not _ask_again(self.engine.root, self.max_size, entry["asked"]):
                return None
            result = _restore(self.engine, entry["result"])
        except Exception:       # an entry of another shape, a question asked another way: a miss, never a failure
            return None
        try:
            os.utime(os.path.join(self.directory, self.name))   # recently used: kept when others are pruned
        except OSError:
            pass
        return result

    def store(self, result: Result) -> None:
        """Keep the result of a full run with what it saw; never the result of a run with errors."""
        if result.errors or self.repository is None or self.table is None:
            return
        asked = [[question, rel, answer] for (question, rel), answer in sorted(self.repository.asked.items())]
        table = self._complete(self.table, self.repository.content_keys())
        data = _result_data(result)
        entry = {"key": self.key, "format": FORMAT, "root": self.engine.root, "max_size": self.max_size,
                 "files": self.files, "problems": self.problems, "table": table, "asked": asked, "result": data}
        try:
            head = json.dumps(entry, separators=(",", ":"))
            del entry, table, asked, data     # written from the text
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        except (TypeError, ValueError, OSError):
            return      # a value JSON cannot carry as it is: not kept, rather than kept changed
        # a value JSON cannot carry in a finding fails the write, and nothing is kept
        if write_signed(self._mac_key, self.directory, self.name, _with_findings(head, result.findings)):
            self._prune()

    def _prune(self) -> None:
        """Keep the KEEP most recently used entries."""
        try:
            names = [n for n in os.listdir(self.directory) if n.startswith(PREFIX) and n.endswith(".json")]
            used = sorted(names, key=lambda n: os.stat(os.path.join(self.directory, n)).st_mtime_ns, reverse=True)
            for name in used[KEEP:]:
                os.unlink(os.path.join(self.directory, name))
        except OSError:
            pass
