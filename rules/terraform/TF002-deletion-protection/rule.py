from prr_lint.checks.terraform import UNKNOWN, is_false, is_true, resources
from prr_lint.rule import rule

# resource type -> (attribute, provider default protects?)
ATTRIBUTE = {
    "aws_db_instance": ("deletion_protection", False),
    "aws_rds_cluster": ("deletion_protection", False),
    "aws_dynamodb_table": ("deletion_protection_enabled", False),
    "google_sql_database_instance": ("deletion_protection", True),
}


@rule(
    id="TF002",
    name="deletion-protection",
    summary="A stateful resource (database, table) can be destroyed without a safeguard.",
    why="A mistaken rename, a refactor that moves a resource, or a `terraform destroy` in the wrong "
        "workspace deletes the database and, with it, often its automated backups. Deletion protection "
        "makes the provider refuse until someone turns it off on purpose.",
    fix="Set `deletion_protection = true` on aws_db_instance and aws_rds_cluster, "
        "`deletion_protection_enabled = true` on aws_dynamodb_table, and do not set "
        "`deletion_protection = false` on google_sql_database_instance; or add "
        "`lifecycle { prevent_destroy = true }`. Read replicas are exempt.",
    targets=["terraform", "terraform-plan"],
    tags=["dr"],
    severity={0: "error", 1: "error", 2: "warning", 3: "info"},
    since="0.1.0",
)
def check(doc, ctx):
    for res in resources(doc, ATTRIBUTE, ctx.repo, ctx.note):
        attr, default_protects = ATTRIBUTE[res.type]
        if res.prevent_destroy() or res.get("lifecycle", "prevent_destroy") is UNKNOWN:
            continue
        if _replica(res):
            continue
        value = res.get(attr)
        if value is UNKNOWN or is_true(value):
            continue
        if res.type == "google_sql_database_instance":
            # the Cloud SQL API's own protection counts as well
            api = res.get("settings", "deletion_protection_enabled")
            if api is UNKNOWN or is_true(api):
                continue
        if is_false(value):
            yield res.hit(f"{res.label}: {res.shown(attr)} lets Terraform destroy it; set it to true "
                          f"or add lifecycle {{ prevent_destroy = true }}", attr)
        elif value is None and not default_protects:
            yield res.hit(f"{res.label}: {res.unset(attr)}; set {attr} = true or add "
                          f"lifecycle {{ prevent_destroy = true }}", attr)


def _replica(res) -> bool:
    if res.type == "aws_db_instance":
        return res.get("replicate_source_db") is not None
    if res.type == "google_sql_database_instance":
        return res.get("master_instance_name") is not None
    return False
