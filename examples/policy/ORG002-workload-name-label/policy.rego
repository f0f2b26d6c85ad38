# METADATA
# title: Every workload sets the app.kubernetes.io/name label
# description: >-
#   Dashboards, alerts, cost reports and the service catalog find a workload's pods by its
#   `app.kubernetes.io/name` label. A workload without it is invisible to them during an incident.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
# custom:
#   id: ORG002
#   name: workload-name-label
#   severity: {0: error, 1: error, 2: warning, 3: warning}
#   targets: [k8s]
#   tags: [ownership, observability]
#   fix: Set `metadata.labels["app.kubernetes.io/name"]` on the workload (and on its pod template).
package prr.workload_name_label

import rego.v1

# input.__prr__.workloads is prr-lint's normalized view: one shape for Deployments, StatefulSets, DaemonSets,
# Rollouts, Jobs and CronJobs, with paths into the document.
deny contains result if {
	some w in input.__prr__.workloads
	not w.labels["app.kubernetes.io/name"]
	result := {
		"msg": sprintf("%s %s has no app.kubernetes.io/name label", [w.kind, w.name]),
		"path": ["metadata", "labels"],
	}
}

deny contains result if {
	some w in input.__prr__.workloads
	w.labels["app.kubernetes.io/name"]
	not w.pod_labels["app.kubernetes.io/name"]
	result := {
		"msg": sprintf("%s %s: the pod template has no app.kubernetes.io/name label", [w.kind, w.name]),
		"path": array.concat(array.slice(w.path, 0, count(w.path) - 1), ["metadata", "labels"]),
	}
}
