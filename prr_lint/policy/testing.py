"""`prr-lint policy test DIR`: run the policies' own unit tests (`test_*` rules in *_test.rego), embedded.

Each test rule is queried on its own (`data.<package>.test_name`): true passes; false or undefined fails; an
error or a timeout is an error. Exit 0 when all pass, 1 when a test fails, 2 on errors.
"""

from __future__ import annotations

import os
import re
import sys
import time

from ..escape import line_start, one_line
from .errors import PolicyError, PolicyTimeout
from .loader import read, shown
from .runtime import PolicyRuntime, PolicySettings


def rego_files(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isfile(p):
            out.append(p)
            continue
        if not os.path.isdir(p):
            raise PolicyError(f"{p}: policy path not found")
        for dirpath, dirnames, filenames in os.walk(p):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("bad", "good"))
            out.extend(os.path.join(dirpath, n) for n in sorted(filenames) if n.endswith(".rego"))
    return out


def run_tests(paths: list[str], timeout: float = 10.0, pattern: str | None = None, verbose: bool = False,
              out=sys.stdout) -> int:
    # each test has its own timeout; the suite is the user's own, so no budget for the whole run
    runtime = PolicyRuntime(PolicySettings(timeout=timeout, all_namespaces=True, budget=None))
    files = [read(p) for p in rego_files(paths)]
    if not files:
        raise PolicyError(f"{' '.join(paths)}: no .rego files")
    runtime.loader.add_files(files)
    runtime.static_check()
    selector = re.compile(pattern) if pattern else None
    tests = [(f, name) for f in files if f.is_test for name in f.test_rules
             if selector is None or selector.search(f"data.{f.package}.{name}")]
    if selector is not None and not tests:
        # a --run that matches nothing ran nothing: never report that as a pass
        raise PolicyError(f"--run {one_line(pattern)}: matches no test_ rule in "
                          f"{', '.join(one_line(shown(p)) for p in paths)}")
    evaluator = runtime.evaluator()
    evaluator.prepare()
    passed = failed = errors = 0
    current = None
    try:
        for f, name in tests:
            query = f"data.{f.package}.{name}"
            started = time.perf_counter()
            try:
                value = evaluator.evaluate([query], "{}", compiled=False)[0]
                status = "PASS" if value is True else "FAIL"
                detail = ""
            except PolicyTimeout as e:
                status, detail = "ERROR", f": {e}"
            except PolicyError as e:
                status, detail = "ERROR", f": {e}"
            ms = (time.perf_counter() - started) * 1000
            if status == "PASS":
                passed += 1
            elif status == "FAIL":
                failed += 1
            else:
                errors += 1
            if verbose or status != "PASS":
                if current != f.path:
                    out.write(f"{line_start(f.path)}:\n")
                    current = f.path
                out.write(f"{line_start(query)}: {status} ({ms:.1f}ms){one_line(detail)}\n")
    finally:
        evaluator.close()
    total = passed + failed + errors
    if verbose or failed or errors:
        out.write("-" * 80 + "\n")
    parts = [f"PASS: {passed}/{total}"]
    if failed:
        parts.append(f"FAIL: {failed}/{total}")
    if errors:
        parts.append(f"ERROR: {errors}/{total}")
    out.write("\n".join(parts) + "\n")
    if not tests:
        out.write(f"no test_ rules in {one_line(', '.join(shown(p) for p in paths))}\n")
    return 2 if errors else 1 if failed else 0
