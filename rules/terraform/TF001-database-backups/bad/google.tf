resource "google_sql_database_instance" "reports" {   # expect: TF001
  name             = "reports"
  database_version = "POSTGRES_15"
  region           = "europe-west1"
}

resource "google_sql_database_instance" "orders" {
  name             = "orders"
  database_version = "POSTGRES_15"

  settings {   # expect: TF001
    tier = "db-custom-2-7680"
  }
}

resource "google_sql_database_instance" "ledger" {
  name             = "ledger"
  database_version = "MYSQL_8_0"

  settings {
    tier = "db-custom-4-15360"
    backup_configuration {
      enabled            = false   # expect: TF001
      binary_log_enabled = true
    }
  }
}
