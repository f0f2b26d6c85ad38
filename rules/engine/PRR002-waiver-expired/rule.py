import datetime

from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="PRR002",
    name="waiver-expired",
    summary="A waiver (in .prr-waivers.yaml or an inline `# prr-lint: disable=` comment) is past its expiry date.",
    why="A waiver is an accepted risk with a deadline. Once it expires the finding it covered is reported again; "
        "this finding points at the waiver itself so that whoever owns the risk renews it deliberately or removes it.",
    fix="Fix the waived finding and delete the waiver, or, if the risk is still accepted, set a new `expires` "
        "date with a current reason and approver.",
    targets=["waivers"],
    tags=["config"],
    severity="warning",
    since="0.1.0",
)
def check(doc, ctx):
    items = doc.get(("waivers",))
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("expires"), str):
            continue
        try:
            expires = datetime.date.fromisoformat(item["expires"])
        except ValueError:
            continue  # PRR001 reports the malformed date
        if expires < ctx.today:
            what = item.get("rule") if isinstance(item.get("rule"), str) else "?"
            owner = f" (owner: {item['owner']})" if isinstance(item.get("owner"), str) else ""
            yield Hit(doc, ("waivers", i, "expires"),
                      f"waiver for {what} expired on {expires.isoformat()}{owner}; "
                      "the finding it covered is reported again")
