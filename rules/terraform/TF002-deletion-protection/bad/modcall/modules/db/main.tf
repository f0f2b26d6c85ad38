variable "identifier" {
  type = string
}

variable "deletion_protection" {
  type    = bool
  default = null
}

resource "aws_db_instance" "this" {
  identifier              = var.identifier
  engine                  = "postgres"
  instance_class          = "db.r6g.large"
  backup_retention_period = 14
  deletion_protection     = var.deletion_protection # expect: TF002
}
