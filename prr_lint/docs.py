"""Rule reference pages from metadata + fixtures, so every documented example is a tested one."""

from __future__ import annotations

import os
import re
import urllib.parse

from .escape import line_start, one_line
from .fixtures import EXPECT_FILE, expect_marker, expected, fixtures

_LANG = {".yaml": "yaml", ".yml": "yaml", ".tf": "hcl", ".json": "json", ".md": "markdown", ".rego": "rego"}
TIER_HEADER = "| tier 0 | tier 1 | tier 2 | tier 3 |"
FLAG = "  # <-- "          # what an `# expect: ID` marker becomes on the page
_NOT_EXAMPLES = (EXPECT_FILE, ".gitkeep")


def _levels(rule) -> str:
    return "| " + " | ".join(rule.severity.get(t) or "—" for t in range(4)) + " |"


def _walk(fixture: str) -> list[str]:
    """Files of a fixture, each directory's files before its subdirectories, sorted; dotfiles (.prr-lint.yaml,
    .git-history, .prr-waivers.yaml) are part of the example."""
    if os.path.isfile(fixture):
        return [fixture]
    out = []
    for dirpath, dirnames, filenames in os.walk(fixture):
        dirnames.sort()
        out += [os.path.join(dirpath, n) for n in sorted(filenames) if n not in _NOT_EXAMPLES]
    return out


def fixture_files(directory: str) -> list[tuple[str, str]]:
    """(name relative to `directory`, text with flagged lines pointed at) of every file of every fixture in a
    bad/ or good/ directory: files with a flagged line first, then the others, each group in fixture order."""
    rule_dir, sub = os.path.split(os.path.normpath(directory))
    flagged: list[tuple[str, str]] = []
    plain: list[tuple[str, str]] = []
    for fixture in fixtures(rule_dir, sub):
        root = fixture if os.path.isdir(fixture) else os.path.dirname(fixture)
        marks: dict[tuple[str, int], list[str]] = {}
        try:
            marked = expected(fixture)
        except (OSError, ValueError):    # a user rule's malformed EXPECT file: show the example unmarked
            marked = set()
        for rule_id, file, line in marked:
            marks.setdefault((file, line), []).append(rule_id)
        for full in _walk(fixture):
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().rstrip("\n").split("\n")
            shown = []
            for n, text in enumerate(lines, 1):
                marker = expect_marker(text)
                ids = sorted(marks.get((rel, n), ()))
                shown.append((marker[1] if marker else text) + (FLAG + ", ".join(ids) if ids else ""))
            name = os.path.relpath(full, directory).replace(os.sep, "/")
            (flagged if any(ln == rel for ln, _ in marks) else plain).append((name, "\n".join(shown)))
    return flagged + plain


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run in `text`, so the example cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _code_span(text: str) -> str:
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _example(rel: str, text: str) -> str:
    lang = _LANG.get(os.path.splitext(rel)[1], "")
    fence = _fence(text)
    return f"{_code_span(rel)}\n\n{fence}{lang}\n{text}\n{fence}\n"


def rule_page(rule) -> str:
    lines = [
        f"# {rule.id} {rule.name}",
        "",
        rule.summary,
        "",
        f"{TIER_HEADER} applies to | tags | since |",
        "|---|---|---|---|---|---|---|",
        f"{_levels(rule)} {', '.join(rule.targets)} | {', '.join(rule.tags) or '—'} | {rule.since} |",
        "",
        "## Why it matters",
        "",
        rule.why,
        "",
        "## How to fix",
        "",
        rule.fix,
        "",
    ]
    if rule.directory:
        for title, sub in (("Example", "bad"), ("Use instead", "good")):
            files = fixture_files(os.path.join(rule.directory, sub))
            if files:
                lines += [f"## {title}", ""]
                lines += [_example(rel, text) for rel, text in files]
    lines.append("Severity per tier can be changed under `severity:` in `.prr-lint.yaml`; "
                 f"silence one place with `# prr-lint: disable={rule.id} reason=\"...\"`.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md(value) -> str:
    """A user rule's metadata comes from the checked repository: one line, no pipe or HTML in a table cell."""
    return one_line(value).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def rules_table(rules, markdown: bool = False) -> str:
    if markdown:
        lines = [f"| id | name | summary | tags {TIER_HEADER}", "|---|---|---|---|---|---|---|---|"]
        for r in rules:
            rid = _md(r.id)
            link = f"[{rid}]({urllib.parse.quote(one_line(r.id))}.md)"
            lines.append(f"| {link} | {_md(r.name)} | {_md(r.summary)} | {_md(', '.join(r.tags))} {_levels(r)}")
        return "\n".join(lines) + "\n"
    width = max((len(one_line(r.name)) for r in rules), default=4)
    lines = [f"{'ID':<8} {'NAME':<{width}}  {'T0':<7} {'T1':<7} {'T2':<7} {'T3':<7} TAGS"]
    for r in rules:
        levels = " ".join(f"{(r.severity.get(t) or '-'):<7}" for t in range(4))
        lines.append(f"{line_start(r.id):<8} {one_line(r.name):<{width}}  {levels} {one_line(','.join(r.tags))}")
    return "\n".join(lines) + "\n"


def index_page(rules) -> str:
    return ("# prr-lint rules\n\nGenerated from the rule pack by `python -m prr_lint.docs`; do not edit.\n\n"
            "Severity by service tier (— means the rule does not apply at that tier).\n\n" + rules_table(rules, True))


def generate(out_dir: str) -> dict:
    """{path: content} of every generated page."""
    from .registry import load_rules

    rules = load_rules()
    pages = {os.path.join(out_dir, f"{r.id}.md"): rule_page(r) for r in rules}
    pages[os.path.join(out_dir, "README.md")] = index_page(rules)
    return pages


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(root, "docs", "rules")
    os.makedirs(out_dir, exist_ok=True)
    pages = generate(out_dir)
    for name in os.listdir(out_dir):
        if name.endswith(".md") and os.path.join(out_dir, name) not in pages:
            os.remove(os.path.join(out_dir, name))
    for path, content in pages.items():
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(content)
    print(f"wrote {len(pages)} pages to {out_dir}")


if __name__ == "__main__":
    main()
