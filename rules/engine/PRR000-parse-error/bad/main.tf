resource "aws_db_instance" "main" {
  engine = "postgres"
  backup_retention_period =   # expect: PRR000
}
