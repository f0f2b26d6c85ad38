from prr_lint.checks.terraform import UNKNOWN, is_true, resources
from prr_lint.rule import rule

TYPES = ("aws_db_instance", "google_sql_database_instance", "azurerm_postgresql_flexible_server",
         "azurerm_mysql_flexible_server", "azurerm_mssql_database")


@rule(
    id="TF003",
    name="multi-zone-database",
    summary="A database of a tier 0 or tier 1 service runs in a single availability zone.",
    why="A zone outage or a host failure takes a single-zone database down until it is restored or "
        "recreated, and every service that depends on it with it. A standby in another zone fails over "
        "in a minute or two without a restore.",
    fix="Set `multi_az = true` on aws_db_instance, `settings { availability_type = \"REGIONAL\" }` on "
        "google_sql_database_instance, `high_availability { mode = \"ZoneRedundant\" }` on "
        "azurerm_postgresql_flexible_server and azurerm_mysql_flexible_server, `zone_redundant = true` on "
        "azurerm_mssql_database. Read replicas are exempt. Aurora (aws_rds_cluster) stores data in three "
        "zones and is not checked.",
    targets=["terraform", "terraform-plan"],
    tags=["availability"],
    severity={0: "error", 1: "error", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    who = f"{ctx.service.name} is tier {ctx.tier}" if ctx.service else f"tier {ctx.tier} (default_tier)"
    for res in resources(doc, TYPES, ctx.repo, ctx.note):
        if res.type == "aws_db_instance":
            if res.get("replicate_source_db") is not None:
                continue
            yield from _flag(doc, res, who, ("multi_az",), True, "set multi_az = true")
        elif res.type == "google_sql_database_instance":
            if res.get("master_instance_name") is not None:
                continue
            yield from _flag(doc, res, who, ("settings", "availability_type"), "REGIONAL",
                             'set settings { availability_type = "REGIONAL" }')
        elif res.type == "azurerm_mssql_database":
            yield from _flag(doc, res, who, ("zone_redundant",), True, "set zone_redundant = true")
        else:
            if res.get("create_mode") == "Replica":
                continue
            yield from _flag(doc, res, who, ("high_availability", "mode"), "ZoneRedundant",
                             'add high_availability { mode = "ZoneRedundant" }')


def _flag(doc, res, who, keys, wanted, fix):
    value = res.get(*keys)
    if value is UNKNOWN or value == wanted or (wanted is True and is_true(value)):
        return
    if value is None:
        yield res.hit(f"{res.label}: single-zone database ({res.unset(*keys)}) but {who}, which needs "
                      f"a standby in another zone; {fix}", *keys)
    else:
        yield res.hit(f"{res.label}: {res.shown(*keys)} keeps the database in one zone but {who}, "
                      f"which needs a standby in another zone; {fix}", *keys)
