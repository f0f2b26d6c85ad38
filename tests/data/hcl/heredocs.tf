resource "aws_iam_policy" "p" {
  name   = "p"
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": []
}
EOF

  description = <<-EOT
    Indented heredoc
      keeps relative indent
    with ${var.env} interpolation
  EOT

  raw = <<-EOT
  no \n escapes "in" heredocs
  EOT

  empty = <<EOT
EOT

  blank_lines = <<-EOT
    first

    third
    EOT
}
