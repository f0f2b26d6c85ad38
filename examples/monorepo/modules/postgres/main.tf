# The shared Postgres module: safe defaults, each of which a caller can override
variable "name" {
  type = string
}

variable "instance_class" {
  type    = string
  default = "db.r6g.large"
}

variable "backup_retention_period" {
  type    = number
  default = 14
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "multi_az" {
  type    = bool
  default = true
}

resource "aws_db_instance" "this" {
  identifier              = var.name
  engine                  = "postgres"
  engine_version          = "16.4"
  instance_class          = var.instance_class
  allocated_storage       = 100
  multi_az                = var.multi_az
  backup_retention_period = var.backup_retention_period
  deletion_protection     = var.deletion_protection
  storage_encrypted       = true
}
