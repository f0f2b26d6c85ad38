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

from .discover import UsageError, inside
from .model import Document, Suppression

EXPIRED_RULE = "PRR002"
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
            return f.file == self.file and (f.span.line == self.line or (self.comment_only and f.span.line == self.line + 1))
        if self.base and not (f.file == self.base or f.file.startswith(self.base + "/")):
            return False
        if self.service is not None and f.service != self.service:
            return False
        if self.path is not None:
            import pathspec

            rel = f.file[len(self.base) + 1:] if self.base else f.file
            if not pathspec.GitIgnoreSpec.from_lines([self.path]).match_file(rel):
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
    extra = None
    given = getattr(args, "waivers", None)
    if given:
        if not os.path.isfile(given):
            raise UsageError(f"{given}: waiver file not found")
        extra = os.path.abspath(given)
    elif options.config.waivers and options.config.waivers != DEFAULT_FILE:
        base = os.path.dirname(os.path.abspath(options.config.path)) if options.config.path else root
        candidate = os.path.join(root, options.config.waivers)
        if not os.path.isfile(candidate):
            candidate = os.path.join(base, options.config.waivers)
        if not os.path.isfile(candidate):
            raise UsageError(f"{options.config.waivers}: waiver file (config `waivers`) not found")
        extra = candidate
    options.steps.append(WaiverStep(inline, extra))


class WaiverStep:
    def __init__(self, inline: bool, extra_file: str | None):
        self.inline = inline
        self.extra_file = extra_file

    def __call__(self, result):
        engine = result.extra.get("engine")
        today = engine.today if engine is not None else datetime.date.today()
        docs = [d for d in result.extra.get("docs", []) if d.kind == "waivers"]
        if self.extra_file:
            doc = self._load_extra(result, engine)
            if doc is not None and not any(d.file == doc.file for d in docs):
                docs.append(doc)
        waivers = [w for doc in docs for w in file_waivers(doc, today)]
        inline = self._inline_waivers(result, today) if self.inline else []
        for f in result.findings:
            if f.suppressed:
                continue
            for w in inline + waivers:
                if w.covers(f):
                    if w.expired:
                        continue
                    f.suppression = w.suppression()
                    w.matched.append(f.fingerprint)
                    break
        self._report_expired_inline(result, engine, inline)
        self._report_unused(result, engine, waivers + inline)
        result.extra["waivers"] = waivers + inline
        return result

    # -- waiver files ----------------------------------------------------------------------------
    def _load_extra(self, result, engine):
        from .loaders import load_text
        from .loaders.errors import LoadError

        path = self.extra_file
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
        if engine is not None:
            # the engine did not read this file as a waiver file: run the waiver-file rules on it here
            engine.check_added(result, doc)
        return doc

    # -- inline comments -------------------------------------------------------------------------
    def _inline_waivers(self, result, today) -> list:
        repo = result.extra.get("repo")
        out = []
        for file in sorted({f.file for f in result.findings}):
            how = repo.candidates.get(file) if repo is not None else None
            if how not in _INLINE_KINDS:
                continue
            text = repo.read(file)
            if not text or "prr-lint:" not in text:
                continue
            for n, line in enumerate(text.splitlines(), 1):
                m = INLINE.search(line)
                if not m:
                    continue
                w = inline_waiver(file, n, line, m, today)
                if w is None:
                    result.notices.append((file, f"line {n}: inline waiver ignored: `expires` is not a date (YYYY-MM-DD)"))
                else:
                    out.append(w)
        return out

    def _report_expired_inline(self, result, engine, inline: list) -> None:
        if engine is None:
            return
        rule = next((r for r in engine.rules if r.id == EXPIRED_RULE), None)
        if rule is None:
            return
        from .engine import _fingerprint

        added = False
        for w in inline:
            if not w.expired or not any(w.covers(f) for f in result.findings):
                continue
            message = (f"inline waiver for {','.join(w.rules)} expired on {w.expires.isoformat()}; "
                       "the finding it covered is reported again")
            engine.emit_at(rule, w.file, w.line, 1, message, f"inline:{','.join(w.rules)}",
                           result.extra.get("graph"), result.findings)
            added = True
        if added:
            _fingerprint(result.findings)

    def _report_unused(self, result, engine, waivers: list) -> None:
        if not result.whole:
            return  # a narrowed run cannot tell an unused waiver from one for files it did not check
        selected = engine.rules if engine is not None else result.rules
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
    from .config import schema_errors

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


def inline_waiver(file: str, n: int, line: str, m, today: datetime.date) -> Waiver | None:
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
    comment_only = line[:m.start()].strip() == ""
    return Waiver(kind="inline", rules=rules, reason=reason, owner="", expires=expires, file=file, line=n,
                  comment_only=comment_only, expired=expires is not None and expires < today)
