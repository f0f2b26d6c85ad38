from prr_lint.checks.readiness import age_problem, field_name, reference_problem
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule


@rule(
    id="SVC080",
    name="readiness-review",
    summary="No production-readiness review on record (`spec.review: {approver, date, record}`), one older than "
            "the tier's window, or a record that does not exist.",
    why="The checks here cover what a machine can read; a production-readiness review covers the rest "
        "(failure modes, data handling, on-call load) and makes someone accountable for the launch decision. "
        "A review from years ago describes a service that no longer exists.",
    fix="Hold a production-readiness review, keep its record (the checklist, the decisions, the follow-ups) in "
        "the repository or at a stable URL, and add `spec.review` with the `approver`, the `date` "
        "(YYYY-MM-DD) and the `record`. Review again within the tier's `review_within_days` (365 days for "
        "tiers 0 and 1). In a Backstage Component: the annotations `prr-lint/review-approver`, "
        "`prr-lint/review-date` and `prr-lint/review-record` (or a `metadata.links` entry titled "
        "\"Readiness review\").",
    targets=[SERVICE],
    tags=["review"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, ctx):
    within = ctx.policy.get("review_within_days")
    if not within:
        return
    base = service.path("review")
    review = service.get("review")
    names = {key: service.field("review", key) for key in ("approver", "date", "record")}
    if not isinstance(review, dict):
        add = (f"{names['approver']}, {names['date']} and {names['record']}" if service.manifest.kind == "backstage"
               else f"{field_name(base)} with its approver, date and record")
        yield Hit(service.manifest, base,
                  f"{service.label}: no production-readiness review on record; hold one and add {add} "
                  f"(tier {ctx.tier}: at least every {within} days)")
        return
    approver = review.get("approver")
    if not isinstance(approver, str) or not approver.strip():
        yield Hit(service.manifest, service.at("review", "approver") if "approver" in review else base,
                  f"{service.label}: production-readiness review names no approver; set {names['approver']}")
    problem = age_problem(review.get("date"), "production-readiness review", within, ctx.tier, names["date"],
                          "review the service again", ctx.today)
    if problem:
        yield Hit(service.manifest, service.at("review", "date") if "date" in review else base,
                  f"{service.label}: {problem}")
    record = review.get("record")
    if record is None:
        yield Hit(service.manifest, base,
                  f"{service.label}: production-readiness review names no record; link it in {names['record']}")
    else:
        problem = reference_problem(record, ctx, service.directory, "review record", names["record"])
        if problem:
            yield Hit(service.manifest, service.at("review", "record"), f"{service.label}: {problem}")
