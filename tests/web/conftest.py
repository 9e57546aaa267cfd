"""A real Chromium (Debian's, through its ChromeDriver) against a real server on the quick
registry, with every host but the server's unreachable; the page's console is checked after
each test, and each view's screenshot is saved to build/screenshots/."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.helpers import REPO, ServerProcess

SCREENSHOTS = REPO / "build" / "screenshots"
WAIT_SECONDS = 30
INSTALL = "apt-get install chromium chromium-driver (make test does it when run as root)"


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """The paths of Chromium and its ChromeDriver; the browser tests skip, saying so, without."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip(f"no Chromium or ChromeDriver on PATH: {INSTALL}")
    return browser, driver


@pytest.fixture(scope="session")
def server(chromium: tuple[str, str], compared_registry: Path) -> Iterator[ServerProcess]:
    """`python -m app` on the quick models with their comparisons, as `make serve` starts."""
    process = ServerProcess(compared_registry, reload_interval_seconds="0")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


class Browser:
    """A Chromium session with what the tests check: its console and the URLs it requested."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def console(self) -> list[dict[str, Any]]:
        return list(self.driver.get_log("browser"))

    def requested_urls(self) -> list[str]:
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        width = self.driver.get_window_size()["width"]
        self.driver.set_window_size(width, min(max(height, 800), 4000))
        self.driver.save_screenshot(str(path))
        return path


def hook(browser: Browser, name: str) -> Any:
    """The element of the page with this data-testid."""
    return browser.driver.find_element(By.CSS_SELECTOR, f'[data-testid="{name}"]')


def wait_for(browser: Browser, condition: Any, message: str) -> Any:
    return WebDriverWait(browser.driver, WAIT_SECONDS).until(lambda _: condition(), message)


def open_view(browser: Browser, view: str) -> None:
    browser.open(f"/#{view}" if view else "/")
    wait_for(
        browser,
        lambda: browser.driver.execute_script("return document.body.dataset.ready"),
        "page not ready",
    )


def shown(browser: Browser, hook: str) -> str:
    """The text of a hook, "" when it is not on the page (read in one step: it is replaced
    on every prediction)."""
    script = "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''"
    return str(browser.driver.execute_script(script, f'[data-testid="{hook}"]'))


@pytest.fixture
def browser(chromium: tuple[str, str], server: ServerProcess) -> Iterator[Browser]:
    """A fresh headless Chromium for one test. Afterwards: no console error or warning (a CSP
    violation is one), and every request went to the server (or stayed in the page)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        # Nothing but the server can be reached: every other host name resolves to nothing,
        # and a proxy that does not exist takes whatever is not the loopback address.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    session = Browser(driver, server.base_url)
    try:
        yield session
        problems = [e for e in session.console() if e["level"] in ("SEVERE", "WARNING")]
        assert not problems, problems
        outside = [
            url
            for url in session.requested_urls()
            if not url.startswith((server.base_url + "/", "blob:", "data:"))
        ]
        assert not outside, outside
    finally:
        driver.quit()
