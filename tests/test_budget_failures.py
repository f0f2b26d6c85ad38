"""The error-budget gate fails closed: every answer that is not plainly one number is a one-line reason, and the
gate exits 2. Stand-in servers produce what a real Prometheus does not on demand; credentials and their rules."""

import json
import time

import pytest

from prr_lint.budget.prometheus import MAX_BODY, Client, PrometheusError, settings_from
from prr_lint.errors import UsageError

from conftest import write
from prometheus_standin import ONE_SERIES, Standin, json_answer

HTML = (200, "text/html; charset=utf-8", b"<html><body><form action=/login>Sign in</form></body></html>", {})


@pytest.fixture
def standin():
    servers = []

    def start(answer=None, delay=0.0, tls=None):
        server = Standin(answer, delay, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ask(url, environ=None, timeout=5.0, deadline=10.0):
    return Client(settings_from(url, environ or {}, timeout=timeout, deadline=deadline)).query("up", 1795435230)


@pytest.mark.parametrize("answer, reason", [
    (json_answer({"status": "error", "errorType": "unauthorized", "error": "no"}, 401),
     "HTTP 401: not authorized (check PRR_PROMETHEUS_TOKEN or basic auth)"),
    (json_answer({}, 403), "HTTP 403: not authorized (check PRR_PROMETHEUS_TOKEN or basic auth)"),
    ((404, "text/plain", b"404 page not found", {}), "HTTP 404"),
    (json_answer({"status": "error", "errorType": "internal", "error": "store down"}, 500), "HTTP 500: store down"),
    ((503, "text/html", b"<h1>Service Unavailable</h1>", {}), "HTTP 503"),
    ((302, "text/html", b"", {"Location": "https://sso.example.com/login"}),
     "answered with a redirect (HTTP 302), which is never followed: give the server's own URL"),
    (HTML, "answered with text/html, not a JSON API answer (a login page or proxy?)"),
    ((200, "application/json", b"{not json", {}), "answered with application/json, not a JSON API answer "
                                                   "(a login page or proxy?)"),
    (json_answer({"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}, 400),
     "query error: bad_data: parse error at char 3"),
    (json_answer({**ONE_SERIES, "warnings": ["partial response: store eu-1 unavailable"]}),
     "answer came with warnings (partial data): partial response: store eu-1 unavailable"),
    (json_answer({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"pod": "a"}, "value": [1, "1"]}, {"metric": {"pod": "b"}, "value": [1, "2"]}]}}),
     "2 series where one is expected (aggregate the query, e.g. with sum())"),
    ((200, "application/json", b"[" + b"0," * MAX_BODY + b"0]", {}),
     f"answer larger than {MAX_BODY} bytes (not one series)"),
    (json_answer({"status": "success", "data": {"resultType": "matrix", "result": []}}),
     "answered a matrix, expected an instant vector or scalar"),
])
def test_answers_that_are_not_one_number_fail(standin, answer, reason):
    server = standin(answer)
    with pytest.raises(PrometheusError) as e:
        ask(server.url)
    assert str(e.value) == f"Prometheus {server.url}: {reason}"


def test_redirect_is_not_followed(standin):
    target = standin()
    server = standin((307, "text/plain", b"", {"Location": target.url + "/api/v1/query"}))
    with pytest.raises(PrometheusError, match="never followed"):
        ask(server.url, {"PRR_PROMETHEUS_TOKEN": "s3cret"})
    assert target.requests == []


def test_no_data_and_nan_are_no_value(standin):
    empty = standin(json_answer({"status": "success", "data": {"resultType": "vector", "result": []}}))
    nan = standin(json_answer({"status": "success", "data": {"resultType": "vector",
                                                             "result": [{"metric": {}, "value": [1, "NaN"]}]}}))
    scalar = standin(json_answer({"status": "success", "data": {"resultType": "scalar", "result": [1, "0.25"]}}))
    assert (ask(empty.url).value, ask(nan.url).value, ask(scalar.url).value) == (None, None, 0.25)


