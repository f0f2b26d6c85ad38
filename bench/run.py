"""Benchmark prr-lint end to end against the parse floor, on generated monorepos in a git work tree and on a
directory you name.

    python bench/run.py                    # N = 100 and 1,000 generated services
    python bench/run.py 100 1000 4000      # the sizes given
    python bench/run.py --dir ~/src/infra  # a real repository (as well as any sizes given)
    python bench/run.py --repeat 3 1000    # the median of three first runs (a shared machine's noise is large)

For each repository it reports, measured in the same run:
  floor     the fastest positioned parse of the files prr-lint reads: libyaml compose (YAML, JSON) and
            tree-sitter (Terraform), no conversion, in-process (no interpreter start-up)
  first     `prr-lint check` with no cache anywhere (an empty user cache directory): what every CI job pays
  warm      the same run again, the cache filled (best of 2): nothing changed, so the result is replayed
  rerun     the same with result replay off (PRR_LINT_NO_REPLAY=1): what a run pays when some input changed and
            the parse, render, schema-verdict and PromQL caches are warm (best of 2)
  one file  `prr-lint check <file>` after an edit of one Kubernetes manifest, warm cache (best of 3)
as seconds and as a ratio to the floor, with the peak RSS of the first run and its cost per file read. Peak RSS is
given twice: prr-lint's own process (rusage), and the largest sum over it and its parse workers (sampled every 20 ms,
so a spike shorter than that can be missed).
Runs include the interpreter's start-up and imports (about half a second); the floor does not.
prr-lint runs with bytecode writing allowed (PYTHONDONTWRITEBYTECODE is removed from their environment) and after
one warm-up run that compiles its modules and rule packs, as an installed wheel ships them compiled: otherwise
every run would recompile the rule modules (0.1-0.5 s). A first run of 1,000 files or more parses in worker
processes, one per CPU (PRR_LINT_PARSE_WORKERS=0 in the environment measures the in-process parse).
Figures are machine-dependent: compare runs on the same, otherwise idle, machine.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from generate import generate  # noqa: E402

PRR = os.path.join(os.path.dirname(sys.executable), "prr-lint")
# measure what users get: Python caches bytecode unless told not to (some CI images set this)
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PRR_LINT_CACHE_DIR")}
OUT = ["--format", "json", "-o", os.devnull]


def floor(root: str) -> tuple[int, float]:
    """(files, seconds) of the parse floor over the files prr-lint reads in `root`. Runs in a child."""
    import tree_sitter_hcl
    import yaml
    from tree_sitter import Language, Parser

    from prr_lint.repo import Repository

    files = sorted(Repository(root).candidates)
    loader = yaml.CSafeLoader
    parser = Parser(Language(tree_sitter_hcl.language()))
    best = None
    for _ in range(3):
        start = time.perf_counter()
        for rel in files:
            with open(os.path.join(root, rel), "rb") as fh:
                raw = fh.read()
            if rel.endswith(".tf"):
                parser.parse(raw)
            else:
                try:
                    for _node in yaml.compose_all(raw, Loader=loader):
                        pass
                except yaml.YAMLError:
                    pass
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return len(files), best


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _tree_rss_kib(pid: int) -> int:
    """RSS of `pid` and every process below it (the parse pool's workers), in KiB, from /proc."""
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(parents.get(p, []))
        try:
            with open(f"/proc/{p}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            pass
    return total


def timed(args: list, cwd: str, env: dict, tree: list | None = None) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one prr-lint run: the child's own rusage, not the largest child's. With
    `tree`, the peak of the whole process tree's RSS (sampled every 20 ms) is appended to it."""
    import threading

    start = time.perf_counter()
    proc = subprocess.Popen([PRR, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()
    peak = [0]

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True) if tree is not None else None
    if sampler is not None:
        sampler.start()
    err = proc.stderr.read()
    done.set()
    if sampler is not None:
        sampler.join()
        tree.append(peak[0])
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"prr-lint {' '.join(args)} failed ({proc.returncode}): {err.decode(errors='replace')}")
    return elapsed, usage.ru_maxrss


def best_of(n: int, args: list, cwd: str, env: dict, before=None) -> float:
    times = []
    for _ in range(n):
        if before:
            before()
        times.append(timed(args, cwd, env)[0])
    return min(times)


def warm_up() -> None:
    """One small run, so that imports and rule modules are compiled to bytecode before anything is timed."""
    tmp = tempfile.mkdtemp(prefix="prr-bench-warm-")
    try:
        generate(1, tmp)
        timed(["check", "--no-cache", *OUT, "."], tmp, ENV)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(name: str, root: str, one: str | None, repeat: int = 1) -> dict:
    """`repeat` first runs (--repeat N): the median is reported, and the largest peak."""
    out = subprocess.run([sys.executable, __file__, "--floor", root], capture_output=True, text=True, env=ENV)
    if out.returncode:
        raise SystemExit(f"floor failed: {out.stderr}")
    files, floor_s = json.loads(out.stdout)
    cache = tempfile.mkdtemp(prefix="prr-bench-cache-")
    env = {**ENV, "XDG_CACHE_HOME": cache}      # the parse cache outside the tree, empty: no cache anywhere
    try:
        firsts, peaks, tree = [], [], []
        for n in range(repeat):     # the last one's cache serves the runs below
            if n:
                shutil.rmtree(cache, ignore_errors=True)
                os.mkdir(cache)
            first, peak = timed(["check", *OUT, "."], root, env, tree)
            firsts.append(first)
            peaks.append(peak)
        first, peak = statistics.median(firsts), max(peaks)
        warm = best_of(2, ["check", *OUT, "."], root, env)
        rerun = best_of(2, ["check", *OUT, "."], root, {**env, "PRR_LINT_NO_REPLAY": "1"})
        one_s = None
        if one:
            def touch():
                with open(os.path.join(root, one), "a") as fh:
                    fh.write("# edit\n")
            one_s = best_of(3, ["check", *OUT, one], root, env, before=touch)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"name": name, "files": files, "floor": floor_s, "first": first, "warm": warm, "rerun": rerun, "one": one_s,
            "peak_mib": peak / 1024, "tree_mib": max(tree) / 1024}


def row(r: dict) -> str:
    f = r["floor"] or 1e-9
    one = f"{r['one']:.2f}" if r["one"] is not None else "—"
    return (f"| {r['name']} | {r['files']} | {r['floor']:.2f} | {r['first']:.2f} ({r['first'] / f:.1f}x) | "
            f"{r['warm']:.2f} ({r['warm'] / f:.1f}x) | {r['rerun']:.2f} ({r['rerun'] / f:.1f}x) | {one} | "
            f"{r['peak_mib']:.0f} / {r['tree_mib']:.0f} | "
            f"{1000 * r['floor'] / max(r['files'], 1):.2f} / {1000 * r['first'] / max(r['files'], 1):.2f} |")


HEAD = ["| repository | files read | floor s | first run s (x floor) | warm run s (x floor) | rerun s (x floor) | "
        "one file s | "
        "peak RSS MiB (process / with workers) | ms per file (floor / first) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]


def generated(n: int, repeat: int = 1) -> dict:
    tmp = tempfile.mkdtemp(prefix=f"prr-bench-{n}-")
    try:
        generate(n, tmp)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "services"]):
            subprocess.run([*git, *args], cwd=tmp, check=True)
        time.sleep(2.1)   # files changed within 2 s of a run are hashed again next time (see prr_lint/cache.py)
        return measure(f"generated, {n} services", tmp, os.path.join("services", f"svc-{n // 2}", "k8s",
                                                                      "deployment.yaml"), repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list) -> None:
    if argv[:1] == ["--floor"]:
        print(json.dumps(floor(argv[1])))
        return
    options = ("--dir", "--repeat")
    dirs = [argv[i + 1] for i, a in enumerate(argv) if a == "--dir"]
    repeat = [int(argv[i + 1]) for i, a in enumerate(argv) if a == "--repeat"]
    times = max(1, repeat[-1]) if repeat else 1
    sizes = [int(a) for i, a in enumerate(argv) if a not in options and (i == 0 or argv[i - 1] not in options)]
    if not sizes and not dirs:
        sizes = [100, 1000]
    version = subprocess.run([PRR, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}, {os.cpu_count()} cpus, bytecode written"
          + (f", first run the median of {times}" if times > 1 else ""))
    warm_up()
    print("\n".join(HEAD), flush=True)
    for n in sizes:
        print(row(generated(n, times)), flush=True)
    for d in dirs:
        print(row(measure(os.path.basename(os.path.abspath(d)), os.path.abspath(d), None, times)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
