variable "environment" {
  type    = string
  default = "prod"
}

resource "aws_db_instance" "checkout" {
  identifier              = "checkout-${var.environment}"
  engine                  = "postgres"
  engine_version          = "16.4"
  instance_class          = "db.r6g.large"
  allocated_storage       = 100
  multi_az                = true
  backup_retention_period = 14
  deletion_protection     = true
  storage_encrypted       = true
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "checkout-db-cpu"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "CPUUtilization"
  namespace           = "AWS/RDS"
  period              = 300
  statistic           = "Average"
  threshold           = 80
  alarm_actions       = ["arn:aws:sns:eu-west-1:123456789012:checkout-pager"]
  dimensions = {
    DBInstanceIdentifier = aws_db_instance.checkout.identifier
  }
}
