"""First load of the customer chat page and the admin pages in headless
Chromium.

    PYTHONPATH=. .venv/bin/python -m benchmarks.ui_first_load [--rounds 7]

Each round opens `/`, then `/admin/`, each in a fresh browser context
(empty cache), and reports for each:

- bytes transferred, compressed, for every response of the load (the page,
  its modules and style sheet, the icon and /api/v1/ui/config), as Chromium
  counts them on the wire, headers included;
- time from navigation start to the page being interactive: the chat sets
  a `chat-interactive` performance mark once the composer is wired up and
  the saved conversation, if any, is being followed; the admin pages set
  `admin-interactive` once the sign-in form (a fresh context holds no
  sign-in) is shown.

The goals (issue 5): `/` at most 150 KB and 1 s, `/admin/` at most 300 KB.
Loopback hides network latency, so the time says what the browser and the
appliance cost, not what a slow phone network adds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.appliance_process import ApplianceProcess, appliance_env
from tests.support.browser import launch_chromium

INTERACTIVE_AT = """mark => new Promise(resolve => {
  const find = () => performance.getEntriesByName(mark)[0];
  const poll = () => find() ? resolve(find().startTime) : setTimeout(poll, 5);
  poll();
})"""


PAGES = {"/": ("chat-interactive", 150), "/admin/": ("admin-interactive", 300)}


def measure_round(browser, url: str, mark: str) -> tuple[int, float]:
    context = browser.new_context()
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    transferred = []
    session.on(
        "Network.loadingFinished",
        lambda event: transferred.append(event["encodedDataLength"]),
    )
    page.goto(url, wait_until="networkidle")
    interactive_ms = page.evaluate(INTERACTIVE_AT, mark)
    context.close()
    return sum(transferred), interactive_ms


def main() -> None:
    parser = argparse.ArgumentParser(description="first load of / and /admin/")
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds

    with tempfile.TemporaryDirectory(prefix="bench-ui-") as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir()
        appliance = ApplianceProcess(appliance_env(data_dir), Path(scratch))
        appliance.start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                results = {path: [] for path in PAGES}
                for _ in range(rounds):
                    for path, (mark, _) in PAGES.items():
                        url = appliance.base_url + path
                        results[path].append(measure_round(browser, url, mark))
                browser.close()
        finally:
            appliance.stop()

    print(f"rounds: {rounds}")
    for path, (_, goal_kb) in PAGES.items():
        report(path, results[path], goal_kb)


def report(path: str, results: list[tuple[int, float]], goal_kb: int) -> None:
    sizes = [size for size, _ in results]
    times = sorted(ms for _, ms in results)
    print(
        f"{path}: transferred {max(sizes) / 1024:.1f} KB at most "
        f"(goal <= {goal_kb} KB); interactive median "
        f"{statistics.median(times):.0f} ms, slowest {times[-1]:.0f} ms "
        "(goal <= 1000 ms)"
    )


if __name__ == "__main__":
    main()
