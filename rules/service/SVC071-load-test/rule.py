from prr_lint.checks.readiness import age_problem, field_name, reference_problem
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC071",
    name="load-test",
    summary="No load test within the tier's window (`spec.capacity.loadTest.lastRun`), or its report is missing.",
    why="A capacity plan is a guess until load has been put on the service: load tests find the connection "
        "pool, the lock or the downstream quota that gives out long before CPU does. Code and traffic change, "
        "so a load test from last year says little about today's release.",
    fix="Run a load test at (or above) the planned peak, keep its report in the repository or at a stable "
        "URL, and record both in `spec.capacity.loadTest: {lastRun: YYYY-MM-DD, report: ...}`. The window is "
        "the tier's `load_test_within_days` (90 days for tier 0, 180 for tier 1). In a Backstage Component: "
        "the annotations `prr-lint/load-test-date` and `prr-lint/load-test-report` (or a `metadata.links` "
        "entry titled \"Load test report\").",
    targets=[SERVICE],
    tags=["capacity"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    within = ctx.policy.get("load_test_within_days")
    if not within:
        return
    capacity = service.get("capacity")
    base = service.at("capacity", "loadTest")
    date_field = service.field("capacity", "loadTest.lastRun")
    report_field = service.field("capacity", "loadTest.report")
    load_test = capacity.get("loadTest") if isinstance(capacity, dict) else None
    if not isinstance(load_test, dict):
        add = (f"{date_field} and {report_field}" if service.manifest.kind == "backstage"
               else f"{field_name(base)} with its lastRun date and report")
        yield Hit(service.manifest, base,
                  f"{service.label}: no load test recorded; run one and add {add} "
                  f"(tier {ctx.tier}: at least every {within} days)")
        return
    problem = age_problem(load_test.get("lastRun"), "load test", within, ctx.tier, date_field, "run it again",
                          ctx.today)
    if problem:
        at = service.at("capacity", "loadTest.lastRun") if "lastRun" in load_test else base
        yield Hit(service.manifest, at, f"{service.label}: {problem}")
    report = load_test.get("report")
    if report is None:
        yield Hit(service.manifest, base, f"{service.label}: load test names no report; link it in {report_field}")
    else:
        problem = reference_problem(report, ctx, service.directory, "load test report", report_field)
        if problem:
            yield Hit(service.manifest, service.at("capacity", "loadTest.report"), f"{service.label}: {problem}")
