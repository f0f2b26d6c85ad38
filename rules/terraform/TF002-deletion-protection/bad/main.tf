resource "aws_db_instance" "orders" {   # expect: TF002
  engine                  = "postgres"
  instance_class          = "db.t3.medium"
  backup_retention_period = 7
}

resource "aws_rds_cluster" "sessions" {
  engine              = "aurora-postgresql"
  deletion_protection = false   # expect: TF002
}

resource "aws_dynamodb_table" "carts" {   # expect: TF002
  name         = "carts"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "google_sql_database_instance" "reports" {
  name                = "reports"
  database_version    = "POSTGRES_15"
  deletion_protection = "false"   # expect: TF002

  settings {
    tier = "db-custom-2-7680"
  }
}

resource "aws_db_instance" "audit" {
  engine         = "postgres"
  instance_class = "db.t3.medium"

  lifecycle {
    prevent_destroy = false
  }
  deletion_protection = false   # expect: TF002
}
