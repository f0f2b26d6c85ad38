variable "name" {
  type = string
}

variable "min_tasks" {
  type = number
}

locals {
  service_id = "service/prod/${var.name}"
}

module "scaling" {
  source = "../ecs-scaling"

  resource_id  = local.service_id
  min_capacity = var.min_tasks
}
