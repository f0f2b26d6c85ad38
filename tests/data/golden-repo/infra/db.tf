resource "aws_db_instance" "payments" {
  engine                  = "postgres"
  instance_class          = "db.r6g.large"
  backup_retention_period = 3
}
