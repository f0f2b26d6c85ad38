resource "aws_s3_bucket" "uploads" { # expect: ORG003
  bucket = "acme-media-uploads"
}

resource "aws_s3_bucket" "thumbnails" { # expect: ORG003
  bucket = "acme-media-thumbnails"
}

resource "aws_s3_bucket_versioning" "thumbnails" {
  bucket = aws_s3_bucket.thumbnails.id
  versioning_configuration {
    status = "Suspended"
  }
}
