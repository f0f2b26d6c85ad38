variable "retention_days" {
  type    = number
  default = 1
}

resource "aws_db_instance" "orders" {   # expect: TF001
  engine         = "postgres"
  instance_class = "db.t3.medium"
}

resource "aws_db_instance" "ledger" {
  engine                  = "postgres"
  instance_class          = "db.r6g.large"
  backup_retention_period = 0   # expect: TF001
}

resource "aws_rds_cluster" "sessions" {
  engine                  = "aurora-postgresql"
  backup_retention_period = var.retention_days   # expect: TF001
}
