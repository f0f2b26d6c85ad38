resource "google_monitoring_alert_policy" "export_failed" {   # expect: TF004
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
