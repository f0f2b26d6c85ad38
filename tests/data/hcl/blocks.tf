terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

moved {
  from = aws_instance.a
  to   = aws_instance.b
}

moved {
  from = aws_instance.c
  to   = aws_instance.d
}

resource "aws_security_group" "web" {
  name = "web"

  ingress {
    from_port = 443
    to_port   = 443
  }
  ingress {
    from_port = 80
    to_port   = 80
  }

  dynamic "egress" {
    for_each = var.egress
    iterator = rule
    content {
      from_port = rule.value.port
      to_port   = rule.value.port
    }
  }

  provisioner "local-exec" {
    command = "echo hi"
  }

  lifecycle {
    prevent_destroy       = true
    ignore_changes        = [tags, name]
    create_before_destroy = true
  }
}

module "db" {
  source = "./modules/db"
  count  = 0
}

data "aws_caller_identity" "current" {}

resource "null_resource" "empty" {
}

resource "aws_instance" "one_line" { ami = "ami-123" }
