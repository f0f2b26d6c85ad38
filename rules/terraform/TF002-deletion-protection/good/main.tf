variable "protect" {
  type = bool
}

resource "aws_db_instance" "orders" {
  engine              = "postgres"
  instance_class      = "db.t3.medium"
  deletion_protection = true
}

resource "aws_db_instance" "orders_replica" {
  replicate_source_db = aws_db_instance.orders.identifier
  instance_class      = "db.t3.medium"
}

resource "aws_rds_cluster" "sessions" {
  engine = "aurora-postgresql"

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_dynamodb_table" "carts" {
  name                        = "carts"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.protect # set per environment: unknown here

  attribute {
    name = "id"
    type = "S"
  }
}

# the provider default for deletion_protection is true
resource "google_sql_database_instance" "reports" {
  name             = "reports"
  database_version = "POSTGRES_15"

  settings {
    tier = "db-custom-2-7680"
  }
}

resource "google_sql_database_instance" "scratch" {
  name                = "scratch"
  database_version    = "POSTGRES_15"
  deletion_protection = false

  settings {
    tier                        = "db-custom-2-7680"
    deletion_protection_enabled = true
  }
}
