"""Debian's Chromium, driven by Playwright, once per test module.

Not once per session: Playwright's sync API keeps its event loop running
(suspended in a greenlet) while it is open, and every async test run after
it would then fail with "cannot be called from a running event loop". The
browser tests share one module, so Chromium still starts once for them.

Never `playwright install`: it downloads a browser of its own, which cannot
work here. scripts/install-system-packages installs `chromium` and a CJK
font (without one, Chinese screenshots show boxes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The screens every page is shot on: (language, device).
SCREENS = [("zh", "desktop"), ("zh", "phone"), ("en", "desktop"), ("en", "phone")]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-packages")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh contexts (own storage); all closed after the test."""
    contexts = []

    def open_page(viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def on_every_screen(new_page):
    """For each of SCREENS, `(language, device, page, errors)`: a new page at
    the device's width and the console errors it logs (a CSP refusal, a
    failed request), for a test to assert empty."""
    for language, device in SCREENS:
        page = new_page(PHONE if device == "phone" else None)
        errors: list[str] = []
        page.on(
            "console",
            lambda m, errors=errors: m.type == "error" and errors.append(m.text),
        )
        yield language, device, page, errors
