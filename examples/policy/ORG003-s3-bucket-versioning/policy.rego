# METADATA
# title: An S3 bucket of a tier-0 or tier-1 service has versioning enabled
# description: >-
#   Without versioning, an overwrite or a delete (a bad deploy, a script run against the wrong environment,
#   ransomware) destroys the only copy of an object. Versioning turns that into a restore.
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
# custom:
#   id: ORG003
#   name: s3-bucket-versioning
#   severity: error
#   tiers: [0, 1]
#   targets: [terraform]
#   tags: [dr]
#   fix: >-
#     Add an `aws_s3_bucket_versioning` resource for the bucket with
#     `versioning_configuration { status = "Enabled" }` (or, on AWS provider v3, a `versioning { enabled = true }` block).
package prr.s3_bucket_versioning

import rego.v1

# input.__prr__.terraform holds every resource of the Terraform module, so a versioning resource in another file
# of the module counts.
deny contains result if {
	some bucket in input.__prr__.terraform
	bucket.file == input.__prr__.file
	bucket.type == "aws_s3_bucket"
	not inline_versioning(bucket)
	not versioning_resource(bucket)
	result := {
		"msg": sprintf("%s has no versioning; enable it with an aws_s3_bucket_versioning resource", [bucket.address]),
		"path": bucket.path,
	}
}

inline_versioning(bucket) if {
	some block in bucket.values.versioning
	block.enabled == true
}

versioning_resource(bucket) if {
	some v in input.__prr__.terraform
	v.type == "aws_s3_bucket_versioning"
	refers_to(v.values.bucket, bucket)
	some conf in v.values.versioning_configuration
	conf.status == "Enabled"
}

refers_to(ref, bucket) if startswith(ref, sprintf("${aws_s3_bucket.%s.", [bucket.name]))

refers_to(ref, bucket) if ref == bucket.values.bucket
