"""Where a runbook (or procedure) reference leads, and whether it resolves.

A reference is one of:
- a repository path, relative to the file that names it, or `/`-anchored at the project root, optionally
  with `#anchor`: the file must exist and, for Markdown, the anchor must match a heading (GitHub-style
  slugs, `-1`/`-2` for repeated headings, explicit `<a name|id>` anchors, `#L10` line anchors);
- a URL into this same repository (`repo_url` in config, else the git `origin` remote), in the
  GitHub/GitLab/Bitbucket forms `<repo>/blob/<ref>/<path>`, `<repo>/-/blob/<ref>/<path>`,
  `<repo>/src/<ref>/<path>` (and `tree`/`raw`): checked as the local file and heading;
- any other http(s) URL: its host must be in `runbook_hosts` (an empty list allows every host: there is
  nothing to check against, and prr-lint never fetches URLs).

Headings are read through the run's Repository and kept in its memo, so each Markdown file is read once.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..service import resolve_path

MARKDOWN_EXT = (".md", ".markdown", ".mdown", ".mkd")
README_NAMES = ("README.md", "readme.md", "Readme.md", "README.markdown")
# path segments after `<repo>/` that introduce `<ref>/<path>`
_FILE_FORMS = (("-", "blob"), ("-", "tree"), ("-", "raw"), ("blob",), ("tree",), ("raw",), ("src",), ("edit",))
_LINE_ANCHOR = re.compile(r"^L\d+(C\d+)?(-L\d+(C\d+)?)?$")
# HTML anchors: `<a ... name="x">` / `id="x"`, the first such attribute of each `<a` tag
_A_OPEN = re.compile(r"<a\s", re.IGNORECASE)
_ANCHOR_ATTR = re.compile(r"""\b(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@dataclass
class Link:
    """One reference, resolved."""

    ref: str
    kind: str                     # "path", "repo-url", "url" or "invalid"
    local: str | None = None      # repository-relative file or directory it resolves to (path, repo-url)
    anchor: str | None = None
    host: str | None = None
    problem: str | None = None    # why it does not resolve; None when it does
    missing: bool = False         # the problem is that the local file does not exist

    @property
    def ok(self) -> bool:
        return self.problem is None


# -- Markdown headings ----------------------------------------------------------------------------

def slug(text: str) -> str:
    """GitHub's heading slug (github-slugger): lower case, keep letters, marks, numbers, `_`, `-` and
    spaces, then spaces become `-`."""
    out = []
    for ch in text.strip().lower():
        cat = unicodedata.category(ch)
        if ch == " ":
            out.append("-")
        elif ch == "-" or cat[0] in "LMN" or cat == "Pc":
            out.append(ch)
    return "".join(out)


# The scanners below are hand-written because a regex search that retries from every `[` or `<` of a
# heading made of `![![![...` takes quadratic time (a 64 KB heading: 45 s). Each keeps the next closing
# character it found: positions only move forward, so every character is looked at a bounded number of times.

class _Next:
    """The first index of `ch` at or after a position, for positions that never decrease."""

    def __init__(self, text: str, ch: str):
        self.text, self.ch, self.at = text, ch, -1

    def find(self, start: int) -> int:
        if self.at < start and self.at != len(self.text):
            found = self.text.find(self.ch, start)
            self.at = len(self.text) if found < 0 else found
        return self.at


def _strip_links(raw: str) -> str:
    """`[text](url)`, `![text](url)` and `[text][ref]` -> `text` (the link text of a heading)."""
    out = []
    close, paren, close2 = _Next(raw, "]"), _Next(raw, ")"), _Next(raw, "]")
    n = len(raw)
    i = 0
    while i < n:
        j = raw.find("[", i)
        if j < 0:
            break
        end = close.find(j + 1)
        if end >= n:
            break                 # no `]` anywhere after: no link can start here or later
        start = j - 1 if j > i and raw[j - 1] == "!" else j
        after = raw[end + 1:end + 2]
        stop = paren.find(end + 2) if after == "(" else close2.find(end + 2) if after == "[" else n
        if stop < n:
            out.append(raw[i:start])
            out.append(raw[j + 1:end])
            i = stop + 1
        else:
            out.append(raw[i:j + 1])
            i = j + 1
    out.append(raw[i:])
    return "".join(out)


def _strip_tags(raw: str) -> str:
    """Remove `<...>` HTML tags (at least one character between the brackets)."""
    out = []
    gt = _Next(raw, ">")
    n = len(raw)
    i = 0
    while i < n:
        j = raw.find("<", i)
        if j < 0:
            break
        end = gt.find(j + 2) if j + 1 < n and raw[j + 1] != ">" else n
        if end >= n:
            out.append(raw[i:j + 1])
            i = j + 1
            continue
        out.append(raw[i:j])
        i = end + 1
    out.append(raw[i:])
    return "".join(out)


def html_anchors(text: str) -> list[str]:
    """The `name`/`id` of every `<a>` tag: the first such attribute after `<a` and before the tag's `>`."""
    out: list[str] = []
    gt = _Next(text, ">")
    attr: re.Match[str] | Literal[False] | None = None   # None: not looked for yet; False: there is no more
    pos = 0
    while True:
        m = _A_OPEN.search(text, pos)
        if m is None:
            return out
        end = gt.find(m.end())
        if attr is None or (attr is not False and attr.start() < m.end()):
            attr = _ANCHOR_ATTR.search(text, m.end()) or False
        if attr is not False and attr.start() < end:
            out.append(attr.group(1))
            pos = attr.end()
        else:
            pos = end if end > m.end() else m.end()


def _heading_text(raw: str) -> str:
    return _strip_tags(_strip_links(raw)).strip()


def markdown_headings(text: str) -> list[str]:
    """The text of every ATX and setext heading, outside fenced code blocks and front matter."""
    headings: list[str] = []
    lines = text.splitlines()
    fence = None
    prev = None           # previous line, when it could be a setext heading's text
    start = 0
    if lines and lines[0].strip() == "---":       # YAML front matter
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                start = i + 1
                break
    for line in lines[start:]:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if fence is not None:
            if indent < 4 and stripped.startswith(fence) and not stripped.strip(fence[0]).strip():
                fence = None
            prev = None
            continue
        if indent < 4 and (stripped.startswith("```") or stripped.startswith("~~~")):
            marker = stripped[0]
            fence = marker * (len(stripped) - len(stripped.lstrip(marker)))
            prev = None
            continue
        if indent < 4 and stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            rest = stripped[level:]
            if 1 <= level <= 6 and (not rest or rest[0] in " \t"):
                body = rest.strip()
                trimmed = body.rstrip("#")
                if not trimmed or trimmed.endswith((" ", "\t")):
                    body = trimmed.strip()
                headings.append(_heading_text(body))
                prev = None
                continue
        if indent < 4 and prev is not None and stripped.strip() and set(stripped.strip()) <= {"="} | {"-"} \
                and len(set(stripped.strip())) == 1:
            headings.append(_heading_text(prev))
            prev = None
            continue
        prev = line.strip() if line.strip() and indent < 4 else None
    return headings


def markdown_anchors(text: str) -> list[str]:
    """Every anchor a Markdown file offers: heading slugs (repeats numbered) and explicit HTML anchors."""
    seen: dict = {}
    out = []
    for heading in markdown_headings(text):
        base = slug(heading)
        candidate = base
        while candidate in seen:
            seen[base] += 1
            candidate = f"{base}-{seen[base]}"
        seen.setdefault(candidate, 0)
        seen.setdefault(base, 0)
        out.append(candidate)
    out.extend(html_anchors(text))
    return out


def anchors_of(repo, rel: str):
    """Anchors of a repository Markdown file, memoised per run; else why they cannot be known (a str)."""
    memo = repo.memo.setdefault("markdown-anchors", {})
    if rel not in memo:
        text, problem = repo.read_text(rel)
        memo[rel] = problem if text is None else markdown_anchors(text)
    return memo[rel]


# -- this repository's URL ----------------------------------------------------------------------

def normalize_remote(url: str) -> str | None:
    """`git@github.com:acme/shop.git`, `ssh://git@host/acme/shop`, `https://host/acme/shop.git/` ->
    `host/acme/shop` (lower-case host, no scheme, user, port or `.git`)."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    if "://" not in url and ":" in url and "@" in url.split(":", 1)[0]:
        host, path = url.split(":", 1)                 # scp-like: git@host:owner/repo.git
        host = host.split("@", 1)[1]
    else:
        parts = urlsplit(url if "://" in url else "https://" + url)
        host, path = parts.hostname or "", parts.path
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    if not host or not path:
        return None
    return f"{host.lower()}/{path}"


def _origin(repo) -> tuple[str, str] | None:
    """(normalized origin URL, git top-level relative to the repository root), memoised per run."""
    memo = repo.memo
    if "origin-remote" not in memo:
        memo["origin-remote"] = None
        try:
            from ..git import open_repo

            git_repo = open_repo(repo.root)
            if git_repo is not None and git_repo.working_tree_dir:
                url = next((r.url for r in git_repo.remotes if r.name == "origin"), None)
                norm = normalize_remote(url) if url else None
                top = os.path.relpath(git_repo.working_tree_dir, repo.root).replace(os.sep, "/")
                if norm and not top.startswith(".."):
                    memo["origin-remote"] = (norm, "" if top == "." else top)
        except Exception:  # an unreadable git config is no reason to fail a run
            memo["origin-remote"] = None
    return memo["origin-remote"]


def _repo_bases(repo, settings, project_dir: str) -> list[tuple[str, str]]:
    """(normalized URL of this repository, local directory it maps to)."""
    bases = []
    configured = normalize_remote(getattr(settings, "repo_url", None) or "")
    if configured:
        bases.append((configured, project_dir))
    origin = _origin(repo)
    if origin and origin[0] != configured:
        bases.append(origin)
    return bases


def _into_repo(url_norm: str, bases: list, repo) -> tuple[str, str] | None:
    """(local path, ref) of a URL into this repository in a blob/tree/src form, else None."""
    for base, local_dir in bases:
        if not (url_norm.lower() == base.lower() or url_norm.lower().startswith(base.lower() + "/")):
            continue
        rest = [unquote(p) for p in url_norm[len(base):].strip("/").split("/") if p]
        for form in _FILE_FORMS:
            if tuple(rest[:len(form)]) != form or len(rest) <= len(form):
                continue
            tail = rest[len(form):]
            # a ref may contain slashes (release/1.2): take the first split whose path exists
            candidates = [posixpath.normpath(posixpath.join(local_dir or ".", *tail[k:]))
                          for k in range(1, len(tail))] or [local_dir or "."]
            chosen = next((c for c in candidates if repo.exists(c)), candidates[0])
            return ("" if chosen == "." else chosen), tail[0]
    return None


def _join(base: str, parts: list) -> str:
    joined = "/".join(parts)
    if joined.startswith("/"):
        return joined             # an absolute path: never joined under the repository, refused as it is
    return posixpath.normpath(posixpath.join(base, joined))


# -- resolution ---------------------------------------------------------------------------------

def _host_allowed(host: str, allowed: list) -> bool:
    if not allowed:
        return True
    host = host.lower()
    for entry in allowed:
        entry = str(entry).lower().strip()
        if host == entry or fnmatch.fnmatchcase(host, entry) or (entry.startswith(".") and host.endswith(entry)):
            return True
    return False


def _check_local(link: Link, repo) -> Link:
    rel = link.local or ""
    if repo.outside(rel):
        # whether a path outside the checkout exists is never tested: no oracle for the pull request
        link.problem = f"{link.ref} points outside the repository"
        return link
    if not repo.exists(rel):
        link.problem = f"{rel or '.'} does not exist"
        link.missing = True
        return link
    anchor = link.anchor
    if not anchor or _LINE_ANCHOR.match(anchor):
        return link
    target = rel
    if not rel.lower().endswith(MARKDOWN_EXT):
        readme = next((posixpath.join(rel, n) for n in README_NAMES if repo.exists(posixpath.join(rel, n))), None) \
            if repo.is_dir(rel) else None
        if readme is None:
            return link               # only Markdown headings can be checked
        target = readme
    anchors = anchors_of(repo, target)
    if isinstance(anchors, str):
        link.problem = f"{target} {anchors}" + (": its headings were not checked" if "max_file_size" in anchors else "")
        return link
    wanted = unquote(anchor)
    if wanted.startswith("user-content-"):
        wanted = wanted[len("user-content-"):]
    if wanted not in anchors and wanted.lower() not in anchors:
        shown = ", ".join(f"#{a}" for a in anchors[:6]) + (", ..." if len(anchors) > 6 else "")
        link.problem = f"{target} has no heading for #{anchor}" + (f" (it has {shown})" if anchors else
                                                                   " (it has no headings)")
    return link


def resolve(ref, repo, settings, base_dir: str, project_dir: str = "") -> Link:
    """Resolve a reference named in a file under `base_dir` (repository-relative); `project_dir` is
    where `/`-anchored paths and `repo_url` links start (the project root). Memoised per run: several rules
    (PRR003, SVC020-022, readiness) resolve the same runbook and procedure links of every service."""
    if not isinstance(ref, str):
        return _resolve(ref, repo, settings, base_dir, project_dir)
    key = (ref, base_dir, project_dir, getattr(settings, "repo_url", None),
           tuple(map(str, getattr(settings, "runbook_hosts", None) or ())))
    memo = repo.memo.setdefault("resolved-links", {})
    link = memo.get(key)
    if link is None:
        link = memo[key] = _resolve(ref, repo, settings, base_dir, project_dir)
    return dataclasses.replace(link)      # a copy: the caller may change its own


def _resolve(ref, repo, settings, base_dir: str, project_dir: str) -> Link:
    if not isinstance(ref, str) or not ref.strip():
        return Link(str(ref), "invalid", problem="is empty or not a string")
    ref = ref.strip()
    scheme = ref.split(":", 1)[0].lower() if ":" in ref else ""
    if scheme and scheme.isalpha() and len(scheme) > 1 or "://" in ref:
        if scheme not in ("http", "https"):
            return Link(ref, "invalid",
                        problem=f"is a {scheme or 'non-http'} link, not a repository path or http(s) URL")
        try:
            parts = urlsplit(ref)
            host = parts.hostname or ""
        except ValueError:
            return Link(ref, "invalid", problem="is not a valid URL")
        if not host:
            return Link(ref, "invalid", problem="is a URL without a host")
        url_norm = f"{host}{parts.path}".rstrip("/")
        inside = _into_repo(url_norm, _repo_bases(repo, settings, project_dir), repo)
        if inside is not None:
            link = Link(ref, "repo-url", local=inside[0], anchor=parts.fragment or None, host=host)
            return _check_local(link, repo)
        link = Link(ref, "url", host=host, anchor=parts.fragment or None)
        allowed = list(getattr(settings, "runbook_hosts", None) or [])
        if not _host_allowed(host, allowed):
            link.problem = f"host {host} is not in runbook_hosts ({', '.join(map(str, allowed))})"
        return link
    path, _, anchor = ref.partition("#")
    if not path:
        return Link(ref, "invalid", anchor=anchor or None, problem="names only an anchor, not a file")
    local = resolve_path(base_dir, path, project_dir)
    return _check_local(Link(ref, "path", local=local, anchor=anchor or None), repo)


def resolve_for(ref, ctx, base_dir: str) -> Link:
    """`resolve` with a rule's context: its repository, settings and project root."""
    return resolve(ref, ctx.repo, ctx.settings, base_dir, getattr(ctx.graph, "anchor", "") or "")
