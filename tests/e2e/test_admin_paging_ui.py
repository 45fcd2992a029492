"""Paging the FAQ and inbox lists, and removing the demo FAQ, in a real
browser against `serve`."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.db.models import Conversation, ConversationStatus, utc_now
from app.db.session import session_scope
from tests.support.admin_pages import (
    JWT_SECRET,
    account,
    appliance_settings,
    bearer,
    open_admin_page,
    sign_in,
)
from tests.support.appliance_process import ApplianceProcess, appliance_env
from tests.support.browser import save_screenshot

pytestmark = pytest.mark.slow

FAQ_API = "/api/v1/admin/faq"
# A new appliance starts with this many entries tagged "demo".
DEMO_ENTRIES = 16
IMPORTED = 130


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    """One appliance for the module, started once to keep it quick: each
    test has rows of its own (FAQ entries tagged "paging", the demo, the
    conversations) and counts what it finds rather than assume a new one."""
    home = tmp_path_factory.mktemp("paging")
    (home / "data").mkdir()
    env = appliance_env(home / "data", JWT_SECRET_KEY=JWT_SECRET)
    appliance = ApplianceProcess(env, home).start()
    yield appliance
    appliance.stop()


def import_faq_entries(appliance, count: int) -> None:
    """`count` entries, imported after the demo, so they are the newest."""
    rows = [f"Paging question {n:03d}?,Answer {n:03d}.,en,paging" for n in range(count)]
    csv_text = "question,answer,language,tags\n" + "\n".join(rows) + "\n"
    headers = {**bearer(appliance, "admin"), "Content-Type": "text/csv"}
    response = httpx.post(
        appliance.base_url + FAQ_API + "/import", content=csv_text, headers=headers
    )
    assert response.json() == {"created": count, "updated": 0}


def count_faq_entries(appliance, **params: str) -> int:
    response = httpx.get(
        appliance.base_url + FAQ_API,
        params={**params, "limit": 1},
        headers=bearer(appliance, "agent"),
    )
    return response.json()["total"]


def start_open_conversations(appliance, count: int) -> None:
    """`count` open conversations, one a second apart: ids 1 to `count`, the
    highest the most recently active."""
    started = utc_now() - timedelta(hours=1)
    with session_scope(appliance_settings(appliance), write=True) as session:
        for n in range(count):
            session.add(
                Conversation(
                    public_token_hash=secrets.token_hex(32),
                    language="en",
                    created_at=started + timedelta(seconds=n),
                )
            )


def resolve_conversations_up_to(appliance, last_id: int) -> None:
    with session_scope(appliance_settings(appliance), write=True) as session:
        session.exec(
            update(Conversation)
            .where(Conversation.id <= last_id)
            .values(status=ConversationStatus.RESOLVED)
        )


def test_faq_pages_reach_the_oldest_entries_and_keep_the_page_on_reload(
    appliance, new_page
):
    import_faq_entries(appliance, IMPORTED)
    total = count_faq_entries(appliance)
    page = new_page()
    open_admin_page(page, appliance, "faq")
    status = page.locator("#faq-pager-status")
    previous = page.get_by_role("button", name="Previous")
    next_page = page.get_by_role("button", name="Next")
    rows = page.locator("#faq-list tr[data-id]")

    expect(status).to_have_text(f"1–100 of {total}")
    expect(rows).to_have_count(100)
    expect(rows.first).to_contain_text("Paging question 129?")
    expect(previous).to_be_disabled()
    expect(next_page).to_be_enabled()

    next_page.click()
    expect(status).to_have_text(f"101–{total} of {total}")
    expect(page).to_have_url(re.compile(r"#/faq\?page=2$"))
    expect(rows).to_have_count(total - 100)
    expect(rows.filter(has_text="Paging question 000?")).to_have_count(1)
    expect(next_page).to_be_disabled()
    expect(previous).to_be_focused()
    save_screenshot(page, "admin-faq-page-2-en-desktop")

    page.reload()
    expect(status).to_have_text(f"101–{total} of {total}")
    expect(next_page).to_be_disabled()
    previous.click()
    expect(status).to_have_text(f"1–100 of {total}")
    page.go_back()
    expect(status).to_have_text(f"101–{total} of {total}")

    # A search starts at its first page, and one page needs no buttons.
    page.get_by_label("Search questions and answers").fill("Paging question 00")
    page.get_by_label("Search questions and answers").press("Enter")
    expect(status).to_have_text("1–10 of 10")
    expect(page).to_have_url(re.compile(r"#/faq\?q=Paging\+question\+00$"))
    expect(next_page).to_be_hidden()


def test_demo_entries_are_removed_only_after_confirming(appliance, new_page):
    page = new_page()
    open_admin_page(page, appliance, "faq")
    notice = page.locator("#faq-demo")
    remove = page.get_by_role("button", name="Remove demo entries")
    dialog = page.get_by_role("dialog")
    expect(notice).to_contain_text(f"{DEMO_ENTRIES}")

    remove.click()
    expect(dialog).to_contain_text(f"All {DEMO_ENTRIES} entries tagged “demo”")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert count_faq_entries(appliance, tag="demo") == DEMO_ENTRIES

    remove.click()
    dialog.get_by_role("button", name="Remove demo entries").click()
    expect(page.locator("#faq-message")).to_have_text(
        f"Demo entries removed: {DEMO_ENTRIES}."
    )
    expect(notice).to_be_hidden()
    assert count_faq_entries(appliance, tag="demo") == 0


def test_inbox_pages_keep_polling_their_page_and_fall_back_when_it_empties(
    appliance, new_page
):
    start_open_conversations(appliance, 130)
    page = new_page()
    sign_in(page, appliance, account(appliance, "agent"))
    page.goto(f"{appliance.base_url}/admin/?lang=en#/inbox?status=open")
    status = page.locator("#inbox-pager-status")
    links = page.locator(".conversation-link")
    next_page = page.get_by_role("button", name="Next")

    expect(status).to_have_text("1–100 of 130")
    expect(links.first).to_have_attribute("data-id", "130")
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    next_page.click()
    expect(status).to_have_text("101–130 of 130")
    expect(links).to_have_count(30)
    expect(links.last).to_have_attribute("data-id", "1")
    expect(next_page).to_be_disabled()
    save_screenshot(page, "admin-inbox-page-2-en-desktop")

    # Opening a conversation and reloading keep the list's page.
    links.last.click()
    expect(page).to_have_url(re.compile(r"#/inbox/1\?status=open&page=2$"))
    page.reload()
    expect(page.locator("#conversation-title")).to_have_text("Conversation #1")
    expect(status).to_have_text("101–130 of 130")

    # Forty of the oldest are resolved elsewhere: page 2 is left empty, and
    # the next poll shows the last page that has conversations.
    resolve_conversations_up_to(appliance, 40)
    expect(status).to_have_text("1–90 of 90", timeout=10_000)
    expect(page).to_have_url(re.compile(r"#/inbox/1\?status=open$"))
    expect(links.first).to_have_attribute("data-id", "130")
