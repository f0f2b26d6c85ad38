from prr_lint.checks.terraform import UNKNOWN, as_number, is_true, resources
from prr_lint.rule import rule

MIN_DAYS = 7
TYPES = ("aws_db_instance", "aws_rds_cluster", "google_sql_database_instance",
         "azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server", "aws_dynamodb_table")


@rule(
    id="TF001",
    name="database-backups",
    summary="A database has no automated backups, or keeps them for less than 7 days.",
    why="Automated backups are what a restore after data loss or corruption starts from. A retention "
        "shorter than a week often means the corruption is noticed after the last good backup is gone.",
    fix="Set `backup_retention_period` to 7 or more on aws_db_instance and aws_rds_cluster (read replicas, "
        "which replicate another instance, are exempt); enable `settings { backup_configuration { enabled = "
        "true } }` on google_sql_database_instance (replicas exempt); keep `backup_retention_days` at 7 or "
        "more on azurerm_postgresql_flexible_server and azurerm_mysql_flexible_server (the provider default "
        "is 7); enable `point_in_time_recovery { enabled = true }` on aws_dynamodb_table.",
    targets=["terraform", "terraform-plan"],
    tags=["dr"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    for res in resources(doc, TYPES, ctx.repo, ctx.note):
        if res.type in ("aws_db_instance", "aws_rds_cluster"):
            yield from _aws_rds(doc, res)
        elif res.type == "google_sql_database_instance":
            yield from _google_sql(doc, res)
        elif res.type == "aws_dynamodb_table":
            yield from _dynamodb(doc, res)
        else:
            yield from _azure_flexible(doc, res)


def _aws_rds(doc, res):
    if res.get("replicate_source_db") is not None or res.get("replication_source_identifier") is not None:
        return  # a read replica: backups are taken of the source
    days = res.get("backup_retention_period")
    if days is UNKNOWN:
        return
    if days is None:
        yield res.hit(f"{res.label}: {res.unset('backup_retention_period')}; set it to {MIN_DAYS} days or more",
                      "backup_retention_period")
        return
    n = as_number(days)
    if n is not None and n < MIN_DAYS:
        what = "disables automated backups" if n == 0 else \
            f"keeps backups for only {days} day{'' if n == 1 else 's'}"
        yield res.hit(f"{res.label}: {res.shown('backup_retention_period')} {what}; set it to {MIN_DAYS} or more",
                      "backup_retention_period")


def _google_sql(doc, res):
    if res.get("master_instance_name") is not None:
        return  # a read replica: Cloud SQL takes backups of the primary only
    keys = ("settings", "backup_configuration", "enabled")
    enabled = res.get(*keys)
    if enabled is UNKNOWN or is_true(enabled):
        return
    fix = "add settings { backup_configuration { enabled = true } }"
    if enabled is None:
        yield res.hit(f"{res.label}: automated backups are not enabled{_null(res, *keys)}; {fix}", *keys)
    else:
        yield res.hit(f"{res.label}: {res.shown(*keys)} disables automated backups; set it to true", *keys)


def _azure_flexible(doc, res):
    if res.get("create_mode") == "Replica":
        return
    days = as_number(res.get("backup_retention_days"))  # absent: the provider default, 7 days
    if days is not None and days < MIN_DAYS:
        yield res.hit(f"{res.label}: {res.shown('backup_retention_days')} keeps backups for less than "
                      f"{MIN_DAYS} days; set it to {MIN_DAYS} or more", "backup_retention_days")


def _dynamodb(doc, res):
    keys = ("point_in_time_recovery", "enabled")
    enabled = res.get(*keys)
    if enabled is UNKNOWN or is_true(enabled):
        return
    if enabled is None:
        yield res.hit(f"{res.label}: point-in-time recovery is not enabled{_null(res, *keys)}; add "
                      f"point_in_time_recovery {{ enabled = true }}", *keys)
    else:
        yield res.hit(f"{res.label}: {res.shown(*keys)}; set it to true so the table can be restored to any "
                      f"second of the last 35 days", *keys)


def _null(res, *keys) -> str:
    """` (name = null (from var.x))` when an expression left the value null, else nothing."""
    return f" ({res.shown(*keys)})" if res.raw(*keys) is not None else ""
