variable "backup_days" {
  type    = number
  default = 1
}

resource "aws_db_instance" "inventory" {
  identifier              = "inventory"
  engine                  = "mysql"
  instance_class          = "db.t3.large"
  allocated_storage       = 50
  backup_retention_period = var.backup_days
}

resource "aws_dynamodb_table" "reservations" {
  name         = "inventory-reservations"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  alarm_name          = "inventory-queue-depth"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  metric_name         = "ApproximateNumberOfMessagesVisible"
  namespace           = "AWS/SQS"
  period              = 60
  statistic           = "Maximum"
  threshold           = 1000
}

resource "aws_autoscaling_group" "workers" {
  name                = "inventory-workers"
  min_size            = 1
  max_size            = 4
  vpc_zone_identifier = ["subnet-0a1b2c3d"]
}

resource "helm_release" "inventory" {
  name       = "inventory"
  chart      = "../../../charts/inventory"
  namespace  = "inventory"
}
