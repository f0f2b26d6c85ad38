"""Generate a synthetic monorepo: N services, each with a manifest, a chart with values and an overlay,
Kubernetes manifests, three .tf files, a Prometheus rule file and a runbook. About a third of the services
have readiness gaps so that rules produce findings, as in a real repository.

    python bench/generate.py 1000 /tmp/monorepo
"""

from __future__ import annotations

import os
import sys

MANIFEST = """\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: svc-{i}
  owner: team-{team}
  tier: {tier}
spec:
  oncall: {{rotation: pagerduty/P{i:05d}, escalation: docs/runbook.md}}
  slos:
    - name: availability
      objective: 99.95
      window: 30d
      sli:
        good: sum(rate(http_requests_total{{job="svc-{i}",code!~"5.."}}[5m]))
        total: sum(rate(http_requests_total{{job="svc-{i}"}}[5m]))
  runbooks: [docs/runbook.md#high-error-rate]
  alerts: [monitoring/rules.yaml]
  dashboards: [https://grafana.example.com/d/svc-{i}]
  deploy: {{helm: chart, kubernetes: [k8s/], terraform: [infra/]}}
  rollback: {{strategy: canary, automated: true, procedure: docs/runbook.md#rollback, lastTested: 2026-10-01}}
  dr: {{rto: 1h, rpo: 5m, backups: true, lastTested: 2026-06-01}}
"""

RUNBOOK = """\
# svc-{i} runbook

## High error rate

Check the dashboard, then the last deploy.

## Rollback

`kubectl argo rollouts undo svc-{i}`
"""

RULES = """\
groups:
  - name: svc-{i}-slo
    rules:
      - alert: Svc{i}BurnFast
        expr: |
          sum(rate(http_requests_total{{job="svc-{i}",code=~"5.."}}[1h])) / sum(rate(http_requests_total{{job="svc-{i}"}}[1h])) > 14.4 * 0.0005
          and
          sum(rate(http_requests_total{{job="svc-{i}",code=~"5.."}}[5m])) / sum(rate(http_requests_total{{job="svc-{i}"}}[5m])) > 14.4 * 0.0005
        for: 2m
        labels: {{severity: critical, slo: availability}}
        annotations:
          summary: svc-{i} burns its error budget fast
          runbook_url: https://runbooks.example.com/svc-{i}#high-error-rate
      - alert: Svc{i}Down
        expr: up{{job="svc-{i}"}} == 0
        for: {for_}
        labels: {{severity: critical}}
        annotations:
          summary: svc-{i} is down
"""

K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  labels: {{app.kubernetes.io/name: svc-{i}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app.kubernetes.io/name: svc-{i}}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: svc-{i}}}
    spec:
      topologySpreadConstraints:
        - {{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}}
      containers:
        - name: app
          image: registry.example.com/svc-{i}:{tag}
          resources:
            requests: {{cpu: 100m, memory: 256Mi}}
            {limits}
          livenessProbe: {{httpGet: {{path: /healthz, port: 8080}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: svc-{i}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{app.kubernetes.io/name: svc-{i}}}
"""

CHART = "apiVersion: v2\nname: svc-{i}\nversion: 1.0.0\nappVersion: \"1.0.0\"\n"
VALUES = """\
image:
  repository: registry.example.com/svc-{i}
  tag: "{tag}"
replicaCount: 3
autoscaling: {{enabled: false}}
resources:
  requests: {{cpu: 100m, memory: 256Mi}}
  limits: {{memory: 256Mi}}
podDisruptionBudget: {{enabled: true, maxUnavailable: 1}}
livenessProbe: {{enabled: true}}
readinessProbe: {{enabled: true}}
"""
VALUES_PROD = "replicaCount: {replicas}\n"
TEMPLATE = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{{{ .Release.Name }}}}\n"
            "spec:\n  replicas: {{{{ .Values.replicaCount }}}}\n")

MAIN_TF = """\
resource "aws_db_instance" "svc_{i}" {{
  identifier              = "svc-{i}-${{var.environment}}"
  engine                  = "postgres"
  instance_class          = "db.r6g.large"
  allocated_storage       = 100
  multi_az                = true
  backup_retention_period = {retention}
  deletion_protection     = true
}}

resource "helm_release" "svc_{i}" {{
  name   = "svc-{i}"
  chart  = "../chart"
  atomic = true
}}
"""
VARIABLES_TF = """\
variable "environment" {{
  type    = string
  default = "prod"
}}

variable "retention_days" {{
  type    = number
  default = 14
}}

locals {{
  name = "svc-{i}"
  tags = {{ service = "svc-{i}", tier = "{tier}" }}
}}
"""
ALARMS_TF = """\
resource "aws_cloudwatch_metric_alarm" "svc_{i}_cpu" {{
  alarm_name          = "svc-{i}-db-cpu"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "CPUUtilization"
  namespace           = "AWS/RDS"
  period              = 300
  statistic           = "Average"
  threshold           = 80
  alarm_actions       = ["arn:aws:sns:eu-west-1:123456789012:svc-{i}"]
}}
"""


def service_files(i: int) -> dict:
    gap = i % 3 == 0  # every third service has gaps, for realistic findings
    v = {
        "i": i, "team": i % 40, "tier": i % 3, "replicas": 1 if gap else 3, "tag": "latest" if gap else "1.4.2",
        "limits": "" if gap else "limits: {memory: 256Mi}", "retention": 1 if gap else 14,
        "for_": "0s" if gap else "5m",
    }
    base = f"services/svc-{i}"
    return {
        f"{base}/service.yaml": MANIFEST.format(**v),
        f"{base}/docs/runbook.md": RUNBOOK.format(**v),
        f"{base}/monitoring/rules.yaml": RULES.format(**v),
        f"{base}/k8s/deployment.yaml": K8S.format(**v),
        f"{base}/chart/Chart.yaml": CHART.format(**v),
        f"{base}/chart/values.yaml": VALUES.format(**v),
        f"{base}/chart/values-prod.yaml": VALUES_PROD.format(**v),
        f"{base}/chart/templates/deployment.yaml": TEMPLATE.format(**v),
        f"{base}/infra/main.tf": MAIN_TF.format(**v),
        f"{base}/infra/variables.tf": VARIABLES_TF.format(**v),
        f"{base}/infra/alarms.tf": ALARMS_TF.format(**v),
    }


def generate(n: int, out: str) -> int:
    count = 0
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, ".prr-lint.yaml"), "w") as fh:
        fh.write("runbook_hosts: [runbooks.example.com]\n")
    for i in range(n):
        for rel, text in service_files(i).items():
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write(text)
            count += 1
    return count


if __name__ == "__main__":
    n, out = int(sys.argv[1]), sys.argv[2]
    print(f"wrote {generate(n, out)} files for {n} services to {out}")
