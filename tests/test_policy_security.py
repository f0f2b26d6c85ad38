"""Rego policies on untrusted pull requests: no host data for policies, remote settings only from the command
line or the environment, no network built-ins pushed without --allow-net, and every remote call bounded."""

import json
import os
import socket
import threading
import time

import pytest

from conftest import run_cli, write
from opa_standin import OpaStandin
from test_policy import SERVICE, policy_dir

SECRET = "s3cr3t-value-of-the-ci-job"


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/api:1.0
"""

SIMPLE = 'package main\n\nimport rego.v1\n\ndeny contains "seen" if input.kind == "Service"\n'


@pytest.fixture
def repo(tmp_path):
    return write(str(tmp_path / "repo"), {
        "services/api/service.yaml": SERVICE,
        "services/api/k8s/workloads.yaml": DEPLOYMENT,
    })


def messages(stdout: str) -> list:
    return [f["message"] for f in json.loads(stdout)["findings"] if f["rule"].startswith("REGO")]


# -- 1. embedded policies see no environment ----------------------------------------------------------------
@pytest.mark.slow
def test_embedded_policies_see_an_empty_environment(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"env.rego": """\
package main

import rego.v1

deny contains sprintf("env: %v", [opa.runtime().env]) if input.kind == "Service"

deny contains sprintf("runtime: %v", [opa.runtime()]) if input.kind == "Service"

