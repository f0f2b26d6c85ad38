from prr_lint.escape import one_line
from prr_lint.loaders import DUPLICATE_KEYS
from prr_lint.model import Hit, Span
from prr_lint.rule import rule


@rule(
    id="PRR008",
    name="duplicate-key",
    summary="A YAML mapping has the same key twice.",
    why="YAML says keys are unique, and tools disagree on a file that breaks the rule: kubectl and Helm keep "
        "the last value, some parsers keep the first, strict ones refuse the file. So the value a reviewer "
        "reads may not be the one that is deployed (a second `replicas:` further down silently wins). "
        "prr-lint reads the last value, like most deploy tools, and checks the rest of the document with it.",
    fix="Delete one of the two keys (the message gives the line of the first), keeping the value you mean. "
        "Keys brought by a merge (`<<: *anchor`) and overridden are not duplicates.",
    targets=["service", "backstage", "openslo", "sloth", "k8s", "helm-chart", "helm-values", "prometheus-rules",
             "waivers"],
    tags=["config"],
    severity="error",
    since="0.1.0",
)
def check(doc, _ctx):
    for dup in doc.meta.get(DUPLICATE_KEYS) or ():
        yield Hit(doc, tuple(dup["path"]),
                  f'key "{one_line(dup["key"])}" is set twice in one mapping (first at line {dup["first"]}); '
                  "deploy tools disagree on which value wins (prr-lint reads this one)",
                  Span(dup["line"], dup["col"]))
