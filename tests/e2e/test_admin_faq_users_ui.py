"""The FAQ and Users admin pages in a real browser against `serve`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.accounts import DEFAULT_PASSWORD
from tests.support.admin_pages import JWT_SECRET, open_admin_page, sign_in
from tests.support.browser import PHONE, SCREENS, save_screenshot

pytestmark = pytest.mark.slow

IMPORTED_CSV = (
    "question,answer,language,tags\n"
    'Can I pay by invoice?,"Yes, for orders over 100 EUR.",en,payment\n'
    "支持货到付款吗？,支持，仅限国内订单。,zh,payment|cod\n"
)

# The pager's line over a new install's 16 demo entries.
DEMO_STATUS = {"en": "1–16 of 16", "zh": "第 1–16 条，共 16 条"}


@pytest.fixture
def appliance(start_appliance):
    return start_appliance(JWT_SECRET_KEY=JWT_SECRET)


def preview_until_it_matches(page, question: str, entry_id: str) -> None:
    # Each worker notices an edit within about a second; ask again until then.
    page.get_by_label("A customer's question").fill(question)
    match = page.locator(f'#faq-preview .match[data-id="{entry_id}"]')
    for _ in range(20):
        page.get_by_role("button", name="Preview").click()
        page.wait_for_timeout(500)
        if match.count():
            break
    expect(match).to_contain_text("score")


def test_admin_writes_previews_imports_and_deletes_faq_entries(
    appliance, new_page, tmp_path
):
    page = new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    open_admin_page(page, appliance, "faq")
    message = page.locator("#faq-message")

    editor = page.locator("#faq-editor")
    editor.get_by_label("Question").fill(
        "Can I change the delivery address after ordering?"
    )
    editor.get_by_label("Answer").fill("Usually three days.")
    editor.get_by_label("Tags").fill("shipping, delivery")
    editor.get_by_label("Language").select_option("en")
    editor.get_by_role("button", name="Save").click()
    expect(message).to_contain_text("added")
    row = page.locator(
        "#faq-list tr", has_text="Can I change the delivery address after ordering?"
    )
    expect(row).to_contain_text("shipping, delivery")
    entry_id = row.get_attribute("data-id")

    row.get_by_role("button", name=re.compile("^Edit")).click()
    expect(page.get_by_role("heading", name=f"Edit entry #{entry_id}")).to_be_visible()
    expect(editor.get_by_label("Question")).to_be_focused()
    editor.get_by_label("Answer").fill("Usually two working days.")
    editor.get_by_label("Tags").press("Enter")
    expect(message).to_contain_text(f"Entry #{entry_id} saved.")
    expect(row).to_contain_text("Usually two working days.")

    preview_until_it_matches(page, "change my delivery address", entry_id)
    expect(page.locator("#faq-preview")).to_contain_text("Usually two working days.")

    csv_file = tmp_path / "faq.csv"
    csv_file.write_text(IMPORTED_CSV, encoding="utf-8")
    page.get_by_label("CSV or JSON file to import").set_input_files(csv_file)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(message).to_contain_text("faq.csv: 2 added, 0 updated.")
    expect(page.locator("#faq-list")).to_contain_text("Can I pay by invoice?")

    bad_file = tmp_path / "bad.csv"
    bad_file.write_text("question,answer\nOnly two columns,here\n", encoding="utf-8")
    page.get_by_label("CSV or JSON file to import").set_input_files(bad_file)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(message).to_contain_text("nothing imported")
    expect(message).to_have_attribute("role", "alert")

    row.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Can I change the delivery address after ordering?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_have_count(1)
    row.get_by_role("button", name=re.compile("^Delete")).click()
    dialog.get_by_role("button", name="Delete").click()
    expect(message).to_contain_text(f"Entry #{entry_id} deleted.")
    expect(row).to_have_count(0)
    # The refused import is the one failed request the console names.
    assert len(errors) == 1 and "422" in errors[0], errors


def test_admin_adds_an_agent_who_can_sign_in_and_short_passwords_are_refused(
    appliance, new_page
):
    admin = new_page()
    open_admin_page(admin, appliance, "users")
    message = admin.locator("#users-message")
    add = admin.locator("#add-user")

    add.get_by_label("Email").fill("lin@example.com")
    add.get_by_label("Password").fill("short")
    add.get_by_label("Role").select_option("agent")
    add.get_by_role("button", name="Add").click()
    expect(message).to_contain_text("password is shorter than 8 characters")
    expect(admin.locator('#user-list tr[data-email="lin@example.com"]')).to_have_count(
        0
    )

    add.get_by_label("Password").fill(DEFAULT_PASSWORD)
    add.get_by_label("Password").press("Enter")
    expect(message).to_contain_text("lin@example.com added.")
    row = admin.locator('#user-list tr[data-email="lin@example.com"]')
    expect(row.get_by_label("Role of lin@example.com")).to_have_value("agent")
    expect(row.locator(".user-active")).to_have_text("active")

    agent = new_page()
    sign_in(agent, appliance, "lin@example.com")
    expect(agent.locator("#sign-out")).to_be_visible()
    nav = agent.get_by_role("navigation", name="Admin pages")
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    nav.get_by_role("link", name="FAQ").click()
    expect(agent.locator("#faq-editor")).to_have_count(0)
    expect(agent.get_by_label("A customer's question")).to_be_visible()

    row.get_by_role("button", name="Deactivate: lin@example.com").click()
    expect(row.locator(".user-active")).to_have_text("deactivated")
    row.get_by_label("Role of lin@example.com").select_option("admin")
    expect(message).to_contain_text("lin@example.com changed.")

    reset = admin.locator("#reset-user-password")
    reset.get_by_label("Account").select_option(label="lin@example.com")
    reset.get_by_label("New password").fill("tiny")
    reset.get_by_role("button", name="Reset the password").click()
    expect(message).to_contain_text("password is shorter than 8 characters")


def screenshot_both_pages(page, appliance, language: str, device: str) -> None:
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    open_admin_page(page, appliance, "faq", language)
    expect(page.locator("#faq-pager-status")).to_have_text(DEMO_STATUS[language])
    save_screenshot(page, f"admin-faq-{language}-{device}")

    page.goto(f"{appliance.base_url}/admin/?lang={language}#/users")
    expect(page.locator("#user-list tr[data-email]").first).to_be_visible()
    save_screenshot(page, f"admin-users-{language}-{device}")
    assert errors == [], errors


def test_screenshots_of_the_faq_and_users_pages(appliance, new_page):
    for language, device in SCREENS:
        page = new_page(PHONE if device == "phone" else None)
        screenshot_both_pages(page, appliance, language, device)
