# The orders database: its backups are switched off by the value this call passes
module "orders_db" {
  source = "./modules/db"

  identifier              = "orders"
  backup_retention_period = 0 # expect: TF001
}

# Silent about retention: the module's own default (1 day) applies
module "reports_db" {
  source = "./modules/db"

  identifier = "reports"
}

# A read replica: backups are taken of the source
module "orders_replica" {
  source = "./modules/db"

  identifier              = "orders-replica"
  replicate_source_db     = "orders"
  backup_retention_period = 0
}

# Not created
module "archive_db" {
  source = "./modules/db"
  count  = 0

  identifier              = "archive"
  backup_retention_period = 0
}

# A registry module is not fetched: what it does with the value cannot be known
module "remote_db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "6.10.0"

  identifier              = "remote"
  backup_retention_period = 0
}
