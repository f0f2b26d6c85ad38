variable "backups" {
  type = bool
}

resource "google_sql_database_instance" "orders" {
  name             = "orders"
  database_version = "POSTGRES_15"

  settings {
    tier = "db-custom-2-7680"
    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }
  }
}

resource "google_sql_database_instance" "orders_replica" {
  name                 = "orders-replica"
  master_instance_name = google_sql_database_instance.orders.name
  database_version     = "POSTGRES_15"

  settings {
    tier = "db-custom-2-7680"
  }
}

resource "google_sql_database_instance" "per_env" {
  name             = "per-env"
  database_version = "POSTGRES_15"

  settings {
    tier = "db-custom-2-7680"
    backup_configuration {
      enabled = var.backups # no default: unknown here, so not a finding
    }
  }
}

resource "google_sql_database_instance" "generated" {
  name             = "generated"
  database_version = "POSTGRES_15"

  settings {
    tier = "db-custom-2-7680"
    dynamic "backup_configuration" {
      for_each = [1]
      content {
        enabled = true
      }
    }
  }
}
