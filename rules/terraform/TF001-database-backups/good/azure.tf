resource "azurerm_postgresql_flexible_server" "orders" {
  name                = "orders-pg"
  resource_group_name = "rg-orders"
  location            = "westeurope"
  version             = "16"
  sku_name            = "GP_Standard_D2ds_v5"
  # no backup_retention_days: the provider default keeps 7 days
}

resource "azurerm_mysql_flexible_server" "catalog" {
  name                  = "catalog-mysql"
  resource_group_name   = "rg-catalog"
  location              = "westeurope"
  sku_name              = "GP_Standard_D2ds"
  backup_retention_days = 35
}
