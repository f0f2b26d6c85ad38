module "ledger_db" {
  source = "../../../modules/postgres"

  name                = "inventory-ledger"
  instance_class      = "db.r6g.xlarge"
  deletion_protection = false
}
