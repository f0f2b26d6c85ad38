resource "aws_db_instance" "ledger" {   # expect: TF003
  engine                  = "postgres"
  instance_class          = "db.r6g.large"
  backup_retention_period = 14
}

resource "aws_db_instance" "orders" {
  engine   = "postgres"
  multi_az = false   # expect: TF003
}

resource "google_sql_database_instance" "reports" {
  name             = "reports"
  database_version = "POSTGRES_15"

  settings {
    tier              = "db-custom-2-7680"
    availability_type = "ZONAL"   # expect: TF003
  }
}

resource "azurerm_postgresql_flexible_server" "payments" {   # expect: TF003
  name                = "payments-pg"
  resource_group_name = "rg-payments"
  location            = "westeurope"
  sku_name            = "GP_Standard_D2ds_v5"
}

resource "azurerm_mysql_flexible_server" "catalog" {
  name                = "catalog-mysql"
  resource_group_name = "rg-catalog"
  location            = "westeurope"
  sku_name            = "GP_Standard_D2ds"

  high_availability {
    mode = "SameZone"   # expect: TF003
  }
}

resource "azurerm_mssql_database" "billing" {   # expect: TF003
  name      = "billing"
  server_id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/servers/billing"
}