deny contains sprintf("secret: %v", [opa.runtime().env.PRR_TEST_SECRET]) if input.kind == "Service"
"""})
    env = {"PRR_TEST_SECRET": SECRET, "GITHUB_TOKEN": SECRET}
    r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", cwd=repo, env=env)
    assert r.returncode == 1, r.stderr
    got = messages(r.stdout)
    assert "env: {}" in got, got
    assert any(m.startswith("runtime: ") for m in got), got
    assert not any(m.startswith("secret: ") for m in got), got  # undefined: the variable does not exist
    assert SECRET not in r.stdout + r.stderr
    # the same in every other output format
    for fmt in ("text", "sarif", "markdown", "github", "junit"):
        out = run_cli("check", "--policy", pdir, repo, "-f", fmt, "--no-cache", cwd=repo, env=env)
        assert out.returncode == 1, (fmt, out.stderr)
        assert SECRET not in out.stdout + out.stderr, fmt


def test_policy_unit_tests_see_an_empty_environment(tmp_path):
    pdir = policy_dir(tmp_path, {
        "p.rego": "package p\nimport rego.v1\nvars := opa.runtime().env\n",
        "p_test.rego": "package p_test\nimport rego.v1\n"
                       "test_no_environment if { count(data.p.vars) == 0 }\n"
                       f'test_leak if {{ data.p.vars.PRR_TEST_SECRET == "{SECRET}" }}\n',
    })
    r = run_cli("policy", "test", pdir, "-v", cwd=tmp_path, env={"PRR_TEST_SECRET": SECRET})
    assert "data.p_test.test_no_environment: PASS" in r.stdout, r.stdout + r.stderr
    assert "data.p_test.test_leak: FAIL" in r.stdout


# -- 2. the server, its token and network access never come from a config file ------------------------------
@pytest.mark.parametrize("setting, instead", [
    ("opa_url: {url}", "--opa-url"),
    ("allow_net: true", "--allow-net"),
    ("token: abc", "PRR_LINT_OPA_TOKEN"),
    ("opa_token: abc", "PRR_LINT_OPA_TOKEN"),
])
@pytest.mark.slow
def test_a_config_that_sets_remote_settings_is_a_config_error(tmp_path, repo, setting, instead):
    pdir = policy_dir(tmp_path, {"main.rego": SIMPLE})
    with OpaStandin() as opa:
        write(repo, {".prr-lint.yaml": "policy:\n  paths: [" + pdir + "]\n  " + setting.format(url=opa.url) + "\n"})
        env = {"PRR_LINT_OPA_TOKEN": SECRET}
        r = run_cli("check", ".", "--no-cache", cwd=repo, env=env)
        assert r.returncode == 2, r.stdout + r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        key = setting.split(":")[0]
        assert lines[0].startswith(f"prr-lint: error: .prr-lint.yaml:3: policy.{key} is not allowed in a config file")
        assert instead in lines[0]
        gate = run_cli("gate", ".", "--no-cache", cwd=repo, env=env)
        assert gate.returncode == 2 and "COULD NOT DECIDE" in gate.stdout, gate.stdout + gate.stderr
        assert opa.state.requests == []  # no document and no token ever left


def test_a_trusted_config_file_cannot_set_the_server_either(tmp_path, repo):
    trusted = write(str(tmp_path / "platform"), {"prr-lint.yaml": "policy:\n  opa_url: http://127.0.0.1:1\n"})
    r = run_cli("gate", repo, "--config", os.path.join(trusted, "prr-lint.yaml"), cwd=repo)
    assert r.returncode == 2 and "policy.opa_url is not allowed in a config file" in r.stderr
    toml = write(str(tmp_path / "toml"), {"pyproject.toml": '[tool.prr-lint.policy]\nallow_net = true\n'})
    r = run_cli("check", repo, "--config", os.path.join(toml, "pyproject.toml"), cwd=repo)
    assert r.returncode == 2 and "policy.allow_net is not allowed in a config file" in r.stderr


@pytest.mark.slow
def test_the_server_and_token_come_from_the_environment(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"main.rego": SIMPLE})
    with OpaStandin() as opa:
        r = run_cli("check", "--policy", pdir, repo, "-f", "json", "--no-cache", cwd=repo,
                    env={"PRR_LINT_OPA_URL": opa.url, "PRR_LINT_OPA_TOKEN": SECRET})
        assert r.returncode == 1, r.stderr
        assert messages(r.stdout) == ["seen"]
        assert any(m == "POST" for m, _ in opa.state.requests)
        assert set(opa.state.authorization) == {f"Bearer {SECRET}"}
    assert SECRET not in r.stdout + r.stderr


def test_allow_net_from_the_environment(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"net.rego": NET_POLICY})
    r = run_cli("check", "--policy", pdir, repo, cwd=repo, env={"PRR_LINT_ALLOW_NET": "1"})
    assert r.returncode == 2 and "not available in the embedded evaluator" in r.stderr, r.stderr
    bad = run_cli("check", "--policy", pdir, repo, cwd=repo, env={"PRR_LINT_ALLOW_NET": "maybe\n::x"})
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "PRR_LINT_ALLOW_NET" in bad.stderr, bad.stderr


# -- 2b. policies a pull request can change are not pushed to a server unless the repository is trusted -------
@pytest.mark.slow
def test_policies_inside_the_checked_repository_are_not_pushed_unless_trusted(tmp_path, repo):
    write(repo, {"policy/main.rego": SIMPLE, ".prr-lint.yaml": "policy:\n  paths: [policy/]\n"})
    with OpaStandin() as opa:
        refused = run_cli("check", repo, "--opa-url", opa.url, "--no-cache", cwd=repo)
        assert opa.state.requests == []
        assert refused.returncode == 2 and refused.stdout == "", refused.stderr
        assert refused.stderr == (
            "prr-lint: error: policy: policies inside the checked repository are not "
            "pushed to the OPA server (a pull request could replace policies the server serves to others): pass "
            "--trust-repo-rules where the repository is trusted, --opa-no-push to use the server's own policies, "
            "or evaluate embedded (no --opa-url)\n")
        # named on the command line instead of in the repository's config: the files are still the pull request's
        by_flag = run_cli("gate", "--policy", "policy", ".", "--opa-url", opa.url, "--no-cache", cwd=repo)
        assert by_flag.returncode == 2 and "COULD NOT DECIDE" in by_flag.stdout
        assert opa.state.requests == []
        trusted = run_cli("check", repo, "--opa-url", opa.url, "--trust-repo-rules", "-f", "json", "--no-cache",
                          cwd=repo)
        assert trusted.returncode == 1, trusted.stderr
        assert messages(trusted.stdout) == ["seen"]
        assert ("PUT", "/v1/policies/prr-lint/policy/main.rego") in opa.state.requests


@pytest.mark.slow
def test_with_no_push_the_repository_policies_are_only_queried(tmp_path, repo):
    write(repo, {"policy/main.rego": SIMPLE})
    with OpaStandin() as opa:
        r = run_cli("check", "--policy", "policy", ".", "--opa-url", opa.url, "--opa-no-push", "--no-cache",
                    cwd=repo)
        assert not any(m == "PUT" for m, _ in opa.state.requests)
    # the server never had the policy: an error from the server, not a refusal to push
    assert r.returncode == 2 and "not pushed" not in r.stderr, r.stderr


# -- 3. network built-ins are refused before anything is pushed -------------------------------------------------
NET_POLICY = """\
package main

import rego.v1

