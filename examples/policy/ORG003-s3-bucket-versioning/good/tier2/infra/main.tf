# tier 2: versioning is not required by this policy
resource "aws_s3_bucket" "scratch" {
  bucket = "acme-media-scratch"
}
