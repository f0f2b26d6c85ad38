variable "retention_days" {
  type = number
}

resource "aws_db_instance" "orders" {
  engine                  = "postgres"
  instance_class          = "db.t3.medium"
  backup_retention_period = 14
}

resource "aws_db_instance" "orders_replica" {
  replicate_source_db = aws_db_instance.orders.identifier
  instance_class      = "db.t3.medium"
}

resource "aws_rds_cluster" "sessions" {
  engine                  = "aurora-postgresql"
  backup_retention_period = var.retention_days # set per environment: unknown here, so not a finding
}
