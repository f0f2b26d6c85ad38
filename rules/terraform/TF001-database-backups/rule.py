from prr_lint.checks.terraform import UNKNOWN, resources
from prr_lint.model import Hit
from prr_lint.rule import rule

MIN_DAYS = 7


@rule(
    id="TF001",
    name="database-backups",
    summary="A database has no automated backups, or keeps them for less than 7 days.",
    why="Automated backups are what a restore after data loss or corruption starts from. A retention "
        "shorter than a week often means the corruption is noticed after the last good backup is gone.",
    fix="Set `backup_retention_period` to 7 or more on aws_db_instance and aws_rds_cluster (read replicas, "
        "which replicate another instance, are exempt).",
    targets=["terraform", "terraform-plan"],
    tags=["dr"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    for res in resources(doc, ("aws_db_instance", "aws_rds_cluster"), ctx.repo):
        if res.has("replicate_source_db") or res.has("replication_source_identifier"):
            continue
        days = res.get("backup_retention_period")
        if days is UNKNOWN:
            continue
        if days is None:
            yield Hit(doc, res.path, f"{res.label}: no backup_retention_period; set it to {MIN_DAYS} days or more")
        elif isinstance(days, (int, float)) and days < MIN_DAYS:
            what = "disables automated backups" if days == 0 else f"keeps backups for only {days} days"
            yield Hit(doc, res.at("backup_retention_period"),
                      f"{res.label}: backup_retention_period = {days} {what}; set it to {MIN_DAYS} or more")
