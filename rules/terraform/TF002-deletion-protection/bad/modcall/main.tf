module "orders_db" {
  source = "./modules/db"

  identifier          = "orders"
  deletion_protection = false # expect: TF002
}

# Silent: the module's default (null) leaves the database unprotected
module "reports_db" {
  source = "./modules/db"

  identifier = "reports"
}

module "ledger_db" {
  source = "./modules/db"

  identifier          = "ledger"
  deletion_protection = true
}
