"""Functions beyond PromQL: MetricsQL's (`promql_dialect: metricsql`, VictoriaMetrics rule files) and the
configuration's `extra_functions`.

The PromQL parser checks every call against a signature, so each function is registered with one:
`name(vector, scalar)`; a trailing `...` repeats the last argument type. A bare name in `extra_functions`
takes any number of vectors (`name(vector...)`). Every function is registered with the parser once, for the
whole process; whether a run accepts it is decided afterwards, from the calls in the parsed expression, so
parse results stay shared (and cached) between runs and dialects.

MetricsQL is read as PromQL plus MetricsQL's functions and its implicit subqueries (a range on any expression,
`(vector(1))[5m]`, is the subquery `[5m:]`): the rest of what MetricsQL adds to the grammar (WITH templates,
rollups without a window such as `rate(x)`, the `if`, `ifnot` and `default` operators, `keep_metric_names`,
number suffixes such as `1Ki`) is not parsed and stays a PROM006 finding.
"""

from __future__ import annotations

import re
import threading

import promql_parser

TYPES = {"vector": "Vector", "matrix": "Matrix", "scalar": "Scalar", "string": "String"}
# a range right after a closing bracket: PromQL allows only a subquery there (`)[5m:1m]`), MetricsQL reads a
# plain range as a subquery at the default step
_RANGE_AFTER_EXPR = re.compile(r"\)(\s*)\[(\s*[0-9][0-9a-z]*\s*)\]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
SPEC = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*((?:[a-z]+\s*,\s*)*[a-z]+)?\s*(\.\.\.)?\s*\))?\s*")

# MetricsQL functions that PromQL does not have, with their argument types (the functions both have keep
# PromQL's signature: the parser knows them already)
_M, _V, _S, _STR = "matrix", "vector", "scalar", "string"
METRICSQL: dict[str, tuple[tuple[str, ...], bool]] = {}
for _names, _args, _variadic in [
    # rollup functions over a range: f(series[window])
    ("aggr_over_time", (_STR, _M), False),
    ("ascent_over_time changes_prometheus decreases_over_time default_rollup delta_prometheus deriv_fast "
     "descent_over_time distinct_over_time first_over_time geomean_over_time histogram_over_time ideriv "
     "increase_prometheus increase_pure increases_over_time integrate lag lifetime median_over_time "
     "mode_over_time outlier_iqr_over_time range_over_time rate_over_sum rate_prometheus rollup "
     "rollup_candlestick rollup_delta rollup_deriv rollup_increase rollup_rate rollup_scrape_interval "
     "scrape_interval stale_samples_over_time sum2_over_time tfirst_over_time timestamp_with_name "
     "tlast_change_over_time tlast_over_time tmax_over_time tmin_over_time zscore_over_time", (_M,), False),
    ("count_eq_over_time count_gt_over_time count_le_over_time count_ne_over_time duration_over_time "
     "share_eq_over_time share_gt_over_time share_le_over_time sum_eq_over_time sum_gt_over_time "
     "sum_le_over_time", (_M, _S), False),
    ("hoeffding_bound_lower hoeffding_bound_upper", (_S, _M), False),
    ("count_values_over_time", (_STR, _M), False),
    # transforms of series: f(q), f(q, ...)
    ("drop_empty_series histogram_avg histogram_stddev histogram_stdvar interpolate keep_last_value "
     "keep_next_value prometheus_buckets range_avg range_first range_last range_linear_regression range_mad "
     "range_max range_median range_min range_stddev range_stdvar range_sum range_zscore remove_resets "
     "running_avg running_max running_min running_sum ttf", (_V,), False),
    ("range_normalize union drop_common_labels", (_V,), True),
    ("histogram_share buckets_limit range_quantile range_trim_outliers range_trim_spikes range_trim_zscore",
     (_S, _V), False),
    ("bitmap_and bitmap_or bitmap_xor smooth_exponential", (_V, _S), False),
    ("limit_offset", (_S, _S, _V), False),
    ("end now start step", (), False),
    ("rand rand_exponential rand_normal", (_S,), True),
    ("histogram_quantiles quantiles_over_time", (_STR, _S), True),
    # labels
    ("alias label_value", (_V, _STR), False),
    ("label_match label_mismatch", (_V, _STR, _STR), False),
    ("label_transform", (_V, _STR, _STR, _STR), False),
    ("label_copy label_del label_graphite_group label_keep label_lowercase label_map label_move label_set "
     "label_uppercase labels_equal sort_by_label_numeric sort_by_label_numeric_desc", (_V, _STR), True),
]:
    for _name in _names.split():
        METRICSQL[_name] = (_args, _variadic)

