"""Waivers: accepted risks as data (.prr-waivers.yaml) and inline `# prr-lint: disable=` comments.

A waived finding stays in the results with `Finding.suppression` set. An expired waiver no longer applies
(its finding is active again) and is itself finding PRR002: the `waiver-expired` rule reports entries of
waiver files, and this step reports expired inline comments. A waiver that matches nothing is reported as
a notice (`unused waiver`), not a finding: a run narrowed by paths, --select or --diff-base legitimately
leaves waivers unused, and a notice never changes the exit code.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .discover import inside
from .errors import UsageError
from .model import Document, Suppression
from .rule import GATE_PROTECTED, WAIVER_EXPIRED

if TYPE_CHECKING:
    from .engine import Result, StepContext

DEFAULT_FILE = ".prr-waivers.yaml"
# `# prr-lint: disable=K8S002,K8S005 reason="set by LimitRange" expires=2027-01-31` (also `//` in HCL)
INLINE = re.compile(r"(?:#|//)\s*prr-lint:\s*disable=([A-Za-z0-9_,\-]+)(.*)$")
_REASON = re.compile(r"""\breason=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))""")
_EXPIRES = re.compile(r"\bexpires=(\S+)")
_INLINE_KINDS = {"yaml", "terraform", "helm-values", "helm-chart", "waivers"}


@dataclass
class Waiver:
    kind: str                     # "waiver" (from a waiver file) or "inline"
    rules: list                   # rule ids or names
    reason: str
    owner: str
    expires: datetime.date | None
    file: str                     # where the waiver is written
    line: int
    approver: str = ""
    ticket: str = ""
    service: str | None = None
    path: str | None = None
    address: str | None = None
    base: str = ""                # directory a waiver file governs ("" = the whole repository)
    comment_only: bool = False    # inline: the comment is alone on its line (so it covers the next line)
    expired: bool = False
    matched: list = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    def covers_rule(self, f) -> bool:
        return f.rule_id in self.rules or f.rule_name in self.rules

    def covers(self, f) -> bool:
        if not self.covers_rule(f):
            return False
        if self.kind == "inline":
            return f.file == self.file and (f.span.line == self.line
                                            or (self.comment_only and f.span.line == self.line + 1))
        if self.base and not (f.file == self.base or f.file.startswith(self.base + "/")):
            return False
        if self.service is not None and f.service != self.service:
            return False
        if self.path is not None:
            from .checks.globs import matches  # gitignore-style, as excludes and manifest claims

            rel = f.file[len(self.base) + 1:] if self.base else f.file
            if not matches(self.path, rel):
                return False
        if self.address is not None:
            # the whole address (`Deployment/checkout:spec...`) or its part inside the document (`resource.x.y...`)
            inner = f.address.split(":", 1)[1] if ":" in f.address else f.address
            if not any(a == self.address or fnmatch.fnmatchcase(a, self.address) for a in (f.address, inner)):
                return False
        return True

    def suppression(self) -> Suppression:
        owner = self.owner + (f", approved by {self.approver}" if self.approver else "")
        return Suppression(self.kind, self.reason or "inline waiver (no reason given)", owner,
                           self.expires.isoformat() if self.expires else "", self.source)

    def as_dict(self) -> dict:
        target = {k: v for k, v in (("service", self.service), ("path", self.path), ("address", self.address))
                  if v is not None}
        return {"kind": self.kind, "rule": ",".join(self.rules), "target": target, "reason": self.reason,
                "owner": self.owner, "approver": self.approver, "ticket": self.ticket,
                "expires": self.expires.isoformat() if self.expires else None, "source": self.source,
                "expired": self.expired, "findings": sorted(self.matched)}


# -- feature interface ---------------------------------------------------------------------------
def add_arguments(parser) -> None:
    parser.add_argument("--waivers", metavar="FILE",
                        help=f"waiver file (default: config `waivers`, else every {DEFAULT_FILE} in the repository)")
    parser.add_argument("--no-inline-waivers", action="store_true",
                        help="ignore `# prr-lint: disable=` comments (config: inline_waivers: false)")


def configure(args, options) -> None:
    root = os.path.abspath(options.root or ".")
    inline = options.config.inline_waivers and not getattr(args, "no_inline_waivers", False)
    gating = getattr(args, "command", None) == "gate"
    # `gate --config TRUSTED`: the repository's own waiver files are pull-request input, not policy
    trusted = gating and bool(getattr(args, "config", None))
    extra = None
    given = getattr(args, "waivers", None)
    if given:
        if not os.path.isfile(given):
            raise UsageError(f"{given}: waiver file not found")
        extra = os.path.abspath(given)
    elif trusted:
        # only beside the trusted config: a path relative to the repository would let the PR write it
        candidate = os.path.join(os.path.dirname(os.path.abspath(options.config.path)), options.config.waivers)
        if os.path.isfile(candidate):
            extra = candidate
        elif options.config.waivers != DEFAULT_FILE:
            raise UsageError(f"{options.config.waivers}: waiver file (config `waivers`) not found beside "
                             f"{options.config.path}")
    elif options.config.waivers and options.config.waivers != DEFAULT_FILE:
        base = os.path.dirname(os.path.abspath(options.config.path)) if options.config.path else root
        candidate = os.path.join(root, options.config.waivers)
        if not os.path.isfile(candidate):
            candidate = os.path.join(base, options.config.waivers)
        if not os.path.isfile(candidate):
            raise UsageError(f"{options.config.waivers}: waiver file (config `waivers`) not found")
        extra = candidate
    options.steps.append(WaiverStep(inline, extra, repository_files=not trusted,
                                    protected=GATE_PROTECTED if gating else frozenset()))


class WaiverStep:
    def __init__(self, inline: bool, extra_file: str | None, repository_files: bool = True,
                 protected: frozenset = frozenset()):
        self.inline = inline
        self.extra_file = extra_file
        self.repository_files = repository_files   # the .prr-waivers.yaml files found in the repository
        self.protected = protected                 # rule ids and names no waiver may cover

    def __call__(self, result: Result, run: StepContext) -> Result:
        today = result.today or datetime.date.today()
        docs = [d for d in result.docs if d.kind == "waivers"] if self.repository_files else []
        if self.extra_file:
            doc = self._load_extra(result, run, self.extra_file)
            if doc is not None and not any(d.file == doc.file for d in docs):
                docs.append(doc)
        waivers = [w for doc in docs for w in file_waivers(doc, today)]
        inline = self._inline_waivers(result, today) if self.inline else []
        for f in result.findings:
            if f.suppressed or f.rule_id in self.protected or f.rule_name in self.protected:
                continue
            for w in inline + waivers:
                if w.covers(f):
                    if w.expired:
                        continue
                    f.suppression = w.suppression()
                    w.matched.append(f.fingerprint)
                    break
        self._report_expired_inline(result, run, inline)
        self._report_unused(result, waivers + inline)
        result.waivers = waivers + inline
        return result

    # -- waiver files ----------------------------------------------------------------------------
    def _load_extra(self, result: Result, run: StepContext, path: str) -> Document | None:
        from .loaders import load_text
        from .loaders.errors import LoadError

        rel = os.path.relpath(path, result.root).replace(os.sep, "/") if inside(result.root, path) else path
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"{rel}: cannot read waiver file: {e}") from None
        try:
            docs = load_text(rel, text, "waivers", set())
        except LoadError as e:
            raise UsageError(f"{rel}:{e.line}: invalid waiver file: {e.message}") from None
        if not docs:
            return None
        doc = docs[0]
        doc.meta["governs"] = ""
        # the engine did not read this file as a waiver file: run the waiver-file rules on it here
        run.check(result, doc)
        return doc

    # -- inline comments -------------------------------------------------------------------------
    def _inline_waivers(self, result: Result, today: datetime.date) -> list:
        repo = result.repo
        out: list[Waiver] = []
        if repo is None:   # no repository read: no file to hold a comment
            return out
        for file in sorted({f.file for f in result.findings}):
            how = repo.candidates.get(file)
            if how not in _INLINE_KINDS:
                continue
            text = repo.read(file)
            if not text or "prr-lint:" not in text:
                continue
            found = hcl_comments(text) if how == "terraform" else yaml_comments(text)
            for n, comment, alone in found:
                m = INLINE.search(comment)
                if not m:
                    continue
                w = inline_waiver(file, n, m, alone and comment[:m.start()].strip() == "", today)
                if w is None:
                    result.notices.append(
                        (file, f"line {n}: inline waiver ignored: `expires` is not a date (YYYY-MM-DD)"))
                else:
                    out.append(w)
        return out

    def _report_expired_inline(self, result: Result, run: StepContext, inline: list) -> None:
        rule = next((r for r in result.ran if r.id == WAIVER_EXPIRED), None)
        if rule is None:
            return
        for w in inline:
            if not w.expired or not any(w.covers(f) for f in result.findings):
                continue
            message = (f"inline waiver for {','.join(w.rules)} expired on {w.expires.isoformat()}; "
                       "the finding it covered is reported again")
            run.emit(result, rule, w.file, w.line, 1, message, f"inline:{','.join(w.rules)}")

    def _report_unused(self, result: Result, waivers: list) -> None:
        if not result.whole:
            return  # a narrowed run cannot tell an unused waiver from one for files it did not check
        selected = result.ran
        for w in waivers:
            if w.matched or w.expired:
                continue
            if not any(r.id in w.rules or r.name in w.rules for r in selected):
                continue
            what = "inline waiver" if w.kind == "inline" else "waiver"
            result.notices.append((w.file, f"line {w.line}: unused {what}: {','.join(w.rules)} matched no finding"))
        result.notices.sort()


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def file_waivers(doc: Document, today: datetime.date) -> list:
    """Valid entries of a waiver file (invalid ones are PRR001 findings and waive nothing)."""
    from .schemas import schema_errors

    items = doc.get(("waivers",))
    if not isinstance(items, list):
        return []
    bad = {e.absolute_path[1] for e in schema_errors(doc.data, "waivers.schema.json")
           if len(e.absolute_path) >= 2 and e.absolute_path[0] == "waivers"}
    if any(len(e.absolute_path) < 2 for e in schema_errors(doc.data, "waivers.schema.json")):
        return []
    # a .prr-waivers.yaml governs its own directory; the configured waiver file the whole repository
    base = doc.meta.get("governs", posixpath.dirname(doc.file))
    out = []
    for i, item in enumerate(items):
        if i in bad or not isinstance(item, dict):
            continue
        target = item["target"]
        expires = _date(item["expires"])
        out.append(Waiver(
            kind="waiver", rules=[item["rule"]], reason=item["reason"], owner=item["owner"], expires=expires,
            file=doc.file, line=doc.locate(("waivers", i)).line, approver=item.get("approver", ""),
            ticket=item.get("ticket", ""), service=target.get("service"), path=target.get("path"),
            address=target.get("address"), base=base, expired=expires is not None and expires < today,
        ))
    return out


def inline_waiver(file: str, n: int, m, comment_only: bool, today: datetime.date) -> Waiver | None:
    rules = [r for r in m.group(1).split(",") if r]
    rest = m.group(2)
    reason = ""
    rm = _REASON.search(rest)
    if rm:
        reason = next(g for g in rm.groups() if g is not None).replace('\\"', '"')
    expires = None
    em = _EXPIRES.search(rest)
    if em:
        expires = _date(em.group(1))
        if expires is None:
            return None
    return Waiver(kind="inline", rules=rules, reason=reason, owner="", expires=expires, file=file, line=n,
                  comment_only=comment_only, expired=expires is not None and expires < today)


# -- comments, as the parsers see them ------------------------------------------------------------
# Waiver syntax inside a string value (`description: "# prr-lint: disable=..."`, a block scalar, an HCL
# heredoc or label) is data a pull request controls, not a comment: only real comments waive.
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")   # the line breaks libyaml counts


def yaml_comments(text: str) -> list:
    """(line, comment text, alone on its line) of each YAML comment: a `#` outside every token libyaml
    scans. Past a scanning error nothing is known, so nothing there counts as a comment."""
    import bisect

    import yaml

    from .loaders.yamlread import _Loader

    tokens = []
    limit = len(text)
    loader = _Loader(text)
    try:
        while loader.check_token():
            tok = loader.get_token()   # never None after check_token()
            if tok is not None and tok.end_mark.index > tok.start_mark.index:
                tokens.append((tok.start_mark.index, tok.end_mark.index))
    except yaml.YAMLError as e:
        marks = [m.index for m in (getattr(e, "context_mark", None), getattr(e, "problem_mark", None)) if m]
        limit = min(marks, default=0)
    finally:
        loader.dispose()
    breaks = [m.end() for m in _YAML_BREAK.finditer(text)]   # offsets where lines 2, 3, ... start
    out = []
    t = 0
    pos = text.find("#")
    while 0 <= pos < limit:
        while t < len(tokens) and tokens[t][1] <= pos:
            t += 1
        if t < len(tokens) and tokens[t][0] <= pos:   # inside a scalar, a tag, ...: data
            pos = text.find("#", tokens[t][1])
            continue
        line = bisect.bisect_right(breaks, pos)
        start = breaks[line - 1] if line else 0
        m = _YAML_BREAK.search(text, pos)
        end = m.start() if m else len(text)
        out.append((line + 1, text[pos:end], text[start:pos].strip() == ""))
        pos = text.find("#", end)
    return out


def hcl_comments(text: str) -> list:
    """(line, comment text, alone on its line) of each HCL comment (`#`, `//`, `/* */`), from tree-sitter."""
    from .loaders.hcl import _get_parser

    src = text.encode("utf-8", "replace")
    out = []
    stack = [_get_parser().parse(src).root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            start = src.rfind(b"\n", 0, node.start_byte) + 1
            alone = src[start:node.start_byte].strip() == b""
            raw = src[node.start_byte:node.end_byte].decode("utf-8", "replace")
            for k, part in enumerate(raw.split("\n")):
                out.append((node.start_point[0] + 1 + k, part, alone or k > 0))
            continue
        stack.extend(node.children)
    return sorted(out)