deny contains msg if {
	resp := http.send({"method": "get", "url": "https://example.com"})
	msg := resp.body
}
"""


@pytest.mark.parametrize("source, where", [
    (NET_POLICY, "6:10: rego_type_error: http.send"),
    # at the start of a line, where a naive scan takes it for a rule head
    ("package main\n\nimport rego.v1\n\ndeny contains msg if {\nhttp.send({\"url\": \"https://x\"}).body == msg\n}\n",
     "6:1: rego_type_error: http.send"),
    ("package main\n\nimport rego.v1\n\ndeny contains ip if {\n\tsome ip in net.lookup_ip_addr(\"example.com\")\n}\n",
     "6:13: rego_type_error: net.lookup_ip_addr"),
    ("package main\n\nimport rego.v1\n\nsend(x) := x\n\ndeny contains 1 if {\n\tsend(1) with http.send as send\n}\n",
     "8:15: rego_type_error: http.send"),
])
@pytest.mark.slow
def test_network_builtins_are_refused_before_a_push(tmp_path, repo, source, where):
    pdir = policy_dir(tmp_path, {"net.rego": source})
    with OpaStandin() as opa:
        r = run_cli("gate", "--policy", pdir, repo, "--opa-url", opa.url, cwd=repo)
        assert opa.state.requests == []  # refused before any request: nothing pushed
    assert r.returncode == 2 and "COULD NOT DECIDE" in r.stdout, r.stdout + r.stderr
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 1 and f"policy/net.rego:{where}: network built-in refused" in errors[0], errors
    assert "--allow-net" in errors[0]


@pytest.mark.slow
def test_network_builtins_are_pushed_with_allow_net(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"net.rego": NET_POLICY})
    with OpaStandin() as opa:
        run_cli("check", "--policy", pdir, repo, "--opa-url", opa.url, "--allow-net", cwd=repo)
        assert [p for m, p in opa.state.requests if m == "PUT"] == \
            ["/v1/policies/prr-lint" + os.path.join(pdir, "net.rego")]


@pytest.mark.slow
def test_network_builtin_names_in_strings_and_comments_are_not_calls(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"main.rego": """\
package main

import rego.v1

# http.send({"url": "https://example.com"}) is not used here
deny contains "http.send(x) and net.lookup_ip_addr(y)" if input.kind == "Service"