def test_hanging_server_times_out_within_the_limit(standin):
    server = standin(delay=5)
    started = time.monotonic()
    with pytest.raises(PrometheusError) as e:
        ask(server.url, timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert str(e.value) == f"Prometheus {server.url}: no answer within 0.5s (--prometheus-timeout)"


def test_dripping_body_times_out_within_the_limit():
    server = Standin(drip=0.2)     # each byte well within a socket timeout, the whole answer far beyond the limit
    try:
        started = time.monotonic()
        with pytest.raises(PrometheusError) as e:
            ask(server.url, timeout=1.0)
        assert time.monotonic() - started < 2.5
        assert str(e.value).endswith(": no answer within 1s (--prometheus-timeout)")
    finally:
        server.stop()


def test_overall_deadline_bounds_every_query_together(standin):
    server = standin(delay=0.4)
    client = Client(settings_from(server.url, {}, timeout=5.0, deadline=1.0))
    started = time.monotonic()
    with pytest.raises(PrometheusError, match=r"before the overall deadline \(1s, --prometheus-deadline\)"):
        for _ in range(10):
            client.query("up", 1795435230)
    assert time.monotonic() - started < 2.0
    with pytest.raises(PrometheusError):   # broken for the rest of the run
        client.query("up", 1795435230)


def test_connection_refused(standin):
    server = standin()
    server.stop()
    with pytest.raises(PrometheusError, match="connection refused$"):
        ask(server.url)


def test_tls_verified_against_the_given_ca(standin, tmp_path):
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server = standin(tls=(str(cert), str(key)))
    with pytest.raises(PrometheusError) as e:
        ask(server.url)
    assert str(e.value).startswith(f"Prometheus {server.url}: TLS failed (")
    assert ask(server.url, {"PRR_PROMETHEUS_CA_FILE": str(cert)}).value == 0.5


def test_credentials_headers_and_path_prefix(standin, tmp_path):
    server = standin()
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    ask(server.url + "/api/prom/", {"PRR_PROMETHEUS_TOKEN_FILE": str(token),
                                    "PRR_PROMETHEUS_HEADERS": "X-Scope-OrgID: tenant-a; X-Extra: 1"})
    path, headers = server.requests[-1]
    assert path.startswith("/api/prom/api/v1/query?query=up&time=1795435230.000&timeout=")
    assert headers["Authorization"] == "Bearer t0ken"
    assert headers["X-Scope-OrgID"] == "tenant-a" and headers["X-Extra"] == "1"
    ask(server.url, {"PRR_PROMETHEUS_USERNAME": "u", "PRR_PROMETHEUS_PASSWORD": "p"})
    assert server.requests[-1][1]["Authorization"] == "Basic dTpw"


def test_tenant_header_alone_may_go_over_http():
    s = settings_from("http://mimir.internal/prometheus/", {"PRR_PROMETHEUS_HEADERS": "X-Scope-OrgID: payments"})
    assert (s.url, s.headers, s.auth) == ("http://mimir.internal/prometheus", {"X-Scope-OrgID": "payments"}, "none")


@pytest.mark.parametrize("url, environ, message", [
    ("http://prometheus.example.com", {"PRR_PROMETHEUS_TOKEN": "x"},
     "--prometheus-url http://prometheus.example.com: credentials are never sent over plain http to another host "
     "than localhost: use https"),
    ("http://mimir.internal/prometheus", {"PRR_PROMETHEUS_HEADERS": "X-Scope-OrgID: a; X-Api-Key: k"},
     "credentials are never sent over plain http"),
    ("https://user:pw@prometheus.example.com", {}, "--prometheus-url: credentials in the URL are not accepted"),
    ("ftp://prometheus.example.com", {}, "expected http(s)://host[:port][/path]"),
    ("https://p.example.com", {"PRR_PROMETHEUS_TOKEN": "x", "PRR_PROMETHEUS_TOKEN_FILE": "/x"}, "both set"),
    ("https://p.example.com", {"PRR_PROMETHEUS_TOKEN_FILE": "/nonexistent/token"}, "PRR_PROMETHEUS_TOKEN_FILE: "
                                                                                     "cannot read /nonexistent/token"),
    ("https://p.example.com", {"PRR_PROMETHEUS_USERNAME": "u"}, "basic auth needs both"),
    ("https://p.example.com", {"PRR_PROMETHEUS_HEADERS": "no colon"}, "expected `Name: value` items"),
])
def test_settings_refused(url, environ, message):
    with pytest.raises(UsageError) as e:
        settings_from(url, environ)
    assert message in str(e.value)


# -- end to end: the real CLI against stand-ins --------------------------------------------------------------
MANIFEST = """\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: checkout
  owner: team-payments
  tier: 1
spec:
  slos:
    - name: availability
      objective: 99.9
      window: 30d
      sli:
        bad: sum(rate(errors_total[5m]))
        total: sum(rate(requests_total[5m]))
"""


def gate(cli, repo, url, *args, env=None, report=None):
    extra = ["--report", str(report)] if report else []
    return cli("gate", "--no-cache", "--select", "SVC001,SVC010,SVC011,PRR001", "--prometheus-url", url,
               "--at", "2026-11-23T12:00:30Z", *extra, *args, str(repo), env=env)


@pytest.fixture
def repo(tmp_path):
    return write(str(tmp_path / "repo"), {"services/checkout/service.yaml": MANIFEST})


@pytest.mark.parametrize("answer, tail", [
    (json_answer({"status": "error", "error": "unauthorized"}, 401),
     ": HTTP 401: not authorized (check PRR_PROMETHEUS_TOKEN or basic auth)"),
    (HTML, ": answered with text/html, not a JSON API answer (a login page or proxy?)"),
    ((301, "text/plain", b"", {"Location": "http://elsewhere/"}), "which is never followed: give the server's own URL"),
    (json_answer({**ONE_SERIES, "warnings": ["partial response"]}), "(partial data): partial response"),
])
def test_gate_exits_2_with_one_line(cli, repo, standin, tmp_path, answer, tail):
    server = standin(answer)
    proc = gate(cli, repo, server.url, report=tmp_path / "gate.json")
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"prr-lint gate: error: Prometheus {server.url}") and line.endswith(tail)
    assert "Traceback" not in proc.stderr
    report = json.loads((tmp_path / "gate.json").read_text())
    assert report["decision"] == "error" and report["error_budget"]["decision"] == "error"
    assert report["error_budget"]["warnings"] == (["partial response"] if "warnings" in line else [])


