package prr.oncall_escalation_test

import rego.v1

import data.prr.oncall_escalation

# Tests replace input key by key (`with input.spec as ...`): prr-lint's embedded evaluator (rego-cpp) cannot
# replace the whole input document in a test; OPA accepts both forms.

test_one_level_is_denied if {
	count(oncall_escalation.deny) == 1 with input.kind as "Service"
		with input.metadata as {"name": "payments", "tier": 0}
		with input.spec as {"oncall": {"escalation": "docs/oncall.md"}}
		with input.__prr__ as {"tier": 0}
}

test_two_levels_pass if {
	count(oncall_escalation.deny) == 0 with input.kind as "Service"
		with input.metadata as {"name": "payments", "tier": 0}
		with input.spec as {"oncall": {"escalation": ["pagerduty/P1", "pagerduty/P2"]}}
		with input.__prr__ as {"tier": 0}
}

test_missing_escalation_points_at_the_key if {
	some r in oncall_escalation.deny with input.kind as "Service"
		with input.metadata as {"name": "payments", "tier": 0}
		with input.spec as {}
		with input.__prr__ as {"tier": 0}
	r.path == ["spec", "oncall", "escalation"]
}
