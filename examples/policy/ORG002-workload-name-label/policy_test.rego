package prr.workload_name_label_test

import rego.v1

import data.prr.workload_name_label

workload(labels, pod_labels) := {"workloads": [{
	"kind": "Deployment", "name": "api", "labels": labels, "pod_labels": pod_labels,
	"path": ["spec", "template", "spec"],
}]}

test_missing_label_is_denied if {
	some r in workload_name_label.deny with input.__prr__ as workload({}, {})
	r.path == ["metadata", "labels"]
}

test_missing_pod_label_points_at_the_template if {
	some r in workload_name_label.deny with input.__prr__ as workload({"app.kubernetes.io/name": "api"}, {})
	r.path == ["spec", "template", "metadata", "labels"]
}

test_both_labels_pass if {
	count(workload_name_label.deny) == 0 with input.__prr__ as workload(
		{"app.kubernetes.io/name": "api"},
		{"app.kubernetes.io/name": "api"},
	)
}

test_non_workloads_pass if {
	count(workload_name_label.deny) == 0 with input.__prr__ as {"workloads": []}
}
