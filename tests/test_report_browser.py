"""The HTML report of the sample monorepo in a real headless browser: it renders without a console error or a
request, shows a card per service with its level and the dependency graph; a page of hostile names runs nothing.
A screenshot is kept under build/test-artifacts/ (not committed).

Under CI=true a missing chromium or playwright fails these tests; elsewhere they are skipped with the reason.
"""

import os
import subprocess
import sys

import pytest

import browser
from conftest import ROOT, run_cli, write

pytestmark = pytest.mark.slow  # a real browser, and the CLI run for each page

SAMPLE = os.path.join(ROOT, "examples", "monorepo")
ARTIFACTS = os.path.join(ROOT, "build", "test-artifacts")


@pytest.fixture(scope="module")
def chromium():
    reason = browser.missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    with browser.browser() as b:
        yield b


def _open(chromium, path):
    """A page at file://path, with every console message, page error, dialog and request it made."""
    events = {"console": [], "errors": [], "dialogs": [], "requests": []}
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page.on("console", lambda m: events["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(f"file://{path}")
    page.wait_for_load_state("load")
    return page, events


def _report(tmp_path, target, cwd):
    out = tmp_path / "report.html"
    proc = run_cli("report", "--no-cache", "-o", str(out), target, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return out


def test_sample_report_renders_in_chromium(chromium, tmp_path):
    page, events = _open(chromium, _report(tmp_path, SAMPLE, ROOT))
    assert [m for m in events["console"] if m[0] in ("error", "warning")] == []
    assert events["errors"] == [] and events["dialogs"] == []
    assert events["requests"] == [f"file://{tmp_path / 'report.html'}"]      # the page itself, nothing else
    cards = page.locator("section.card")
    assert cards.count() == 5
    seen = [(cards.nth(i).locator("h3").inner_text(), cards.nth(i).locator(".badge").inner_text())
            for i in range(5)]
    # CSS upper-cases badges
    assert seen == [("cart", "SILVER"), ("checkout", "GOLD"), ("inventory", "NONE"), ("search", "NONE"),
                    ("stock-sync", "BRONZE")]
    inventory = page.locator('section.card[data-service="inventory"]')
    assert inventory.locator(".not-ready").inner_text() == "needs gold"
    areas = inventory.locator(".area h4").all_inner_texts()
    assert areas == ["Files and manifests", "Service", "Kubernetes", "Helm", "Terraform", "Prometheus"]
    # checkout's one failing check is an info finding: it holds no level back
    checkout = page.locator('section.card[data-service="checkout"]')
    assert "GOLD ready · score 97 · 52/53 checks pass" in checkout.inner_text()
    assert checkout.locator(".area h4").all_inner_texts() == ["Service"]
    graph = page.locator("svg.depgraph")
    box = graph.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert graph.locator("g.node").count() == 6 and graph.locator("g.undeclared").count() == 1
    assert graph.locator("path.edge.critical").count() == 3
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "report.png")
    page.screenshot(path=shot, full_page=True)
    assert os.path.getsize(shot) > 10_000


def test_hostile_names_run_nothing_in_chromium(chromium, tmp_path):
    repo = tmp_path / "repo"
    write(repo, {
        "a/service.yaml": "apiVersion: prr-lint/v1\nkind: Service\n"
                          'metadata: {name: "<script>alert(1)</script>", owner: "<img src=x onerror=alert(2)>", '
                          "tier: 2}\n"
                          'spec: {dependencies: [{name: "</svg><script>alert(3)</script>", critical: true}]}\n',
    })
    page, events = _open(chromium, _report(tmp_path, str(repo), str(repo)))
    assert events["dialogs"] == [] and events["errors"] == []
    assert len(events["requests"]) == 1                                  # no image fetched from `src=x`
    assert page.evaluate("document.querySelectorAll('script, img').length") == 0
    assert page.locator("section.card h3").inner_text() == "<script>alert(1)</script>"
    assert page.locator("section.card .meta").inner_text() == "tier 2 · <img src=x onerror=alert(2)>"
    names = page.locator("svg.depgraph g.node text.name").all_text_contents()
    assert names == ["</svg><script>alert(3…", "<script>alert(1)</scr…"]


@pytest.mark.parametrize("ci,code,outcome", [("true", 1, "browser test cannot run under CI"), ("", 0, "SKIPPED [1]")])
def test_a_missing_browser_fails_under_ci_and_is_skipped_elsewhere(ci, code, outcome):
    env = {**os.environ, "CI": ci, "PRR_TEST_CHROMIUM": "/nonexistent/chromium"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                           "tests/test_report_browser.py::test_sample_report_renders_in_chromium"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == code, proc.stdout
    assert outcome in proc.stdout and "/nonexistent/chromium is not installed" in proc.stdout
