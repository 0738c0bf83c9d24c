"""The public status page in a real browser: the app served on a loopback socket, headless
Chromium from Debian's `chromium` and `chromium-driver` driven by Selenium, screenshots and
axe-core results kept as artefacts.

A browser test asks for `status_site` (the base URL), `browser` (the driver, one per module)
and `record` (screenshots and accessibility checks of the test's steps):

    def test_something(status_site, browser, record):
        browser.get(f"{status_site}/status/{page.subdomain}")
        record.screenshot("opened")
        assert record.accessibility("opened") == []

A missing browser or driver fails the test: `scripts/install-servers.sh` installs both.
"""
from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from pinghome.localservers import free_port
from tests.processes import ROOT
from tests.served import Served
from workers import netpolicy
from workers.broker import ping

WINDOW = (1280, 1024)
SERIOUS = ("serious", "critical")
# Recorded rather than shown: a test reads `window.__dialogs` to know whether any script on
# the page opened one, and a real dialog would block the driver's next command instead.
DIALOG_TRAP = """
window.__dialogs = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__dialogs.push(name + ": " + message); };
}
"""


@pytest.fixture(scope="session")
def status_site(settings, broker):
    """The app served over HTTP on a free loopback port (its base URL), built as the `app`
    fixture builds it, without the render cache so the browser sees what a test just wrote."""
    from api.app import create_app
    app = create_app(settings.replace(status_page_cache_seconds=0),
                     broker_check=functools.partial(ping, broker))
    port = free_port()
    served = Served(app, port, threads=4)
    yield f"http://127.0.0.1:{port}"
    served.close()


def _installed(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: the browser tests need Debian's `{package}` "
                    "package (scripts/install-servers.sh installs it)", pytrace=False)
    return found


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium with a fixed window, one per test module (tests take `browser`).
    Selenium is pointed at Debian's binaries, so Selenium Manager downloads nothing.

    The driver talks to chromedriver on loopback over urllib3, which `workers.netpolicy` holds
    to the strict policy in every thread that has not set one: this module's tests run under
    the permissive one (as the test settings do, `allow_private_targets`)."""
    options = webdriver.ChromeOptions()
    options.binary_location = _installed("chromium", "chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}", "--lang=en-GB"):
        options.add_argument(argument)
    service = Service(_installed("chromedriver", "chromium-driver"))
    with netpolicy.policy(allow_private=True):
        driver = webdriver.Chrome(service=service, options=options)
        try:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                   {"source": DIALOG_TRAP})
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def browser(chromium):
    """The module's browser; cookies a test earned (a private page's admission) do not carry
    to the next test."""
    yield chromium
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})


@pytest.fixture(scope="session")
def artefact_dir(backend) -> Path:
    """Where screenshots and axe results go: $PINGHOME_TEST_ARTEFACTS (default
    `test-artefacts/` at the repository root), one folder per backend so the two runs of the
    suite keep theirs."""
    directory = Path(os.environ.get("PINGHOME_TEST_ARTEFACTS") or ROOT / "test-artefacts")
    directory = directory / f"browser-{backend}"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class Record:
    """What one browser test saw, in a folder named after the test (emptied first, so it
    holds this run's only): `NN-step.png` and `NN-step.axe.json`, NN counting in order."""

    def __init__(self, driver, directory: Path):
        self.driver = driver
        self.directory = directory
        self.steps = 0
        shutil.rmtree(directory, ignore_errors=True)

    def _path(self, step: str, suffix: str) -> Path:
        self.steps += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        return self.directory / f"{self.steps:02d}-{_safe(step)}{suffix}"

    def screenshot(self, step: str) -> Path:
        """The whole page, below the fold too (WebDriver's own screenshot is the window's)."""
        path = self._path(step, ".png")
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def accessibility(self, step: str) -> list[dict]:
        """Runs axe-core on the page shown, keeps its full results and answers the serious
        and critical violations, each as {id, impact, help, targets}."""
        axe = Axe(self.driver)
        axe.inject()
        results = axe.run()
        path = self._path(step, ".axe.json")
        path.write_text(json.dumps(results, indent=1))
        return [{"id": violation["id"], "impact": violation["impact"],
                 "help": violation["help"],
                 "targets": [node["target"] for node in violation["nodes"]]}
                for violation in results["violations"] if violation["impact"] in SERIOUS]

    def dialogs(self) -> list[str]:
        """The alerts, confirms and prompts scripts on the shown page opened."""
        return self.driver.execute_script("return window.__dialogs")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


_outcomes = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, for `record` to know whether the test failed."""
    report = yield
    item.stash.setdefault(_outcomes, {})[report.when] = report
    return report


@pytest.fixture
def record(browser, artefact_dir, request) -> Record:
    """The test's record; after a failure, also what the browser showed then (`failed.png`
    and `failed.html`)."""
    record = Record(browser, artefact_dir / _safe(request.node.name))
    yield record
    outcome = request.node.stash.get(_outcomes, {}).get("call")
    if outcome is not None and outcome.failed:
        record.screenshot("failed")
        (record.directory / "failed.html").write_text(browser.page_source)
