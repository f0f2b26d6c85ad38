"""Terraform module instances: which values a module's resources get, and who set them.

A directory of `.tf` files is a module. One that no local `module` block calls is a root: its variables
take their literal defaults (`default = null` is null; no default, or a value set in a `.tfvars` file,
is unknown). A module called with a local `source` (`./modules/db`, `../x`) is checked once per call,
with the call's arguments bound to its variables, and not on its own: checked on its own, its defaults
would contradict what the callers pass. Calls nest (up to MAX_DEPTH); a call that would re-enter a module
already on the chain is not followed, and modules that only call each other are checked as roots.
Registry and git sources are not fetched: nothing is known of them, so nothing is reported.

A value a call passed keeps its origin, the call's argument (or, passed on through a chain of calls, the
outermost argument that set it), so a finding points at the line a person changes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from ..escape import one_line
from ..model import Document
from .tfexpr import UNKNOWN, evaluate

MAX_DEPTH = 8            # nested module calls followed from a root
MAX_INSTANCES = 2000     # module instances expanded from one root file (a fan-out bomb stops here)
MAX_LOCAL_CHAIN = 64     # locals defined through other locals: deeper chains are unknown
META_ARGUMENTS = ("source", "version", "count", "for_each", "providers", "depends_on")

Origin = tuple  # (Document, path): the module call argument that set a value


class Scope:
    """One instance of a module: the values of `var.*` and `local.*` its expressions see."""

    def __init__(self, directory: str, label: str = "", address: str = ""):
        self.directory = directory
        self.label = label            # "module.db → " for a called module, "" for a root
        self.address = address        # "module.db."
        self.values: dict[str, tuple[Any, Origin | None]] = {}
        self.local_exprs: dict[str, Any] = {}
        self._busy: set[str] = set()

    def lookup(self, key: str) -> tuple[Any, Origin | None]:
        found = self.values.get(key)
        if found is not None:
            return found
        # a local that refers to itself, or sits at the end of an absurdly long chain, is unknown
        if key in self.local_exprs and key not in self._busy and len(self._busy) < MAX_LOCAL_CHAIN:
            self._busy.add(key)
            try:
                found = self.evaluate(self.local_exprs[key])
            finally:
                self._busy.discard(key)
            self.values[key] = found
            return found
        return UNKNOWN, None

    def evaluate(self, value) -> tuple[Any, Origin | None]:
        """(value, origin) of a value as the loader wrote it: "${...}" is an expression, the rest literal."""
        if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
            return evaluate(value[2:-1], self.lookup)
        return value, None

    def deep(self, value, depth: int = 0):
        """A value with every expression inside it evaluated in this scope (to hand it to another scope)."""
        if depth > 64:
            return UNKNOWN
        if isinstance(value, dict):
            return {k: self.deep(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v, depth + 1) for v in value]
        return self.evaluate(value)[0] if isinstance(value, str) else value


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def files_by_dir(repo) -> dict:
    """Terraform files grouped by module directory, once per run."""
    by_dir = repo.memo.get("tf-files-by-dir")
    if by_dir is None:
        by_dir = {}
        for rel, how in repo.candidates.items():
            if how == "terraform":
                by_dir.setdefault(posixpath.dirname(rel), []).append(rel)
        repo.memo["tf-files-by-dir"] = by_dir
    return by_dir


def module_docs(repo, directory: str) -> list[Document]:
    return [d for rel in files_by_dir(repo).get(directory, ()) for d in repo.load(rel).docs
            if d.kind == "terraform"]


def local_source(caller_dir: str, source) -> str | None:
    """The repository directory a local module source names, or None (registry, git, outside the tree)."""
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        return None
    target = posixpath.normpath(posixpath.join(caller_dir, source))
    if target == ".":
        return ""
    if target == ".." or target.startswith(("../", "/")):
        return None
    return target


def module_calls(doc: Document) -> Iterator[tuple[str, dict]]:
    """(name, body) of each `module` block of a file."""
    for name, body in _dict(doc.get(("module",))).items():
        if isinstance(body, dict):
            yield name, body


def called_dirs(repo) -> set:
    """Module directories reached by a chain of local calls from a root: checked through their calls."""
    called = repo.memo.get("tf-called-dirs")
    if called is not None:
        return called
    by_dir = files_by_dir(repo)
    edges: dict[str, set] = {}
    for directory in by_dir:
        for doc in module_docs(repo, directory):
            for _name, body in module_calls(doc):
                target = local_source(directory, body.get("source"))
                if target is not None and target in by_dir:
                    edges.setdefault(directory, set()).add(target)
    targets = {t for ts in edges.values() for t in ts}
    called = set()
    todo = [d for d in by_dir if d not in targets]  # roots
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in called:
                called.add(target)
                todo.append(target)
    repo.memo["tf-called-dirs"] = called
    return called


def tfvars_names(repo, module_dir: str) -> set:
    """Variables a `.tfvars` file beside a root module sets: unknown, since other var files may apply. Only the
    files the run lists count (git's view: a git-ignored `secrets.tfvars` on a laptop is not in CI's checkout, so
    it must not change a finding), and reading them through the repository is what result replay records."""
    names: set = set()
    for rel in _var_files(repo).get(module_dir, ()):
        text = repo.read(rel)
        # a cheap scan: `name =` at the start of a line (HCL) or `"name":` (JSON); blanks, not `\s`,
        # so that no attempt runs across lines (blank lines made it quadratic: 40 KB took 38 s)
        names.update(re.findall(r'(?m)^[ \t]*"?([A-Za-z_][A-Za-z0-9_-]*)"?[ \t]*[=:]', text or ""))
    return names


def _var_files(repo) -> dict[str, list[str]]:
    """{directory: its listed `.tfvars` files}, made once a run from the listing."""
    found: dict[str, list[str]] | None = repo.memo.get("tf-var-files")
    if found is None:
        found = {}
        for rel in repo.files:
            if rel.endswith((".tfvars", ".tfvars.json")):
                found.setdefault(posixpath.dirname(rel), []).append(rel)
        repo.memo["tf-var-files"] = found
    return found


def _declare(scope: Scope, docs: list[Document], passed) -> None:
    """Bind a module's variables (`passed(name)` gives a call's argument, or None) and collect its locals."""
    for doc in docs:
        for name, var in _dict(doc.get(("variable",))).items():
            key = f"var.{name}"
            given = passed(name)
            if given is not None and given[0] is None and isinstance(var, dict) and var.get("nullable") is False:
                given = None   # `nullable = false`: a null argument means the default
            if given is not None:
                scope.values[key] = given
            elif isinstance(var, dict) and "default" in var:
                # a default is a literal (Terraform allows no references there); null stays null
                scope.values[key] = (Scope("").deep(var["default"]), None)
            else:
                scope.values[key] = (UNKNOWN, None)
        for name, value in _dict(doc.get(("locals",))).items():
            scope.local_exprs[f"local.{name}"] = value


def root_scope(repo, directory: str) -> Scope:
    cache = repo.memo.setdefault("tf-root-scopes", {})
    scope = cache.get(directory)
    if scope is None:
        scope = cache[directory] = Scope(directory)
        _declare(scope, module_docs(repo, directory), lambda name: None)
        for name in tfvars_names(repo, directory):
            scope.values[f"var.{name}"] = (UNKNOWN, None)
    return scope


def bind(caller: Scope, doc: Document, name: str, body: dict, target: str, repo) -> Scope | None:
    """The scope of one module call, or None when the call creates no instance (`count = 0`)."""
    count, _ = caller.evaluate(body.get("count"))
    if count == 0 and not isinstance(count, bool):
        return None
    label = one_line(name)
    scope = Scope(target, f"{caller.label}module.{label} → ", f"{caller.address}module.{label}.")

    def passed(var: str):
        if var in META_ARGUMENTS or var not in body:
            return None
        value, origin = caller.evaluate(body[var])
        # a value the caller got from further up keeps that origin; else it is this argument's
        return caller.deep(value), origin or (doc, ("module", name, var))

    _declare(scope, module_docs(repo, target), passed)
    return scope


def instances(doc: Document, repo) -> list[tuple[Scope, Document]]:
    """(scope, document) pairs to check for one file: the file in its root scope plus every module
    instance its calls create, or nothing when the file's module is checked through its callers."""
    cache = repo.memo.setdefault("tf-instances", {})
    found = cache.get(doc.file)
    if found is not None:
        return found
    directory = doc.meta.get("module", posixpath.dirname(doc.file))
    found = []
    if directory not in called_dirs(repo):
        root = root_scope(repo, directory)
        found.append((root, doc))
        if not _expand(root, doc, (directory,), found, repo):
            repo.memo.setdefault("tf-truncated", set()).add(doc.file)
    cache[doc.file] = found
    return found