_lock = threading.Lock()
_registered: dict[str, tuple] = {}    # name -> signature it was registered with


def implicit_subqueries(expr: str) -> list[str]:
    """PromQL readings of MetricsQL's ranges on expressions, `vector(1)[5m]`: as the subquery
    `vector(1)[5m:]` (the argument of a rollup function) and as `default_rollup(vector(1)[5m:])` (an operand,
    which MetricsQL rolls up implicitly). Every combination for up to 4 such ranges; [] when there is none.
    Strings are left alone."""
    masked = _STRINGS.sub(lambda m: m.group(0)[0] + "x" * (len(m.group(0)) - 2) + m.group(0)[-1], expr)
    spots = list(_RANGE_AFTER_EXPR.finditer(masked))[:4]
    if not spots:
        return []
    readings = []
    for choice in range(1 << len(spots)):
        text = expr
        for k in range(len(spots) - 1, -1, -1):   # right to left: earlier offsets stay valid
            m = spots[k]
            end = m.end()
            text = text[:m.start()] + ")" + m.group(1) + "[" + m.group(2) + ":]" + text[end:]
            begin = _operand_start(masked, m.start()) if choice >> k & 1 else None
            if begin is not None:
                close = m.start() + len(")" + m.group(1) + "[" + m.group(2) + ":]")
                text = text[:begin] + "default_rollup(" + text[begin:close] + ")" + text[close:]
        readings.append(text)
    return readings


def _operand_start(masked: str, close: int) -> int | None:
    """Where the bracketed expression ending at `close` starts, a function name before it included."""
    depth = 0
    for i in range(close, -1, -1):
        if masked[i] == ")":
            depth += 1
        elif masked[i] == "(":
            depth -= 1
            if depth == 0:
                j = i
                while j > 0 and (masked[j - 1].isalnum() or masked[j - 1] in "_:"):
                    j -= 1
                return j
    return None


class SpecError(ValueError):
    pass


def parse_spec(spec: str) -> tuple[str, tuple[str, ...], bool]:
    """(name, argument types, variadic) of an `extra_functions` entry: `name` or `name(type, ...)`."""
    m = SPEC.fullmatch(spec) if isinstance(spec, str) else None
    if m is None:
        raise SpecError(f"'{spec}' is not a function name or `name(vector, scalar, ...)`")
    name, args, dots = m.group(1), m.group(2), m.group(3)
    if args is None and dots is None and "(" not in spec:
        return name, (_V,), True
    types = tuple(a.strip() for a in (args or "").split(",") if a.strip())
    unknown = [t for t in types if t not in TYPES]
    if unknown:
        raise SpecError(f"'{spec}': unknown argument type '{unknown[0]}' (expected one of {', '.join(TYPES)})")
    if dots and not types:
        raise SpecError(f"'{spec}': `...` repeats the last argument type, so it needs one")
    return name, types, bool(dots)


def accepted(dialect: str, extra: list) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Every function beyond PromQL that a run accepts, with its signature."""
    out = dict(METRICSQL) if dialect == "metricsql" else {}
    for spec in extra:
        name, types, variadic = parse_spec(spec)
        out[name] = (types, variadic)
    return out


def register(functions: dict) -> bool:
    """Register with the parser the functions it does not know yet; True when any was new (parses cached
    before may now succeed). A name registered before keeps its first signature."""
    new = []
    with _lock:
        for name, (types, variadic) in sorted(functions.items()):
            if name in _registered or _known(name):
                continue
            V = promql_parser.ValueType
            # an empty argument list with arguments given crashes the parser: no-argument functions
            # are registered as taking scalars, which the call then simply omits
            arg_types = [getattr(V, TYPES[t]) for t in types] or [V.Scalar]
            repeat = -1 if variadic or not types else 0
            new.append(promql_parser.Function(name, arg_types, V.Vector, repeat))
            _registered[name] = (types, variadic)
        if new:
            promql_parser.register_extra_functions(new)
    return bool(new)


def registered() -> set:
    return set(_registered)


def registered_signatures() -> dict:
    """{name: [argument types, variadic]} of what is registered, as JSON for the parser's worker process."""
    return {name: [list(types), variadic] for name, (types, variadic) in _registered.items()}


def _known(name: str) -> bool:
    """A function the PromQL parser knows itself: never re-registered, whatever the dialect says."""
    try:
        promql_parser.parse(f"{name}()")
    except BaseException as e:  # a panic in the parser too
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return "unknown function" not in str(e)
    return True
