package prr.s3_bucket_versioning_test

import rego.v1

import data.prr.s3_bucket_versioning

bucket := {"file": "main.tf", "type": "aws_s3_bucket", "name": "logs", "address": "aws_s3_bucket.logs",
	"values": {"bucket": "acme-logs"}, "path": ["resource", "aws_s3_bucket", "logs"]}

versioning(status) := {"file": "versioning.tf", "type": "aws_s3_bucket_versioning", "name": "logs",
	"values": {"bucket": "${aws_s3_bucket.logs.id}", "versioning_configuration": [{"status": status}]}}

test_bucket_without_versioning_is_denied if {
	count(s3_bucket_versioning.deny) == 1 with input.__prr__ as {"file": "main.tf", "terraform": [bucket]}
}

test_versioning_in_another_file_of_the_module_passes if {
	count(s3_bucket_versioning.deny) == 0 with input.__prr__ as {"file": "main.tf",
		"terraform": [bucket, versioning("Enabled")]}
}

test_suspended_versioning_is_denied if {
	count(s3_bucket_versioning.deny) == 1 with input.__prr__ as {"file": "main.tf",
		"terraform": [bucket, versioning("Suspended")]}
}
