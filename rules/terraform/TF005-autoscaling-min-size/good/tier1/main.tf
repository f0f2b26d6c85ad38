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

resource "aws_eks_node_group" "payments" {
  cluster_name    = "prod"
  node_group_name = "payments"
  node_role_arn   = "arn:aws:iam::123456789012:role/eks-nodes"
  subnet_ids      = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]

  scaling_config {
    desired_size = 2
    max_size     = 6
    min_size     = 2
  }
}

resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/prod/payments-api"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 2
  max_capacity       = 10
}

resource "aws_appautoscaling_target" "table_reads" {
  service_namespace  = "dynamodb"
  resource_id        = "table/payments"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  min_capacity       = 1
  max_capacity       = 100
}

resource "google_container_node_pool" "payments" {
  name    = "payments"
  cluster = "prod"

  autoscaling {
    min_node_count = 2
    max_node_count = 5
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "payments" {
  name                  = "payments"
  kubernetes_cluster_id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/prod"
  vm_size               = "Standard_D4s_v5"
  auto_scaling_enabled  = true
  min_count             = 3
  max_count             = 6
}
