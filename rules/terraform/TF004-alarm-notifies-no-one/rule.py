from prr_lint.checks.terraform import UNKNOWN, is_empty, is_false, module_resources, resources
from prr_lint.rule import rule

# resource type -> (what must be set, how to say it)
NOTIFY = {
    "aws_cloudwatch_metric_alarm": ("alarm_actions", "set alarm_actions to an SNS topic (or another action)"),
    "aws_cloudwatch_composite_alarm": ("alarm_actions", "set alarm_actions to an SNS topic (or another action)"),
    "google_monitoring_alert_policy": ("notification_channels", "set notification_channels"),
    "azurerm_monitor_metric_alert": ("action", "add an action { action_group_id = ... } block"),
    "azurerm_monitor_activity_log_alert": ("action", "add an action { action_group_id = ... } block"),
    "azurerm_monitor_scheduled_query_rules_alert_v2": ("action", "add an action { action_groups = [...] } block"),
}


@rule(
    id="TF004",
    name="alarm-notifies-no-one",
    summary="A cloud alarm or alert policy notifies no one when it fires.",
    why="An alarm without an action changes colour on a console nobody watches. The outage it was "
        "written for is found by customers instead.",
    fix="Give aws_cloudwatch_metric_alarm and aws_cloudwatch_composite_alarm `alarm_actions`, "
        "google_monitoring_alert_policy `notification_channels`, and azurerm_monitor_metric_alert, "
        "azurerm_monitor_activity_log_alert and azurerm_monitor_scheduled_query_rules_alert_v2 an `action` "
        "block, pointing at the on-call rotation. A metric alarm used in the `alarm_rule` of a composite "
        "alarm of the same module needs no action of its own.",
    targets=["terraform", "terraform-plan"],
    tags=["alerting"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    composite_rules: dict = {}   # per module instance
    for res in resources(doc, NOTIFY, ctx.repo, ctx.note):
        attr, fix = NOTIFY[res.type]
        if res.type == "aws_cloudwatch_metric_alarm":
            # a metric alarm that only feeds a composite alarm (which notifies) needs no action of its own
            key = (id(res.scope), res.doc.meta.get("module"))
            if key not in composite_rules:
                composite_rules[key] = [
                    str(c.raw("alarm_rule")) for c in
                    module_resources(res.doc, ("aws_cloudwatch_composite_alarm",), ctx.repo, res.scope)
                    if not is_empty(c.get("alarm_actions"))]
            if _feeds_composite(res, composite_rules[key]):
                continue
        if res.type.startswith("aws_") and is_false(res.get("actions_enabled")):
            yield res.hit(f"{res.label}: actions_enabled = false; the alarm notifies no one when it fires; remove "
                          f"it or set it to true", "actions_enabled")
            continue
        value = res.get(attr)
        if value is UNKNOWN or res.dynamic(attr):
            continue
        if is_empty(value) or (attr == "action" and not _has_target(res)):
            why = res.unset(attr) if value is None else f"{attr} is empty" if attr != "action" else \
                "its action block names no action group"
            yield res.hit(f"{res.label}: notifies no one when it fires ({why}); {fix}", attr)


def _feeds_composite(res, composite_rules) -> bool:
    name = res.get("alarm_name")
    refs = [f"aws_cloudwatch_metric_alarm.{res.name}."]
    if isinstance(name, str) and name and "${" not in name:
        refs += [f"ALARM({name})", f'ALARM("{name}")', f"ALARM('{name}')"]
    return any(ref in rule_text for rule_text in composite_rules for ref in refs)


def _has_target(res) -> bool:
    """An azurerm `action` block that names an action group (or one we cannot read)."""
    for _i, block in res.blocks("action"):
        for key in ("action_group_id", "action_groups"):
            value = res.resolve(block.get(key))
            if value is UNKNOWN or not is_empty(value):
                return True
    return False
