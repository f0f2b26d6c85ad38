resource "aws_cloudwatch_metric_alarm" "queue_depth" {   # expect: TF004
  alarm_name          = "orders-queue-depth"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  metric_name         = "ApproximateNumberOfMessagesVisible"
  namespace           = "AWS/SQS"
  period              = 60
  statistic           = "Maximum"
  threshold           = 1000
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
  alarm_actions       = []   # expect: TF004
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "orders-5xx"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  metric_name         = "HTTPCode_Target_5XX_Count"
  namespace           = "AWS/ApplicationELB"
  period              = 60
  statistic           = "Sum"
  threshold           = 10
  alarm_actions       = ["arn:aws:sns:eu-west-1:123456789012:orders-pager"]
  actions_enabled     = false   # expect: TF004
}

resource "aws_cloudwatch_composite_alarm" "orders_down" {   # expect: TF004
  alarm_name = "orders-down"
  alarm_rule = "ALARM(orders-5xx) AND ALARM(orders-db-cpu)"
}
