resource "azurerm_postgresql_flexible_server" "orders" {
  name                  = "orders-pg"
  resource_group_name   = "rg-orders"
  location              = "westeurope"
  version               = "16"
  sku_name              = "GP_Standard_D2ds_v5"
  backup_retention_days = 3   # expect: TF001
}

locals {
  mysql_backup_days = 1
}

resource "azurerm_mysql_flexible_server" "catalog" {
  name                  = "catalog-mysql"
  resource_group_name   = "rg-catalog"
  location              = "westeurope"
  sku_name              = "GP_Standard_D2ds"
  backup_retention_days = local.mysql_backup_days   # expect: TF001
}
