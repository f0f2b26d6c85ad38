"""Differential test of the tree-sitter Terraform loader against python-hcl2, the reference reader.

For every `.tf` file under rules/, examples/ and tests/data/hcl/, the values our loader produces must
equal python-hcl2's. The two differ in representation only, and both sides are brought to one shape here,
never in the loader:

- python-hcl2 wraps every block in a list and adds `__is_block__`; top-level blocks are keyed by their
  labels in our data (`resource.TYPE.NAME`), a repeated one (`moved`, `provider "aws"` twice) is a list;
- python-hcl2 keeps heredocs as written (`<<-EOT ... EOT`); their value is computed here from the HCL
  spec (lines between the markers, each ending in a newline; `<<-` removes the common indentation);
- python-hcl2 re-prints expressions (`${...}`) with its own layout, so whitespace and commas inside an
  expression are not compared (the rules never look inside an expression: it is unknown to them).

Set PRR_HCL_ORACLE_DIRS (os.pathsep-separated) to run the same comparison over other trees, e.g. public
Terraform modules.
"""

import os
import re

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from prr_lint.loaders.errors import LoadError
from prr_lint.loaders.hcl import load_hcl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=True, preserve_heredocs=True,
                               strip_string_quotes=True, preserve_scientific_notation=False)


def tf_files(*dirs):
    out = []
    for base in dirs:
        for dirpath, dirnames, names in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            out.extend(os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".tf"))
    return out


FILES = tf_files(*(os.path.join(ROOT, d) for d in ("rules", "examples", os.path.join("tests", "data", "hcl"))))
EXTRA = tf_files(*[d for d in os.environ.get("PRR_HCL_ORACLE_DIRS", "").split(os.pathsep) if d])

_HEREDOC = re.compile(r"\A<<(-?)([A-Za-z_][\w-]*)\r?\n(.*?)^[ \t]*\2[ \t]*\Z", re.S | re.M)


def heredoc_value(text: str) -> str:
    m = _HEREDOC.match(text)
    if not m:
        return text
    lines = m.group(3).split("\n")[:-1] if m.group(3) else []
    if m.group(1):
        indent = min((len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()), default=0)
        lines = [line[indent:] for line in lines]
    return "".join(line + "\n" for line in lines)


def norm_string(s: str) -> str:
    if "${" in s or "%{" in s:
        # layout only: spaces, line breaks, commas (python-hcl2 puts one between object elements written on
        # separate lines and drops trailing ones), `"key": value` written as `"key" = value`
        s = re.sub(r'("\s*):(?!:)', r"\1=", s)
        s = re.sub(r"[\s,]+", "", s)
    return s


def norm(value):
    """Plain values with python-hcl2's markers removed and strings normalised."""
    if isinstance(value, dict):
        return {norm_string(k): norm(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, str):
        return norm_string(heredoc_value(value))
    return value


def _block_entry(entry) -> bool:
    while isinstance(entry, dict) and not entry.get("__is_block__"):
        if len(entry) != 1:
            return False
        entry = next(iter(entry.values()))
    return isinstance(entry, dict)


def from_hcl2(doc: dict) -> dict:
    """python-hcl2's output in our shape: top-level blocks keyed by type and labels."""
    out: dict = {}
    for key, value in doc.items():
        if not (isinstance(value, list) and value and all(_block_entry(e) for e in value)):
            out[key] = norm(value)      # an attribute (.tfvars style)
            continue
        for entry in value:
            labels, body = [], entry
            while not body.get("__is_block__"):
                (label, body), = body.items()
                labels.append(label)
            body = norm(body)
            if key == "locals":
                out.setdefault("locals", {}).update(body)
                continue
            container = out
            for part in ([key] + labels[:-1]) if labels else []:
                container = container.setdefault(part, {})
            last = labels[-1] if labels else key
            if last not in container:
                container[last] = body
            elif isinstance(container[last], list):
                container[last].append(body)
            else:
                container[last] = [container[last], body]
    return out


def ours(text: str) -> dict:
    data, _spans = load_hcl(text)
    return norm(data)


def compare(path: str):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        expected = from_hcl2(hcl2.loads(text, serialization_options=OPTIONS))
    except Exception as e:  # python-hcl2 rejects it: we must reject it too, without a traceback
        with pytest.raises(LoadError):
            load_hcl(text)
        return f"python-hcl2 rejects it: {type(e).__name__}"
    assert ours(text) == expected
    return None


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(p, ROOT) for p in FILES])
def test_values_equal_python_hcl2(path):
    compare(path)


@pytest.mark.skipif(not EXTRA, reason="PRR_HCL_ORACLE_DIRS not set")
@pytest.mark.parametrize("path", EXTRA, ids=EXTRA)
def test_values_equal_python_hcl2_on_extra_trees(path):
    compare(path)


def test_the_corpus_covers_the_tricky_cases():
    """The inputs of tests/data/hcl/ hold what the loader once got wrong; keep them in the corpus."""
    names = {os.path.basename(p) for p in FILES if "tests/data/hcl" in p.replace(os.sep, "/")}
    assert {"strings.tf", "heredocs.tf", "blocks.tf", "expressions.tf", "comments.tf"} <= names
    assert len(FILES) >= 20


def test_values_the_rules_rely_on():
    """Spot checks with exact values, so that a bug shared by both readers would still show."""
    data, spans = load_hcl(open(os.path.join(ROOT, "tests", "data", "hcl", "strings.tf"), encoding="utf-8").read())
    loc = data["locals"]
    assert loc["spaces"] == "  padded  "
    assert loc["escaped"] == 'tab\there "quoted" back\\slash\nnewline'
    assert loc["unicode"] == "caf\u00e9 \U0001F600"
    assert loc["only_interp"] == "${var.name}"
    assert spans[("locals", "spaces")].line == 13
    data, spans = load_hcl(open(os.path.join(ROOT, "tests", "data", "hcl", "expressions.tf"), encoding="utf-8").read())
    loc = data["locals"]
    assert (loc["negative"], loc["neg_flt"], loc["exp"], loc["exp_neg"]) == (-7, -0.5, 1000.0, 0.025)
    assert loc["map"]["${(var.dynamic)}"] == 3 and loc["map"]["with-dash"] == "colon"
    assert loc["multi"] == "${merge(\n    local.map,\n    { another = 1 }, \n  )}"
    data, spans = load_hcl(open(os.path.join(ROOT, "tests", "data", "hcl", "blocks.tf"), encoding="utf-8").read())
    assert [p["region"] for p in data["provider"]["aws"]] == ["eu-west-1", "us-east-1"]
    assert spans[("provider", "aws", 1, "region")].line == 17
    assert [m["to"] for m in data["moved"]] == ["${aws_instance.b}", "${aws_instance.d}"]
    sg = data["resource"]["aws_security_group"]["web"]
    assert sg["dynamic"][0]["egress"]["content"][0]["from_port"] == "${rule.value.port}"
    assert sg["lifecycle"][0]["prevent_destroy"] is True
    assert spans[("resource", "aws_security_group", "web", "ingress", 1, "from_port")].line == 38
