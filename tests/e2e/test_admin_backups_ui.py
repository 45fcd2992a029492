"""The Backups and System admin pages in a real browser against `serve`."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from appliance.backups.archive import ZSTD_MAGIC
from tests.support.admin_pages import (
    JWT_SECRET,
    account,
    appliance_settings,
    bearer,
    open_admin_page,
    sign_in,
)
from tests.support.browser import on_every_screen, save_screenshot
from tests.support.bulk_sqlite import add_bulk_table
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 120_000
MB = 1024 * 1024
# Big enough that writing the archive outlasts a few of the page's 1 s
# polls even on an idle machine (about 300 MB/s here), small enough to be
# written in a few seconds.
BIG_DATABASE_MB = 700


@pytest.fixture
def appliance(start_appliance):
    return start_appliance(JWT_SECRET_KEY=JWT_SECRET, SYSTEM_SAMPLE_INTERVAL="0.5")


def admin_headers(appliance) -> dict[str, str]:
    return bearer(appliance, "admin")


def conversation_count(appliance, headers) -> int:
    answer = httpx.get(
        f"{appliance.base_url}/api/v1/admin/conversations", headers=headers, timeout=10
    )
    answer.raise_for_status()
    return sum(state["total"] for state in answer.json()["counts"].values())


def start_conversation(appliance) -> None:
    answer = httpx.post(
        f"{appliance.base_url}/api/v1/customer/conversations",
        json={"language": "en"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


def open_backups(page, appliance, language: str = "en"):
    open_admin_page(page, appliance, "backups", language)
    expect(page.locator("#backup-status dd").first).to_be_visible()


def create_backup_on_the_page(page) -> str:
    page.get_by_role("button", name="Create a backup now").click()
    expect(page.locator("#backup-message")).to_contain_text(
        "Backup ended: ok", timeout=RUN_TIMEOUT
    )
    return page.locator("#backup-list tr[data-id]").first.get_attribute("data-id")


def test_admin_backs_up_verifies_and_restores_and_later_data_is_gone(
    appliance, new_page
):
    headers = admin_headers(appliance)
    page = new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    open_backups(page, appliance)
    expect(page.locator("#backup-list")).to_contain_text("No backups yet.")

    backup_id = create_backup_on_the_page(page)
    row = page.locator(f'#backup-list tr[data-id="{backup_id}"]')
    expect(row).to_contain_text("admin page")
    expect(row.locator(".badge")).to_have_text(["not verified"])
    row.get_by_role("button", name=re.compile("^Verify")).click()
    expect(page.locator("#backup-message")).to_contain_text(
        "Verification ended: ok", timeout=RUN_TIMEOUT
    )
    expect(row.locator(".badge.verified")).to_have_text("verified")
    expect(row.locator(".badge.kept")).to_be_visible()
    expect(page.locator("#backup-runs tr")).to_have_count(2)

    # The newest verified backup cannot be deleted: the API's reason shows.
    row.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#backup-message")).to_contain_text(
        "is the newest verified backup"
    )
    expect(row).to_be_visible()

    before = conversation_count(appliance, headers)
    start_conversation(appliance)
    assert conversation_count(appliance, headers) == before + 1

    row.get_by_role("button", name=re.compile("^Restore")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("replaces all live data")
    expect(dialog).to_contain_text("safety backup of the current data")
    expect(dialog.locator("tbody tr").first).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    row.get_by_role("button", name=re.compile("^Restore")).click()
    dialog.get_by_role("button", name="Replace the data and restore").click()
    message = page.locator("#backup-message")
    expect(message).to_contain_text("Restore ended: ok", timeout=RUN_TIMEOUT)
    expect(message).to_contain_text("safety backup")
    safety = page.locator("#backup-list tr", has_text="before a restore")
    expect(safety).to_have_count(1)
    assert conversation_count(appliance, headers) == before
    # The refused delete is the one failed request the console names.
    assert errors == [
        "Failed to load resource: the server responded with a status of 409 (Conflict)"
    ], errors


def test_a_downloaded_backup_uploaded_again_shows_in_the_list(
    appliance, new_page, tmp_path
):
    page = new_page()
    open_backups(page, appliance)
    backup_id = create_backup_on_the_page(page)
    row = page.locator(f'#backup-list tr[data-id="{backup_id}"]')

    with page.expect_download() as download:
        row.get_by_role("button", name=re.compile("^Download")).click()
    archive = tmp_path / download.value.suggested_filename
    download.value.save_as(archive)
    assert archive.name == f"backup-{backup_id}.tar.zst"
    assert archive.stat().st_size > 0

    row.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#backup-message")).to_contain_text(f"{backup_id} deleted")
    expect(row).to_have_count(0)

    page.get_by_label("Backup archive to upload").set_input_files(archive)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#backup-message")).to_contain_text(
        f"Uploaded: backup {backup_id}", timeout=RUN_TIMEOUT
    )
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text(["not verified"])
    expect(row).to_contain_text("Upload: ok")


def record_progress_changes(page) -> None:
    """Note every state of #backup-progress in `window.progressSeen`, so
    the test sees what the page showed however briefly."""
    page.evaluate(
        """() => {
          const box = document.getElementById("backup-progress");
          const bar = box.querySelector("progress");
          window.progressSeen = [];
          const note = () => window.progressSeen.push({
            hidden: box.hidden,
            text: box.querySelector(".progress-text").textContent,
            value: bar.getAttribute("value"),
          });
          new MutationObserver(note).observe(box, {
            attributes: true, childList: true, characterData: true, subtree: true,
          });
        }"""
    )


def values_seen(page, text: str) -> list[float]:
    states = page.evaluate("window.progressSeen")
    return [
        float(state["value"])
        for state in states
        if not state["hidden"] and state["text"].startswith(text) and state["value"]
    ]


def test_a_backup_of_a_big_database_shows_its_progress_rising(appliance, new_page):
    add_bulk_table(appliance_settings(appliance).sqlite_database_path, BIG_DATABASE_MB)
    page = new_page()
    open_backups(page, appliance)
    record_progress_changes(page)
    progress = page.get_by_role("status").filter(has=page.locator("progress"))

    page.get_by_role("button", name="Create a backup now").click()
    expect(progress).to_be_visible(timeout=RUN_TIMEOUT)
    expect(progress).to_have_id("backup-progress")
    expect(progress).to_contain_text("Backup: writing the archive", timeout=RUN_TIMEOUT)
    expect(page.get_by_role("button", name="Create a backup now")).to_be_disabled()
    expect(page.locator("#backup-message")).to_contain_text(
        "Backup ended: ok", timeout=RUN_TIMEOUT
    )
    expect(progress).to_be_hidden()

    archive_values = values_seen(page, "Backup: writing the archive")
    print(f"archive progress seen: {archive_values}")
    assert len(set(archive_values)) >= 2, archive_values
    assert archive_values == sorted(archive_values), archive_values
    assert 0 <= archive_values[0] < archive_values[-1] <= 1, archive_values

    # A create does not verify; the page's Verify does, with its own bar.
    row = page.locator("#backup-list tr[data-id]")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text(["not verified"])
    row.get_by_role("button", name=re.compile("^Verify")).click()
    expect(page.locator("#backup-message")).to_contain_text(
        "Verification ended: ok", timeout=RUN_TIMEOUT
    )
    expect(row.locator(".badge.verified")).to_have_text("verified")
    assert values_seen(page, "Verification: checking the archive")


def throttle_uploads(page, bytes_per_second: int) -> None:
    """Send request bodies no faster than this, as a slow link would: the
    browser's own network emulation, so our code runs unchanged."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def partial_uploads(appliance) -> list[Path]:
    return list(appliance_settings(appliance).backup_path.glob(".tmp-upload-*"))