deny contains `http.send({})` if input.kind == "Service"
"""})
    with OpaStandin() as opa:
        r = run_cli("check", "--policy", pdir, repo, "--opa-url", opa.url, "-f", "json", "--no-cache", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert sorted(messages(r.stdout)) == ["http.send(x) and net.lookup_ip_addr(y)", "http.send({})"]


# -- 4. deadlines: every remote call and the embedded evaluation of a run are bounded -----------------------
class HostileServer:
    """An HTTP server on 127.0.0.1 (never any other address) that misbehaves with `behave(conn, stop)`; every
    connection ends at `stop` (set when the test leaves the `with`) or after `limit` seconds."""

    def __init__(self, behave, limit: float = 60.0):
        self.behave = behave
        self.limit = limit
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self):
        ends = time.monotonic() + self.limit
        while not self.stop.is_set() and time.monotonic() < ends:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._one, args=(conn, ends), daemon=True).start()

    def _one(self, conn, ends):
        with conn:
            conn.settimeout(1.0)
            try:
                self.behave(conn, lambda seconds: self.stop.wait(max(0.0, min(seconds, ends - time.monotonic())))
                            or time.monotonic() >= ends)
            except OSError:
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def _read_request(conn) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def never_answers(conn, wait):
    _read_request(conn)
    wait(3600)


def answers_slowly(conn, wait):
    _read_request(conn)
    if not wait(20):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


def drips(conn, wait):
    _read_request(conn)
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    for byte in reply:
        conn.sendall(bytes([byte]))
        if wait(3):  # a socket timeout alone restarts on every byte
            return


def not_json(conn, wait):
    _read_request(conn)
    body = b"<html>a proxy's login page</html>"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                 % (len(body), body))


def floods(conn, wait):
    # no Content-Length: the body ends when the server closes, after far more than any decision
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[")
    chunk = b"0," * 65536
    try:
        for _ in range(160):     # 20 MiB
            conn.sendall(chunk)
    except OSError:              # the client stopped reading: what it should do
        pass


def gate_against(url: str, pdir: str, repo: str, *args):
    started = time.monotonic()
    r = run_cli("gate", "--policy", pdir, repo, "--opa-url", url, "--no-cache", *args, cwd=repo,
                env={"PRR_LINT_OPA_TOKEN": SECRET})
    return r, time.monotonic() - started


# the process itself (Python start-up, loading the rules) takes a few seconds on a busy machine
MARGIN = 12.0


@pytest.mark.parametrize("behave, reason", [
    (never_answers, "no complete answer before the run's deadline (3s, --opa-timeout)"),
    (answers_slowly, "no complete answer before the run's deadline (3s, --opa-timeout)"),
    (drips, "no complete answer before the run's deadline (3s, --opa-timeout)"),
    (not_json, "answered with a body that is not JSON"),
    (floods, "answered with more than 16 MiB"),
])
@pytest.mark.slow
def test_a_hostile_server_is_exit_2_within_the_deadline(tmp_path, repo, behave, reason):
    pdir = policy_dir(tmp_path, {"main.rego": SIMPLE})
    with HostileServer(behave) as server:
        r, elapsed = gate_against(server.url, pdir, repo, "--opa-timeout", "3")
    assert r.returncode == 2 and "COULD NOT DECIDE" in r.stdout, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("prr-lint gate: error:")]
    assert len(errors) == 1 and reason in errors[0], r.stderr
    assert "Traceback" not in r.stderr
    assert elapsed < 3 + MARGIN, elapsed


@pytest.mark.slow
def test_a_dripping_server_is_stopped_by_the_per_request_timeout(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"main.rego": SIMPLE})
    with HostileServer(drips) as server:
        r, elapsed = gate_against(server.url, pdir, repo, "--policy-timeout", "2")
    assert r.returncode == 2 and "COULD NOT DECIDE" in r.stdout, r.stdout + r.stderr
    assert "no answer within 2s" in r.stderr
    assert elapsed < 2 + MARGIN, elapsed


@pytest.mark.slow
def test_a_redirect_is_never_followed(tmp_path, repo):
    pdir = policy_dir(tmp_path, {"main.rego": SIMPLE})
    with OpaStandin() as elsewhere:
        def redirects(conn, wait):
            request = _read_request(conn)
            path = request.split(b" ")[1]
            conn.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s%s\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n" % (elsewhere.url.encode(), path))

        with HostileServer(redirects) as server:
            r, elapsed = gate_against(server.url, pdir, repo, "--opa-timeout", "3")
        assert elsewhere.state.requests == []  # neither a document nor the token went anywhere else
    assert r.returncode == 2 and "COULD NOT DECIDE" in r.stdout, r.stdout + r.stderr
    assert "answered with a redirect (HTTP 307), which is never followed" in r.stderr
    assert SECRET not in r.stdout + r.stderr
    assert elapsed < 3 + MARGIN


@pytest.mark.slow
def test_the_run_deadline_covers_all_requests_together(tmp_path, repo):
    # each answer comes in time (0.7s < 5s per request), but not all of them within the run's deadline
    write(repo, {f"services/api/k8s/more-{i}.yaml": DEPLOYMENT.replace("name: api", f"name: api-{i}")
                 for i in range(8)})
    pdir = policy_dir(tmp_path, {"main.rego": SIMPLE})
    with OpaStandin() as opa:
        opa.state.delay = 0.7
        r, elapsed = gate_against(opa.url, pdir, repo, "--policy-timeout", "5", "--opa-timeout", "3")
        posts = sum(1 for m, _ in opa.state.requests if m == "POST")
    assert r.returncode == 2 and "COULD NOT DECIDE" in r.stdout, r.stdout + r.stderr
    assert "before the run's deadline (3s, --opa-timeout)" in r.stderr
    assert 1 <= posts <= 5, posts
    assert elapsed < 3 + MARGIN, elapsed


SLOW_POLICY = """\
package main

import rego.v1

deny contains msg if {
	n := count([x | some x in numbers.range(1, 100000000); x % 7 == 0])
	msg := sprintf("%d", [n])
}
"""


@pytest.mark.slow
def test_a_slow_embedded_policy_has_one_budget_per_run(tmp_path, repo):
    # without a run budget, each of the 10 documents costs the whole per-document timeout (20s)
    write(repo, {f"services/api/k8s/more-{i}.yaml": DEPLOYMENT.replace("name: api", f"name: api-{i}")
                 for i in range(8)})
    pdir = policy_dir(tmp_path, {"slow.rego": SLOW_POLICY})
    started = time.monotonic()
    r = run_cli("gate", "--policy", pdir, repo, "--no-cache", "--policy-timeout", "2", "--policy-budget", "3",
                cwd=repo)
    elapsed = time.monotonic() - started
    assert r.returncode == 2 and "COULD NOT DECIDE" in r.stdout, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("prr-lint gate: error:")]
    budget = [e for e in errors if "budget of 3s (--policy-budget) is spent" in e]
    assert len(budget) == 1 and "not evaluated" in budget[0], errors
    assert elapsed < 3 + MARGIN, elapsed
    check = run_cli("check", "--policy", pdir, repo, "--no-cache", "--policy-timeout", "2", "--policy-budget", "3",
                    cwd=repo)
    assert check.returncode == 2 and "--policy-budget" in check.stderr
