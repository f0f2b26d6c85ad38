variable "api_min" {
  type = number
}

resource "aws_autoscaling_group" "api" {
  name                = "payments-api"
  min_size            = 2
  max_size            = 6
  vpc_zone_identifier = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
}

resource "aws_autoscaling_group" "canary" {
  name                = "payments-api-canary"
  min_size            = var.api_min # set per environment: unknown here
  max_size            = 2
  vpc_zone_identifier = ["subnet-0a1b2c3d"]
}

resource "google_compute_autoscaler" "api" {
  name   = "payments-api"
  zone   = "europe-west1-b"
  target = google_compute_instance_group_manager.api.id

  autoscaling_policy {
    min_replicas = 3
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
      default = 2
      minimum = 2
      maximum = 10
    }
  }
}
