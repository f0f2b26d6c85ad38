"""Rule reference pages from metadata + fixtures, so every documented example is a tested one."""

from __future__ import annotations

import os
import re
import urllib.parse

from .escape import line_start, one_line

EXPECT = re.compile(r"\s*#\s*expect:\s*([A-Z0-9_, ]+?)\s*$")
_LANG = {".yaml": "yaml", ".yml": "yaml", ".tf": "hcl", ".json": "json", ".md": "markdown", ".rego": "rego"}
TIER_HEADER = "| tier 0 | tier 1 | tier 2 | tier 3 |"


def _levels(rule) -> str:
    return "| " + " | ".join(rule.severity.get(t) or "—" for t in range(4)) + " |"


def fixture_files(directory: str) -> list[tuple[str, str]]:
    """(relative name, text) of every example file in a bad/ or good/ directory, sorted."""
    out = []
    if not os.path.isdir(directory):
        return out
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames.sort()
        for name in sorted(filenames):
            if name in ("EXPECT", ".gitkeep") or name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, directory).replace(os.sep, "/")
            with open(full, encoding="utf-8", errors="replace") as fh:
                out.append((rel, fh.read()))
    return out


def _example(rel: str, text: str) -> str:
    lang = _LANG.get(os.path.splitext(rel)[1], "")
    # the harness's `# expect: ID` markers become a pointer at the reported line
    body = "\n".join(EXPECT.sub(r"  # <-- \1", line) for line in text.rstrip("\n").split("\n"))
    return f"`{rel}`\n\n```{lang}\n{body}\n```\n"


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
                lines += [_example(rel, text) for rel, text in files[:3]]
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
