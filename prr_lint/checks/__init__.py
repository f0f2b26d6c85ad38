"""Shared helpers for rules: walking workloads, Terraform resources, alert rules, dates and durations."""
