"""The error-budget gate against a real Prometheus holding 31 days of backfilled counters.

Each service's error ratio is known by hand: total requests grow by 1000 a minute, errors by a per-service
amount, one sample a minute up to END; the gate evaluates at END + 30 s (`--at`), so a window of w minutes
holds w samples and w - 1 increments.
"""

import json

import pytest

from conftest import write
from prometheus_server import AT_ISO, PrometheusServer, openmetrics, service_series

SELECT = "SVC001,SVC010,SVC011,PRR001"
INCIDENT_MINUTES = 40


def manifest(name: str, objective: float = 99.9, sli: str | None = None) -> str:
    sli = sli or (f'        bad: sum(rate(slo_errors_total{{service="{name}"}}[5m]))\n'
                  f'        total: sum(rate(slo_requests_total{{service="{name}"}}[5m]))\n')
    return f"""\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: {name}
  owner: team-{name}
  tier: 1
spec:
  slos:
    - name: availability
      objective: {objective}
      window: 30d
      sli:
{sli}"""


SERVICES = {
    "healthy": dict(errors=lambda k: 0.2),
    "burning": dict(errors=lambda k: 50.0 if k < INCIDENT_MINUTES else 0.2),   # an incident in the last 40 min
    "exhausted": dict(errors=lambda k: 1.5),
    "thin": dict(errors=lambda k: 0.8),                                            # 80 % spent: warn band
    "restarted": dict(errors=lambda k: 0.2, reset_at_minute=10 * 1440),           # counters reset on day 10
    "young": dict(errors=lambda k: 0.2, days=10),                                  # 10 days of data for 30d
}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    series = []
    for name, how in SERVICES.items():
        series += service_series(name, how["errors"], days=how.get("days", 31),
                                 reset_at_minute=how.get("reset_at_minute"))
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), openmetrics(series))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    base = tmp_path_factory.mktemp("repo")
    files = {f"services/{name}/service.yaml": manifest(name) for name in SERVICES}
    # Sloth writes the window into its queries itself
    files["services/sloth/service.yaml"] = manifest("sloth").split("  slos:")[0] + "  slos: []\n"
    files["services/sloth/slos.yaml"] = """\
version: prometheus/v1
service: sloth
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(slo_errors_total{service="healthy"}[{{.window}}]))
        total_query: sum(rate(slo_requests_total{service="healthy"}[{{.window}}]))
"""
    # OpenSLO, good/total, over 28 days: good = total - errors of the healthy counters
    files["services/openslo/service.yaml"] = manifest("openslo").split("  slos:")[0] + "  slos: []\n"
    files["services/openslo/slo.yaml"] = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-success
