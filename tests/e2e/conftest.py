"""End-to-end tests: Debian's headless Chromium driven by Playwright against a live server.

Playwright never downloads a browser here: it drives /usr/bin/chromium (installed by
`.ci/run` from Debian's packages). Screenshots of each page go to the git-ignored
``screenshots/`` folder, where the user guide picks them up.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KAM_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

# Playwright's sync API runs an event loop in this thread; Django's ORM is then only
# safe because the live server and the test share no async context.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's chromium "
            "(apt-get install chromium) or set KAM_CHROMIUM"
        )
        # A developer's machine may lack Chromium; CI (KAM_REQUIRE_E2E=1) never skips.
        if os.environ.get("KAM_REQUIRE_E2E") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shoot(page):
    """``shoot("name")`` saves a full-page screenshot as screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def _shoot(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shoot
