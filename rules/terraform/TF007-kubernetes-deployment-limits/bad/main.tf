resource "kubernetes_deployment_v1" "orders" {
  metadata {
    name      = "orders"
    namespace = "orders"
  }

  spec {
    replicas = 3

    selector {
      match_labels = {
        app = "orders"
      }
    }

    template {
      metadata {
        labels = {
          app = "orders"
        }
      }

      spec {
        init_container {   # expect: TF007
          name  = "migrate"
          image = "registry.example.com/orders-migrate:1.8.2"
        }

        container {
          name  = "orders"
          image = "registry.example.com/orders:1.8.2"

          resources {   # expect: TF007
            requests = {
              cpu    = "250m"
              memory = "256Mi"
            }
          }
        }

        container {
          name  = "metrics"
          image = "registry.example.com/metrics-sidecar:0.4.0"

          resources {
            limits = {   # expect: TF007
              cpu = "100m"
            }
          }
        }
      }
    }
  }
}

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
        container {   # expect: TF007
          name  = "legacy"
          image = "registry.example.com/legacy:3.1.0"
        }
      }
    }
  }
}