spec:
  service: openslo
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  indicator:
    metadata:
      name: success
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                sum(rate(slo_requests_total{service="healthy"}[5m]))
                - sum(rate(slo_errors_total{service="healthy"}[5m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(slo_requests_total{service="healthy"}[5m]))
  objectives:
    - displayName: Success
      target: 0.9995
"""
    return write(str(base), files)


def gate(cli, repo, prometheus, service, *args, report=None, env=None):
    extra = ["--report", str(report)] if report else []
    proc = cli("gate", "--no-cache", "--select", SELECT, "--prometheus-url", prometheus.url, "--at", AT_ISO,
               "--service", service, *extra, *args, repo, env=env)
    data = json.loads(report.read_text()) if report and report.exists() else None
    return proc, data


def slo_row(report: dict) -> dict:
    (row,) = report["error_budget"]["slos"]
    return row


def test_healthy_service_passes_with_the_ratios_computed_by_hand(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "healthy", report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].startswith("prr-lint gate: PASS")
    assert "  healthy  availability  99.9%      30d     80.0%        5m 0.2x 30m 0.2x 1h 0.2x 6h 0.2x  pass" \
        in proc.stdout.splitlines()
    row = slo_row(rep)
    assert row["decision"] == "pass"
    for window in ("5m", "30m", "1h", "6h", "30d"):
        assert row["error_ratios"][window] == pytest.approx(0.0002, rel=1e-9)
        assert row["burn_rates"][window] == pytest.approx(0.2)
    assert row["budget_used_percent"] == pytest.approx(20.0) and row["budget_remaining_percent"] == pytest.approx(80)
    assert row["queries"]["1h"] == {"bad": 'sum(rate(slo_errors_total{service="healthy"}[1h]))',
                                    "total": 'sum(rate(slo_requests_total{service="healthy"}[1h]))'}
    budget = rep["error_budget"]
    assert budget["decision"] == "pass" and budget["evaluated_at"] == "2026-11-23T12:00:30+00:00"
    assert budget["prometheus"] == {"url": prometheus.url, "auth": "none", "headers": []}
    # 2 queries a window, 5 windows, and the probe at the start of the 30-day window
    assert len(budget["queries"]) == 11
    assert budget["queries"][-1] == {"query": 'sum(rate(slo_requests_total{service="healthy"}[5m]))',
                                     "time": "2026-10-24T12:05:30+00:00"}


def test_fast_burn_blocks(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "burning", report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    row = slo_row(rep)
    # the last 40 minutes fail 5 % of requests, the rest 0.02 %
    ratio_1h = (40 * 50 + 19 * 0.2) / (59 * 1000)
    ratio_6h = (40 * 50 + 319 * 0.2) / (359 * 1000)
    ratio_30d = (40 * 50 + (43199 - 40) * 0.2) / (43199 * 1000)
    assert row["error_ratios"]["5m"] == pytest.approx(0.05)
    assert row["error_ratios"]["30m"] == pytest.approx(0.05)
    assert row["error_ratios"]["1h"] == pytest.approx(ratio_1h)
    assert row["error_ratios"]["6h"] == pytest.approx(ratio_6h)
    assert row["error_ratios"]["30d"] == pytest.approx(ratio_30d)
    assert row["budget_remaining_percent"] == pytest.approx(100 - ratio_30d / 0.001 * 100)
    assert [(r["long"], r["short"], r["fired"]) for r in row["burn_rate_rules"]] == [("1h", "5m", True),
                                                                                     ("6h", "30m", False)]
    assert row["reasons"] == ["burning its budget 34.0x over 1h and 50.0x over 5m (blocks above 14.4x)"]
    lines = proc.stdout.splitlines()
    assert lines[0] == ("prr-lint gate: BLOCKED (error budget: burning/availability: burning its budget 34.0x "
                        "over 1h and 50.0x over 5m (blocks above 14.4x))")
    assert rep["decision"] == "blocked" and rep["error_budget"]["decision"] == "blocked"
    assert "  burning  1     BLOCKED  0       0         0" in lines
    assert [(s["name"], s["decision"], s["blocking"]) for s in rep["services"]] == [("burning", "blocked", 0)]


def test_exhausted_budget_blocks(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "exhausted", report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    row = slo_row(rep)
    assert row["budget_used_percent"] == pytest.approx(150.0)
    assert row["reasons"] == ["error budget exhausted: 150.0 % used over 30d"]
    assert all(not r["fired"] for r in row["burn_rate_rules"])   # 1.5x: slow, but the budget is gone
    assert "  exhausted  availability  99.9%      30d     -50.0%       5m 1.5x 30m 1.5x 1h 1.5x 6h 1.5x  BLOCKED" \
        in proc.stdout.splitlines()


def test_exempt_change_type_goes_through_a_spent_budget_and_says_so(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "exhausted", "--change-type", "security", report=tmp_path / "g.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == ("prr-lint gate: PASS (nothing at or above error; 0 warnings, 0 info, "
                                           "0 suppressed; security change let through the error budget)")
    assert slo_row(rep)["decision"] == "exempt"
    proc, _ = gate(cli, repo, prometheus, "exhausted", "--change-type", "feature")
    assert proc.returncode == 1


def test_warn_band_passes_with_a_note(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "thin", report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = slo_row(rep)
    assert row["decision"] == "warn" and row["budget_remaining_percent"] == pytest.approx(20.0)
    assert "  - thin/availability: 20.0 % of the error budget left (warns below 25 %)" in proc.stdout.splitlines()


def test_counter_reset_does_not_change_the_ratio(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "restarted", report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert slo_row(rep)["error_ratios"]["30d"] == pytest.approx(0.0002, rel=1e-9)


def test_window_not_covered_is_undecided(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "young", report=tmp_path / "gate.json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "prr-lint gate: error: young/availability: no data at the start of its 30d window "
        "(2026-10-24T12:05:30+00:00): this Prometheus does not cover the window (retention?)"]
    assert rep["decision"] == "error" and slo_row(rep)["decision"] == "error"


def test_sloth_window_placeholder(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "sloth", report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = slo_row(rep)
    assert row["slo"] == "requests" and row["window"] == "30d"
    assert row["queries"]["6h"]["bad"] == 'sum(rate(slo_errors_total{service="healthy"}[6h]))'
    assert row["budget_used_percent"] == pytest.approx(20.0)


def test_openslo_good_over_total(cli, repo, prometheus, tmp_path):
    proc, rep = gate(cli, repo, prometheus, "openslo", report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = slo_row(rep)
    assert (row["slo"], row["objective"], row["window"]) == ("checkout-success", 99.95, "28d")
    assert row["error_ratios"]["28d"] == pytest.approx(0.0002, rel=1e-6)
    # budget 0.0005: burn 0.4x, 40 % used
    assert row["burn_rates"]["1h"] == pytest.approx(0.4) and row["budget_used_percent"] == pytest.approx(40.0)
    assert set(row["queries"]["6h"]) == {"good", "total"}


def test_every_service_at_once_blocks_on_the_worst(cli, repo, prometheus, tmp_path):
    proc = cli("gate", "--no-cache", "--select", SELECT, "--prometheus-url", prometheus.url, "--at", AT_ISO,
               "--report", str(tmp_path / "gate.json"), repo)
    rep = json.loads((tmp_path / "gate.json").read_text())
    # the young service cannot be judged: the whole gate cannot decide, whatever the others say
    assert proc.returncode == 2
    decisions = {r["service"]: r["decision"] for r in rep["error_budget"]["slos"]}
    assert decisions == {"burning": "blocked", "exhausted": "blocked", "healthy": "pass", "restarted": "pass",
                         "sloth": "pass", "openslo": "pass", "thin": "warn", "young": "error"}


def test_ci_fails_instead_of_skipping_without_prometheus(monkeypatch, tmp_path):
    from prometheus_server import binaries

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="prometheus/promtool not installed"):
        binaries()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        binaries()


def test_no_data_fails_unless_configured(cli, repo, prometheus, tmp_path):
    base = tmp_path / "r"
    write(str(base), {"services/ghost/service.yaml": manifest("ghost")})
    proc, _ = gate(cli, str(base), prometheus, "ghost")
    assert proc.returncode == 2
    assert "ghost/availability: no data over 5m, 30m, 1h, 6h, 30d" in proc.stderr
    write(str(base), {".prr-lint.yaml": "error_budget:\n  no_data: pass\n"})
    proc, _ = gate(cli, str(base), prometheus, "ghost")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ghost/availability: no data over 5m, 30m, 1h, 6h, 30d (no_data: pass)" in proc.stdout


def test_prometheus_down_is_undecided(cli, repo, prometheus, tmp_path):
    from prometheus_server import _free_port

    proc, rep = gate(cli, repo, _Down(_free_port()), "healthy", report=tmp_path / "gate.json")
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(": connection refused")
    assert rep["decision"] == "error"


class _Down:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"


OVERRIDES = """\
version: 1
overrides:
  - service: exhausted
    slo: availability
    reason: rollback of the change that spent the budget
    approver: vp-eng
    expires: 2026-11-30
  - service: burning
    slo: "*"
    reason: old incident
    approver: sre-lead
    expires: 2026-11-01
"""


def test_override_lets_a_release_through_until_it_expires(cli, repo, prometheus, tmp_path):
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text(OVERRIDES)
    proc, rep = gate(cli, repo, prometheus, "exhausted", "--budget-overrides", str(overrides),
                     report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert slo_row(rep)["decision"] == "overridden"
    applied = rep["error_budget"]["overrides"]["applied"]
    assert [(o["service"], o["approver"], o["applied_to"]) for o in applied] == [
        ("exhausted", "vp-eng", ["exhausted/availability"])]
    assert [o["service"] for o in rep["error_budget"]["overrides"]["expired"]] == ["burning"]
    assert ("  - exhausted/availability: override approved by vp-eng until 2026-11-30: rollback of the change that "
            "spent the budget") in proc.stdout.splitlines()
    # the expired one does not apply
    proc, rep = gate(cli, repo, prometheus, "burning", "--budget-overrides", str(overrides))
    assert proc.returncode == 1
    assert "  1 expired override(s), not applied: burning/* (2026-11-01)" in proc.stdout.splitlines()
    # --no-overrides: none applies
    proc, _ = gate(cli, repo, prometheus, "exhausted", "--budget-overrides", str(overrides), "--no-overrides")
    assert proc.returncode == 1


def test_freeze_blocks_every_release(cli, repo, prometheus, tmp_path):
    base = tmp_path / "r"
    write(str(base), {"services/healthy/service.yaml": manifest("healthy"),
                      ".prr-lint.yaml": "error_budget:\n  freeze:\n    - {from: 2026-11-20, to: 2026-11-27, "
                                        "reason: Black Friday}\n"})
    proc, rep = gate(cli, str(base), prometheus, "healthy", "--change-type", "hotfix", report=tmp_path / "gate.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == ("prr-lint gate: BLOCKED (error budget: release freeze until "
                                           "2026-11-28T00:00:00+00:00: Black Friday)")
    assert rep["error_budget"]["freeze"] == [{"from": "2026-11-20T00:00:00+00:00", "to": "2026-11-28T00:00:00+00:00",
                                              "reason": "Black Friday"}]
    proc = cli("gate", "--no-cache", "--select", SELECT, "--at", "2026-11-28T00:00:00Z", str(base))
    assert proc.returncode == 0, proc.stdout + proc.stderr   # over, and no Prometheus asked


def test_tier_thresholds_from_config(cli, repo, prometheus, tmp_path):
    base = tmp_path / "r"
    write(str(base), {"services/healthy/service.yaml": manifest("healthy"),
                      ".prr-lint.yaml": "error_budget:\n  tiers:\n    '1':\n      min_remaining_percent: 90\n"})
    proc, rep = gate(cli, str(base), prometheus, "healthy", report=tmp_path / "gate.json")
    assert proc.returncode == 1
    assert slo_row(rep)["reasons"] == ["only 80.0 % of the error budget left over 30d (blocks below 90 %)"]


def test_findings_and_budget_both_block(cli, repo, prometheus):
    proc = cli("gate", "--no-cache", "--select", SELECT + ",SVC002", "--prometheus-url", prometheus.url,
               "--at", AT_ISO, "--service", "exhausted", repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == ("prr-lint gate: BLOCKED (1 blocking finding at or above error; error "
                                           "budget: exhausted/availability: error budget exhausted: 150.0 % used "
                                           "over 30d)")
