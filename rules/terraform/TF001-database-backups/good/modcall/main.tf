# Both calls keep two weeks of backups: the module's own 1-day default is never deployed,
# so the module is not checked on its own
module "orders_db" {
  source = "./modules/db"

  identifier  = "orders"
  environment = "prod"
}

module "reports_db" {
  source = "./modules/db"

  identifier              = "reports"
  environment             = "staging"
  backup_retention_period = 14
}

# A read replica of orders
module "orders_replica" {
  source = "./modules/db"

  identifier          = "orders-replica"
  environment         = "prod"
  replicate_source_db = "orders"
}

# Retention chosen per workspace: unknown here, so no finding
module "scratch_db" {
  source = "./modules/db"

  identifier              = "scratch"
  environment             = terraform.workspace
  backup_retention_period = lookup(var.retention_by_workspace, terraform.workspace, 7)
}

variable "retention_by_workspace" {
  type    = map(number)
  default = {}
}
