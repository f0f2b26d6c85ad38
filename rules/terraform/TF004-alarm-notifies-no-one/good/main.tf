variable "alarm_topics" {
  type = list(string)
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "orders-db-cpu"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "CPUUtilization"
  namespace           = "AWS/RDS"
  period              = 300
  statistic           = "Average"
  threshold           = 80
  alarm_actions       = ["arn:aws:sns:eu-west-1:123456789012:orders-pager"]
}

resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  alarm_name          = "orders-queue-depth"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  metric_name         = "ApproximateNumberOfMessagesVisible"
  namespace           = "AWS/SQS"
  period              = 60
  statistic           = "Maximum"
  threshold           = 1000
  alarm_actions       = var.alarm_topics # unknown here: not a finding
}

resource "google_monitoring_alert_policy" "export_failed" {
  display_name          = "Nightly export failed"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.oncall.id]
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

resource "azurerm_monitor_metric_alert" "cpu" {
  name                = "orders-cpu"
  resource_group_name = "rg-orders"
  scopes              = ["/subscriptions/0000/resourceGroups/rg-orders/providers/Microsoft.Web/sites/orders"]

  criteria {
    metric_namespace = "Microsoft.Web/sites"
    metric_name      = "CpuTime"
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = 300
  }

  action {
    action_group_id = azurerm_monitor_action_group.oncall.id
  }
}

resource "azurerm_monitor_metric_alert" "memory" {
  name                = "orders-memory"
  resource_group_name = "rg-orders"
  scopes              = ["/subscriptions/0000/resourceGroups/rg-orders/providers/Microsoft.Web/sites/orders"]

  dynamic "action" {
    for_each = var.alarm_topics
    content {
      action_group_id = action.value
    }
  }
}

# child alarms of a composite alarm notify through the composite one
resource "aws_cloudwatch_metric_alarm" "p99_latency" {
  alarm_name          = "orders-p99-latency"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "TargetResponseTime"
  namespace           = "AWS/ApplicationELB"
  period              = 60
  extended_statistic  = "p99"
  threshold           = 1
}

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = "orders-error-rate"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "HTTPCode_Target_5XX_Count"
  namespace           = "AWS/ApplicationELB"
  period              = 60
  statistic           = "Sum"
  threshold           = 10
}

resource "aws_cloudwatch_composite_alarm" "orders_degraded" {
  alarm_name    = "orders-degraded"
  alarm_rule    = "ALARM(${aws_cloudwatch_metric_alarm.error_rate.alarm_name}) OR ALARM(orders-p99-latency)"
  alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:orders-pager"]
}
