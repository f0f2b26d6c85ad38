variable "workers_min" {
  type    = number
  default = 2
}

resource "aws_autoscaling_group" "api" {
  name                = "payments-api"
  min_size            = 1   # expect: TF005
  max_size            = 6
  vpc_zone_identifier = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
}

resource "aws_autoscaling_group" "workers" {
  name                = "payments-workers"
  min_size            = var.workers_min   # expect: TF005
  max_size            = 10
  vpc_zone_identifier = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
}

resource "google_compute_region_autoscaler" "api" {
  name   = "payments-api"
  region = "europe-west1"
  target = google_compute_region_instance_group_manager.api.id

  autoscaling_policy {
    min_replicas = 2   # expect: TF005
    max_replicas = 8
  }
}

resource "azurerm_monitor_autoscale_setting" "api" {
  name                = "payments-api"
  resource_group_name = "rg-payments"
  location            = "westeurope"
  target_resource_id  = azurerm_linux_virtual_machine_scale_set.api.id

  profile {
    name = "default"
    capacity {
      default = 3
      minimum = 3
      maximum = 10
    }
  }

  profile {
    name = "nights"
    capacity {
      default = 1
      minimum = 1   # expect: TF005
      maximum = 3
    }
  }
}
