variable "limits" {
  type = map(string)
}

resource "kubernetes_deployment_v1" "orders" {
  metadata {
    name = "orders"
  }

  spec {
    replicas = 3

    template {
      metadata {
        labels = {
          app = "orders"
        }
      }

      spec {
        container {
          name  = "orders"
          image = "registry.example.com/orders:1.8.2"

          resources {
            requests = {
              cpu    = "250m"
              memory = "256Mi"
            }
            limits = {
              memory = "512Mi"
            }
          }
        }

        container {
          name  = "metrics"
          image = "registry.example.com/metrics-sidecar:0.4.0"

          resources {
            limits = var.limits # unknown here: not a finding
          }
        }

        dynamic "container" {
          for_each = var.limits
          content {
            name  = container.key
            image = container.value
          }
        }
      }
    }
  }
}

# provider 1.x wrote limits as a block
resource "kubernetes_deployment" "legacy" {
  metadata {
    name = "legacy"
  }

  spec {
    template {
      metadata {
        labels = {
          app = "legacy"
        }
      }

      spec {
        container {
          name  = "legacy"
          image = "registry.example.com/legacy:3.1.0"

          resources {
            limits {
              cpu    = "500m"
              memory = "1Gi"
            }
          }
        }
      }
    }
  }
}
