# no service claims this module: checked at default_tier (2, minimum 2)
resource "aws_autoscaling_group" "batch" {
  name                = "batch-workers"
  min_size            = 0   # expect: TF005
  max_size            = 4
  vpc_zone_identifier = ["subnet-0a1b2c3d"]
}