def test_gate_hanging_server_within_deadline(cli, repo, standin):
    server = standin(delay=30)
    started = time.monotonic()
    proc = gate(cli, repo, server.url, "--prometheus-timeout", "1")
    assert proc.returncode == 2 and proc.stderr.strip().endswith("no answer within 1s (--prometheus-timeout)")
    assert time.monotonic() - started < 15


def test_gate_url_and_token_from_environment(cli, repo, standin, tmp_path):
    server = standin(json_answer({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": [1, "0.0002"]}]}}))
    (tmp_path / "token").write_text("abc")
    proc = cli("gate", "--no-cache", "--select", "SVC001,SVC010,SVC011,PRR001", "--at", "2026-11-23T12:00:30Z",
               str(repo), env={"PRR_PROMETHEUS_URL": server.url, "PRR_PROMETHEUS_TOKEN_FILE": str(tmp_path / "token")})
    # bad and total both answer 0.0002: an error ratio of 1, budget spent
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "checkout/availability: error budget exhausted: 100000.0 % used over 30d" in proc.stdout
    assert {h["Authorization"] for _, h in server.requests} == {"Bearer abc"}


def test_config_may_not_name_the_server_or_credentials(cli, repo):
    write(repo, {".prr-lint.yaml": "error_budget:\n  prometheus_url: http://attacker.example.com\n"})
    proc = cli("gate", "--no-cache", ".", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "prr-lint gate: error: .prr-lint.yaml:2: error_budget.prometheus_url is not allowed in a config file (it may "
        "be the checked repository's): use --prometheus-url or the PRR_PROMETHEUS_URL environment variable")
    write(repo, {".prr-lint.yaml": "error_budget:\n  warn_remaining_percent: 10\n  token: abc\n"})
    proc = cli("gate", "--no-cache", ".", cwd=repo)
    assert proc.returncode == 2 and "prr-lint gate: error: .prr-lint.yaml:3: error_budget.token is not allowed" \
        in proc.stderr


def test_sli_without_a_replaceable_range_needs_a_per_window_query(cli, repo, standin, tmp_path):
    server = standin(json_answer({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": [1, "0.0001"]}]}}))
    write(repo, {"services/checkout/service.yaml": MANIFEST.replace(
        "bad: sum(rate(errors_total[5m]))", "bad: sum(rate(errors_total[5m])) + sum(increase(x_total[1h]))")})
    proc = gate(cli, repo, server.url)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "prr-lint gate: error: checkout/availability: the bad query has 2 different ranges (1h, 5m): give a "
        "per-window query ({{window}} placeholder) or a recording rule under error_budget.slos.checkout/availability "
        "in config")
    assert server.requests == []
    write(repo, {".prr-lint.yaml": "error_budget:\n  slos:\n    checkout/availability:\n"
                                   "      recording_rule: slo:sli_error:ratio_rate\n"
                                   "      selector: '{sloth_service=\"checkout\"}'\n"})
    proc = gate(cli, repo, server.url, report=tmp_path / "gate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    queries = json.loads((tmp_path / "gate.json").read_text())["error_budget"]["slos"][0]["queries"]
    assert queries["1h"] == {"error_ratio": 'slo:sli_error:ratio_rate1h{sloth_service="checkout"}'}


def test_named_service_without_slo_is_undecided(cli, repo, standin, tmp_path):
    server = standin()
    write(repo, {"services/search/service.yaml": MANIFEST.replace("checkout", "search").split("  slos:")[0]})
    proc = gate(cli, repo, server.url, "--service", "search", report=tmp_path / "gate.json")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("prr-lint gate: error: error budget: service search declares no SLO, so its "
                                   "budget cannot be known")
    assert json.loads((tmp_path / "gate.json").read_text())["error_budget"]["services_without_slos"] == ["search"]
    assert server.requests == []


def number(value: str) -> tuple:
    return json_answer({"status": "success", "data": {"resultType": "vector",
                                                      "result": [{"metric": {}, "value": [1, value]}]}})


def test_good_above_total_is_undecided(cli, repo, standin):
    server = standin(lambda path: number("2") if "good" in path else number("1"))
    write(repo, {"services/checkout/service.yaml": MANIFEST.replace("bad: sum(rate(errors_total", "good: sum(rate("
                                                                    "good_total")})
    proc = gate(cli, repo, server.url)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("prr-lint gate: error: checkout/availability: its error ratio over 5m is -1, "
                                   "outside 0..1: its SLI queries do not count the same requests")


def test_an_undecided_gate_still_prints_the_budget_table(cli, repo, standin):
    # one SLO judged, one not: the verdict says why it could not decide and shows what it did learn
    two = MANIFEST + """\
    - name: latency
      objective: 99
      window: 30d
      sli:
        good: sum(rate(fast_total[5m]))
        total: sum(rate(requests_total[5m]))
"""
    server = standin(lambda path: number("2") if "fast_total" in path else
                     number("0.0001") if "errors_total" in path else number("1"))
    write(repo, {"services/checkout/service.yaml": two})
    proc = gate(cli, repo, server.url)
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[:2] == [
        "prr-lint gate: COULD NOT DECIDE (fail-closed, exit 2)",
        "  - checkout/latency: its error ratio over 5m is -1, outside 0..1: its SLI queries do not count the same "
        "requests"]
    assert proc.stdout.splitlines()[2:] == [
        "",
        f"Error budget (Prometheus {server.url}, at 2026-11-23T12:00:30+00:00):",
        "  service   slo           objective  window  budget left  burn rate                         decision",
        "  checkout  availability  99.9%      30d     90.0%        5m 0.1x 30m 0.1x 1h 0.1x 6h 0.1x  pass",
        "  checkout  latency       99%        30d     -            -                                 UNKNOWN"]
