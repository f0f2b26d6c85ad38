variable "ha" {
  type = bool
}

resource "aws_db_instance" "ledger" {
  engine   = "postgres"
  multi_az = true
}

resource "aws_db_instance" "ledger_replica" {
  replicate_source_db = aws_db_instance.ledger.identifier
  instance_class      = "db.r6g.large"
}

resource "aws_db_instance" "per_env" {
  engine   = "postgres"
  multi_az = var.ha # unknown here: not a finding
}

resource "google_sql_database_instance" "reports" {
  name             = "reports"
  database_version = "POSTGRES_15"

  settings {
    tier              = "db-custom-2-7680"
    availability_type = "REGIONAL"
  }
}

resource "azurerm_postgresql_flexible_server" "payments" {
  name                = "payments-pg"
  resource_group_name = "rg-payments"
  location            = "westeurope"
  sku_name            = "GP_Standard_D2ds_v5"
  zone                = "1"

  high_availability {
    mode                      = "ZoneRedundant"
    standby_availability_zone = "2"
  }
}

resource "azurerm_mssql_database" "billing" {
  name           = "billing"
  server_id      = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/servers/billing"
  zone_redundant = true
}