def _expand(scope: Scope, doc: Document, chain: tuple, out: list, repo) -> bool:
    """Add the module instances `doc`'s calls create to `out`; False when a limit stopped it."""
    complete = True
    for name, body in module_calls(doc):
        target = local_source(scope.directory, body.get("source"))
        if target is None or target in chain or target not in called_dirs(repo):
            # a registry/git source, a directory without Terraform, or a cycle: a module on a cycle that
            # no root reaches is checked as a root of its own, not again through its cycle
            continue
        if len(chain) >= MAX_DEPTH or len(out) >= MAX_INSTANCES:
            return False
        child = bind(scope, doc, name, body, target, repo)
        if child is None:
            continue
        for module_doc in module_docs(repo, target):
            out.append((child, module_doc))
            complete = _expand(child, module_doc, chain + (target,), out, repo) and complete
    return complete


def scoped_files(repo, in_scope) -> set:
    """Terraform files a run scoped to some paths checks as well, so that module calls are judged whole:
    the files whose calls reach a module in scope (up to the roots, where instances start), and the files
    of the modules that in-scope files call (where a module's own values are reported)."""
    by_dir = files_by_dir(repo)
    scoped = {rel for files in by_dir.values() for rel in files if in_scope(rel)}
    if not scoped:
        return set()                    # no Terraform in scope (a one-file run on a manifest): nothing to join
    calls: dict[str, set] = {}          # caller file -> module directories it calls
    for directory in by_dir:
        for doc in module_docs(repo, directory):
            for _name, body in module_calls(doc):
                target = local_source(directory, body.get("source"))
                if target is not None and target in by_dir:
                    calls.setdefault(doc.file, set()).add(target)
    callers: dict[str, list] = {}       # module directory -> files that call it
    for caller, targets in calls.items():
        for target in targets:
            callers.setdefault(target, []).append(caller)
    out: set = set()
    # up: callers of a module in scope, and their callers
    dirs = {posixpath.dirname(rel) for rel in scoped}
    todo = list(dirs)
    while todo:
        for caller in callers.get(todo.pop(), ()):
            if caller not in scoped:
                out.add(caller)
            if posixpath.dirname(caller) not in dirs:
                dirs.add(posixpath.dirname(caller))
                todo.append(posixpath.dirname(caller))
    # down: modules that in-scope files call, and the modules they call
    seen: set = set()
    todo = [t for rel in scoped for t in calls.get(rel, ())]
    while todo:
        directory = todo.pop()
        if directory in seen:
            continue
        seen.add(directory)
        for rel in by_dir.get(directory, ()):
            if rel not in scoped:
                out.add(rel)
            todo.extend(calls.get(rel, ()))
    return out
