resource "aws_s3_bucket" "uploads" {
  bucket = "acme-media-uploads"
}

resource "aws_s3_bucket" "legacy" {
  bucket = "acme-media-legacy"
  versioning {
    enabled = true
  }
}
