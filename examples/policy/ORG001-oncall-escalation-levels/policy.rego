# METADATA
# title: A tier-0 service declares at least two on-call escalation levels
# description: >-
#   A page that the primary on-call does not acknowledge must reach someone else. For the services whose outage
#   stops the business, a single escalation level is one missed phone call away from an unattended incident.
# related_resources:
#   - ref: https://sre.google/sre-book/being-on-call/
# custom:
#   id: ORG001
#   name: oncall-escalation-levels
#   severity: error
#   tiers: [0]
#   targets: [service]
#   tags: [oncall]
#   fix: >-
#     List at least two escalation levels under `spec.oncall.escalation`, e.g.
#     `[pagerduty/P1ABC23, pagerduty/P9LEADS]`.
package prr.oncall_escalation

import rego.v1

escalation := object.get(input, ["spec", "oncall", "escalation"], [])

levels := escalation if is_array(escalation)

levels := [escalation] if is_string(escalation)

deny contains result if {
	input.kind == "Service"
	count(levels) < 2
	result := {
		"msg": sprintf("%s (tier %d): %d on-call escalation level(s); a tier-0 service needs at least 2 under spec.oncall.escalation", [input.metadata.name, input.__prr__.tier, count(levels)]),
		"path": ["spec", "oncall", "escalation"],
	}
}