def test_an_upload_cancelled_midway_says_so_and_leaves_no_file(
    appliance, new_page, tmp_path
):
    archive = tmp_path / "slow.tar.zst"
    archive.write_bytes(ZSTD_MAGIC + os.urandom(12 * MB))
    page = new_page()
    open_backups(page, appliance)
    throttle_uploads(page, MB)

    page.get_by_label("Backup archive to upload").set_input_files(archive)
    page.get_by_role("button", name="Upload", exact=True).click()
    progress = page.locator("#backup-progress")
    expect(progress).to_contain_text("Uploading slow.tar.zst:")
    # The server has begun writing it: the cancel must clean up after it.
    wait_until(
        lambda: sum(path.stat().st_size for path in partial_uploads(appliance)) >= MB,
        timeout=30,
        message="part of the upload on the server's disk",
    )
    expect(page.get_by_role("button", name="Upload", exact=True)).to_be_disabled()
    page.get_by_role("button", name="Cancel upload").click()

    expect(page.locator("#backup-message")).to_have_text(
        "Upload of slow.tar.zst cancelled; nothing of it was kept."
    )
    expect(progress).to_be_hidden()
    expect(page.get_by_role("button", name="Upload", exact=True)).to_be_enabled()
    wait_until(
        lambda: partial_uploads(appliance) == [],
        timeout=30,
        message="the partial upload removed",
    )
    expect(page.locator("#backup-list")).to_contain_text("No backups yet.")


def test_system_page_shows_running_workers_and_charted_samples(appliance, new_page):
    page = new_page()
    sign_in(page, appliance, account(appliance, "admin"))
    page.get_by_role("navigation", name="Admin pages").get_by_role(
        "link", name="System"
    ).click()
    for worker in ("api_00", "api_01"):
        process = page.locator(f'#system-processes tr[data-name="{worker}"]')
        expect(process).to_contain_text("running")
    expect(page.locator("#restarts")).to_contain_text("No unplanned restarts")
    expect(page.locator("#system-health")).to_contain_text("Database")
    expect(page.locator("#disk-use")).to_contain_text("used")

    # The first poll may come before the scheduler's second sample; the
    # next one (15 s) brings it.
    memory = page.locator("#chart-memory")
    expect(memory.locator("path.series, circle.dot").first).to_be_attached(
        timeout=30_000
    )
    expect(memory.get_by_role("img")).to_have_accessible_name(
        re.compile(r"latest \d+(\.\d)? MB")
    )
    expect(page.locator("#system-jobs")).to_contain_text("heartbeat")


def test_screenshots_of_the_backups_and_system_pages(appliance, new_page):
    # One appliance for the four: each makes one more backup.
    screens = on_every_screen(new_page)
    for made, (language, device, page, errors) in enumerate(screens, start=1):
        open_backups(page, appliance, language)
        create = re.compile("立即备份|Create a backup now")
        page.get_by_role("button", name=create).click()
        expect(page.locator("#backup-list tr[data-id]")).to_have_count(
            made, timeout=RUN_TIMEOUT
        )
        expect(page.locator("#backup-progress")).to_be_hidden(timeout=RUN_TIMEOUT)
        save_screenshot(page, f"admin-backups-{language}-{device}")

        page.goto(f"{appliance.base_url}/admin/?lang={language}#/system")
        expect(page.locator("#system-processes tr[data-name]")).to_have_count(4)
        expect(
            page.locator("#chart-memory .series, #chart-memory .dot").first
        ).to_be_attached(timeout=30_000)
        save_screenshot(page, f"admin-system-{language}-{device}")
        assert errors == [], (language, device, errors)
