"""Debian's chromium driven by Playwright for Python: shared by the browser tests and scripts/report-screenshot.

Playwright never downloads a browser here (`playwright install` is not used): it launches the system chromium.
"""

import os
from contextlib import contextmanager

# another path only to test what happens without a browser (tests/test_report_browser.py)
CHROMIUM = os.environ.get("PRR_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (scripts/test installs the Debian package chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()
