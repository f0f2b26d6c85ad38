# tier 2: a single-zone database is accepted
resource "aws_db_instance" "reports" {
  engine         = "postgres"
  instance_class = "db.t3.medium"
}
