variable "identifier" {
  type = string
}

variable "backup_retention_period" {
  type    = number
  default = 1
}

variable "replicate_source_db" {
  type    = string
  default = null
}

resource "aws_db_instance" "this" {
  identifier              = var.identifier
  engine                  = "postgres"
  instance_class          = "db.r6g.large"
  replicate_source_db     = var.replicate_source_db
  backup_retention_period = var.backup_retention_period # expect: TF001
  deletion_protection     = true
  multi_az                = true
}
