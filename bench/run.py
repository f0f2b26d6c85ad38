"""Benchmark prr-lint end to end on generated monorepos: files/s, wall time, peak memory, and the time of a
pre-commit style run on one changed file with a warm parse cache.

    python bench/run.py            # N = 100 and 1000
    python bench/run.py 200        # one size

Figures are machine-dependent; run on an otherwise idle machine and compare runs on the same machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from generate import generate  # noqa: E402

PRR = os.path.join(os.path.dirname(sys.executable), "prr-lint")
# measure what users get: Python caches bytecode unless told not to (some CI images set this)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(args: list, cwd: str) -> tuple[float, int, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([PRR, *args], cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"prr-lint failed ({proc.returncode}): {proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, proc.returncode, max(peak, before)


def best_of(n: int, args: list, cwd: str, before=None) -> tuple[float, int]:
    times, peak = [], 0
    for _ in range(n):
        if before:
            before()
        t, _, p = timed(args, cwd)
        times.append(t)
        peak = max(peak, p)
    return min(times), peak


def bench(n: int) -> None:
    tmp = tempfile.mkdtemp(prefix=f"prr-bench-{n}-")
    try:
        files = generate(n, tmp)
        subprocess.run(["git", "init", "-q"], cwd=tmp, check=True)
        subprocess.run(["git", "add", "-A"], cwd=tmp, check=True)
        subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "x"],
                       cwd=tmp, check=True)
        read = sum(1 for dirpath, _dirs, names in os.walk(tmp) for name in names
                   if name.endswith((".yaml", ".tf")) and "templates" not in dirpath and name != ".prr-lint.yaml")
        out = ["--format", "json", "-o", os.devnull]
        # the parse cache (and its key) in a cache directory of the benchmark's own, outside the tree
        cache = tempfile.mkdtemp(prefix="prr-bench-cache-")
        ENV["XDG_CACHE_HOME"] = cache
        ENV.pop("PRR_LINT_CACHE_DIR", None)
        cold, peak = best_of(3, ["check", "--no-cache", *out, "."], tmp)
        warm_cache, _ = best_of(1, ["check", *out, "."], tmp, before=lambda: shutil.rmtree(cache, ignore_errors=True))
        warm, _ = best_of(3, ["check", *out, "."], tmp)
        target = os.path.join("services", f"svc-{n // 2}", "k8s", "deployment.yaml")

        def touch():
            with open(os.path.join(tmp, target), "a") as fh:
                fh.write("# edit\n")

        one, _ = best_of(5, ["check", *out, target], tmp, before=touch)
        version = subprocess.run([PRR, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"\n{version}, N = {n} services, {files} files generated, {read} files read by prr-lint")
        print(f"  full run, no cache     {cold:7.2f} s   {read / cold:8.0f} files/s   peak RSS {peak / 1024:.0f} MiB")
        print(f"  full run, filling cache{warm_cache:7.2f} s   {read / warm_cache:8.0f} files/s")
        print(f"  full run, warm cache   {warm:7.2f} s   {read / warm:8.0f} files/s")
        print(f"  one changed file       {one:7.3f} s   (pre-commit style: `prr-lint check {target}`, warm cache)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(ENV.get("XDG_CACHE_HOME", tmp), ignore_errors=True)


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000]
    print(f"cpus: {os.cpu_count()}")
    for size in sizes:
        bench(size)
