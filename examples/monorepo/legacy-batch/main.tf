resource "google_sql_database_instance" "reports" {
  name             = "reports"
  database_version = "POSTGRES_15"
  region           = "europe-west1"

  settings {
    tier = "db-custom-2-7680"
  }
}

resource "google_monitoring_alert_policy" "export_failed" {
  display_name = "Nightly export failed"
  combiner     = "OR"
  conditions {
    display_name = "job failures"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/export_failures\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
    }
  }
}

resource "kubernetes_deployment_v1" "report_exporter" {
  metadata {
    name      = "report-exporter"
    namespace = "batch"
  }

  spec {
    replicas = 1

    selector {
      match_labels = {
        app = "report-exporter"
      }
    }

    template {
      metadata {
        labels = {
          app = "report-exporter"
        }
      }

      spec {
        container {
          name  = "exporter"
          image = "registry.example.com/report-exporter:2.3.1"

          resources {
            requests = {
              cpu    = "100m"
              memory = "128Mi"
            }
          }
        }
      }
    }
  }
}
