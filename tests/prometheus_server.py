"""A real Prometheus for the error-budget tests: counters backfilled with promtool, a server on 127.0.0.1.

The data are written as OpenMetrics, one sample a minute for 31 days up to END, so every error ratio is
known by hand: total requests grow by 1000 a minute, errors by a per-service amount. `scripts/test` installs
Debian's `prometheus` package (which ships promtool); without it the tests skip, but under CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

END = 1795435200                  # 2026-11-23T12:00:00Z, the last sample
AT = END + 30                     # evaluation time: half a minute after the last sample, on no sample boundary
AT_ISO = "2026-11-23T12:00:30Z"
DAYS = 31
TOTAL_PER_MINUTE = 1000.0


def binaries() -> tuple[str, str]:
    found = shutil.which("prometheus"), shutil.which("promtool")
    if not all(found):
        message = "prometheus/promtool not installed (scripts/test installs Debian's prometheus package)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found[0] or "", found[1] or ""


def service_series(name: str, errors_per_minute, days: int = DAYS, reset_at_minute: int | None = None) -> list:
    """(metric, service, [(timestamp, value)]) for the requests and errors counters of one service.
    `errors_per_minute(k)` is the errors added in the minute that ends k minutes before END."""
    total, errors = [], []
    t_sum = e_sum = 0.0
    t_base = e_base = 0.0
    minutes = days * 1440
    for i, k in enumerate(range(minutes, -1, -1)):
        if reset_at_minute is not None and i == reset_at_minute:   # a restart: both counters start from 0
            t_base, e_base = t_sum, e_sum
        total.append((END - 60 * k, t_sum - t_base))
        errors.append((END - 60 * k, e_sum - e_base))
        t_sum += TOTAL_PER_MINUTE
        e_sum += errors_per_minute(k - 1)
    return [("slo_requests_total", name, total), ("slo_errors_total", name, errors)]


def openmetrics(series: list) -> str:
    lines = []
    for family in ("slo_requests", "slo_errors"):
        lines.append(f"# TYPE {family} counter")
        for metric, service, samples in series:
            if metric == family + "_total":
                lines.extend(f'{metric}{{service="{service}"}} {v:.6f} {t}' for t, v in samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrometheusServer:
    """Backfill `text` (OpenMetrics) into a fresh TSDB under `directory`, serve it on 127.0.0.1."""

    def __init__(self, directory, text: str):
        prometheus, promtool = binaries()
        self.directory = str(directory)
        data = os.path.join(self.directory, "tsdb")
        source = os.path.join(self.directory, "data.om")
        with open(source, "w", encoding="utf-8") as fh:
            fh.write(text)
        # one block for the whole month: without the flag the backfill takes minutes
        subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h",
                        source, data], check=True, capture_output=True, timeout=120)
        config = os.path.join(self.directory, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as fh:
            fh.write("global: {}\n")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.directory, "prometheus.log"), "wb")  # noqa: SIM115 -- closed in stop()
        # a long retention: the 15-day default deletes backfilled blocks older than that
        self.proc = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={data}",
             "--storage.tsdb.retention.time=36500d", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"], stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        ends = time.monotonic() + 30
        while time.monotonic() < ends:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        with open(os.path.join(self.directory, "prometheus.log"), encoding="utf-8", errors="replace") as fh:
            pytest.fail(f"prometheus did not become ready: {fh.read()[-2000:]}", pytrace=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
