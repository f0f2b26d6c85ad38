variable "identifier" {
  type = string
}

variable "environment" {
  type    = string
  default = "dev"
}

variable "backup_retention_period" {
  type    = number
  default = null
}

variable "replicate_source_db" {
  type    = string
  default = null
}

locals {
  is_replica = var.replicate_source_db != null
  # production keeps two weeks unless the caller says otherwise
  default_retention = var.environment == "prod" ? 14 : 1
  retention         = var.backup_retention_period != null ? var.backup_retention_period : local.default_retention
}

resource "aws_db_instance" "this" {
  identifier              = var.identifier
  engine                  = "postgres"
  instance_class          = "db.r6g.large"
  replicate_source_db     = var.replicate_source_db
  backup_retention_period = local.is_replica ? 0 : local.retention
  deletion_protection     = true
  multi_az                = true
}
