resource "aws_db_instance" "web" {
  engine                  = "postgres"
  instance_class          = "db.t3.medium"
  backup_retention_period = 7
  deletion_protection     = true
  multi_az                = true
}
