from prr_lint.checks.metricsql import implicit_subqueries
from prr_lint.checks.prometheus import name, rules
from prr_lint.checks.promql import unknown_function
from prr_lint.checks.promql_memo import facts_for
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="PROM006",
    name="expression-parses",
    summary="An alerting or recording rule's `expr` is not valid PromQL.",
    why="Prometheus refuses to load a rule file with one bad expression: every alert in the file stops "
        "being evaluated, not only the broken one, and nothing says so until someone looks at the "
        "Prometheus logs or the config reload metric.",
    fix="Correct the expression (the message gives the parser's error); check it with `promtool check "
        "rules` before merging. An expression over prr-lint's size limits (64 KiB, 500 binary operators, "
        "brackets nested 200 deep) is reported as too large to check without being parsed: the parser's "
        "time grows with the square of its size and it crashes on very large ones. Split it into "
        "recording rules. For VictoriaMetrics rule files set `promql_dialect: metricsql`: MetricsQL's "
        "functions are then valid, and so is a range on any expression (`(vector(1))[5m]`, read as the "
        "subquery `[5m:]`); the rest of MetricsQL's grammar, such as WITH templates or rollups without "
        "a window, is not parsed and stays a finding; `extra_functions` names more functions, as `name` "
        "(taking vectors) or `name(vector, scalar, ...)`.",
    targets=["prometheus-rules"],
    tags=["alerting"],
    severity={0: "error", 1: "error", 2: "error", 3: "error"},
    since="0.1.0",
)
def check(doc, ctx):
    metricsql = ctx.settings.promql_dialect == "metricsql"
    dialect = "PromQL with MetricsQL's functions" if metricsql else "PromQL"
    hint = "" if metricsql else ("; for VictoriaMetrics rule files set promql_dialect: metricsql, or add the "
                                 "function to extra_functions")
    for path, item in rules(doc):
        kind = "alert" if isinstance(item.get("alert"), str) else "recording rule"
        expr = item.get("expr")
        if isinstance(expr, (int, float)) and not isinstance(expr, bool):
            expr = str(expr)  # `expr: 1` is a valid (constant) expression
        if not isinstance(expr, str) or not expr.strip():
            yield Hit(doc, path + ("expr",), f'{kind} "{name(item)}" has no expr; every rule needs a PromQL '
                                             f'expression')
            continue
        parsed = facts_for(ctx, expr)
        if metricsql and not parsed.ok and not parsed.too_large:
            # MetricsQL's range on an expression: valid when one of its PromQL readings parses
            readings = (facts_for(ctx, reading) for reading in implicit_subqueries(expr))
            parsed = next((p for p in readings if p.ok), parsed)
        error = parsed.error if not parsed.ok else unknown_function(parsed, ctx.settings.promql_functions)
        if parsed.too_large:
            yield Hit(doc, path + ("expr",), f'{kind} "{name(item)}": expr is {parsed.error}')
        elif error is not None:
            yield Hit(doc, path + ("expr",), f'{kind} "{name(item)}": expr is not valid {dialect}: {error}'
                                             + (hint if "unknown function" in error else ""))
