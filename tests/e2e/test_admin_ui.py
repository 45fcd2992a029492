"""The admin pages at /admin/ in a real browser against `serve`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.admin_pages import JWT_SECRET, account, sign_in
from tests.support.browser import on_every_screen, save_screenshot
from tests.support.commands import run_appliance
from tests.support.disks import small_tmpfs
from tests.support.images import jpeg

pytestmark = pytest.mark.slow

ANSWER = "您好，我们通常在两天内发货。"


@pytest.fixture
def appliance(start_appliance, fake_llm):
    fake_llm.reply(ANSWER)
    return start_appliance(
        OPENAI_API_KEY="sk-test-key-for-the-stand-in",
        OPENAI_BASE_URL=fake_llm.base_url,
        JWT_SECRET_KEY=JWT_SECRET,
    )


def customer_asks_for_a_person(new_page, appliance, text: str = "转人工"):
    customer = new_page()
    customer.goto(f"{appliance.base_url}/?lang=zh")
    customer.get_by_role("textbox").fill(text)
    customer.keyboard.press("Enter")
    expect(customer.locator(".message.system")).to_have_count(1)
    return customer


def test_agent_takes_over_a_pending_conversation_and_the_customer_sees_the_reply(
    appliance, new_page
):
    customer = customer_asks_for_a_person(new_page, appliance)
    agent = new_page()
    sign_in(agent, appliance, account(appliance, "agent"))

    pending = agent.get_by_role("button", name=re.compile("^Waiting for an agent"))
    expect(pending).to_have_attribute("aria-pressed", "true")
    expect(pending.locator(".count")).to_have_text("1 · 1")
    link = agent.locator(".conversation-link").first
    expect(link).to_contain_text("1 unread")
    expect(link).to_contain_text("customer asked for a person")
    link.click()

    log = agent.get_by_role("log")
    expect(log.locator(".message.customer .body")).to_have_text(["转人工"])
    expect(agent.get_by_label("Reply to the customer")).to_be_disabled()
    agent.get_by_role("button", name="Take over").click()
    expect(agent.locator("#conversation-state")).to_contain_text("held by you")
    reply = agent.get_by_label("Reply to the customer")
    reply.fill("您好，我是客服小林。")
    reply.press("Enter")
    expect(log.locator(".message.agent .body")).to_have_text(["您好，我是客服小林。"])

    customer_log = customer.get_by_role("log")
    expect(customer_log.locator(".message.agent .body")).to_have_text(
        ["您好，我是客服小林。"]
    )
    # The customer's next message arrives live in the agent's view.
    customer.get_by_role("textbox").fill("谢谢")
    customer.keyboard.press("Enter")
    expect(log.locator(".message.customer .body")).to_have_text(["转人工", "谢谢"])

    agent.get_by_role("button", name="Resolve", exact=True).click()
    expect(agent.locator("#conversation-state")).to_contain_text("Resolved")
    resolved = agent.get_by_role("button", name=re.compile("^Resolved"))
    # The customer's thanks came after the last answer: still one unread.
    expect(resolved.locator(".count")).to_have_text("1 · 1")


def test_an_image_the_customer_sends_shows_in_both_views(appliance, new_page, tmp_path):
    photo = tmp_path / "broken-cup.jpg"
    photo.write_bytes(jpeg(320, 240))
    customer = new_page()
    customer.goto(f"{appliance.base_url}/?lang=en")
    customer.get_by_label("Add image").set_input_files(photo)
    expect(customer.get_by_text("Image added")).to_be_visible()
    customer.get_by_role("textbox").fill("转人工")
    customer.keyboard.press("Enter")
    expect(customer.locator(".message.system")).to_have_count(1)
    assert shown_width(customer.locator(".message.customer img")) == 320

    agent = new_page()
    sign_in(agent, appliance, account(appliance, "agent"))
    agent.locator(".conversation-link").first.click()
    image = agent.get_by_role("log").get_by_role("img", name="Image the customer sent")
    expect(image).to_have_count(1)
    assert shown_width(image) == 320
    save_screenshot(agent, "admin-conversation-image-en-desktop")
    # Decoded, then let go of: the page keeps no blob: URL alive.
    assert image.evaluate(
        "img => fetch(img.src).then(() => 'kept', () => 'revoked')"
    ) == ("revoked")


def shown_width(image) -> int:
    """The picture's own width once it has decoded (0 while it cannot)."""
    image.evaluate(
        """img => img.complete ? null : new Promise(done => {
            img.addEventListener('load', done, {once: true});
            img.addEventListener('error', done, {once: true});
        })"""
    )
    return image.evaluate("img => img.naturalWidth")


def test_new_conversations_appear_in_the_inbox_without_a_reload(appliance, new_page):
    agent = new_page()
    sign_in(agent, appliance, account(appliance, "agent"))
    expect(agent.locator(".conversations .empty")).to_be_visible()
    customer_asks_for_a_person(new_page, appliance, "I want a human")
    expect(agent.locator(".conversation-link")).to_have_count(1, timeout=10_000)

    agent.locator("#inbox-search").fill("nothing like this")
    agent.locator("#inbox-search").press("Enter")
    expect(agent.locator(".conversations .empty")).to_be_visible()
    agent.locator("#inbox-search").fill("human")
    agent.locator("#inbox-search").press("Enter")
    expect(agent.locator(".conversation-link")).to_have_count(1)


def test_the_language_switch_changes_the_admin_pages_and_is_remembered(
    appliance, new_page
):
    page = new_page()
    sign_in(page, appliance, account(appliance, "agent"), "en")
    expect(page.locator("#sign-out")).to_have_text("Sign out")
    page.get_by_label("Language").select_option("zh")
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^zh"))
    expect(page.locator("#sign-out")).to_have_text("退出登录")
    page.goto(f"{appliance.base_url}/admin/")
    expect(page.locator("#sign-out")).to_have_text("退出登录")


def test_sign_out_and_a_stale_token_return_to_sign_in(appliance, new_page):
    page = new_page()
    sign_in(page, appliance, account(appliance, "agent"))
    page.locator("#sign-out").click()
    expect(page.locator("#email")).to_be_visible()
    expect(page.locator("#sign-in-error")).to_be_hidden()

    page.evaluate(
        """() => sessionStorage.setItem('cs.admin.v1', JSON.stringify(
            {token: 'stale.token.value', user: {id: 1, email: 'x', role: 'admin'}}))"""
    )
    page.reload()
    expect(page.locator("#email")).to_be_visible()
    expect(page.locator("#sign-in-error")).to_contain_text("sign in again")


def test_users_link_shows_for_admins_only(appliance, new_page):
    agent = new_page()
    sign_in(agent, appliance, account(appliance, "agent"))
    nav = agent.get_by_role("navigation", name="Admin pages")
    expect(nav.get_by_role("link", name="Conversations")).to_be_visible()
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    agent.goto(f"{appliance.base_url}/admin/#/users")
    expect(agent).to_have_url(re.compile("#/inbox$"))

    admin = new_page()
    sign_in(admin, appliance, account(appliance, "admin"))
    nav = admin.get_by_role("navigation", name="Admin pages")
    nav.get_by_role("link", name="Users").click()
    expect(nav.get_by_role("link", name="Users")).to_have_attribute(
        "aria-current", "page"
    )
    expect(admin.get_by_role("heading", name="Users")).to_be_visible()


def test_a_failed_backup_shows_a_banner_on_every_page(
    start_appliance, tmp_path, new_page
):
    with small_tmpfs(tmp_path / "backups", "512k") as backups:
        appliance = start_appliance(JWT_SECRET_KEY=JWT_SECRET, BACKUP_PATH=str(backups))
        created = run_appliance("backup", "create", env=appliance.env)
        assert created.returncode == 1, created.stderr

        admin = new_page()
        sign_in(admin, appliance, account(appliance, "admin"))
        banner = admin.locator("#backup-failure")
        expect(banner).to_have_attribute("role", "alert")
        expect(banner).to_contain_text("Backups are failing: 1 failed")
        admin.get_by_role("link", name="System").click()
        expect(banner).to_be_visible()
        save_screenshot(admin, "admin-backup-failing-en-desktop")
        appliance.stop()


def test_screenshots_of_the_admin_pages(appliance, new_page):
    customer_asks_for_a_person(new_page, appliance)
    # One appliance for the four; each admin takes the conversation over.
    for language, device, page, errors in on_every_screen(new_page):
        page.goto(f"{appliance.base_url}/admin/?lang={language}")
        expect(page.locator("#email")).to_be_visible()
        save_screenshot(page, f"admin-sign-in-{language}-{device}")

        sign_in(page, appliance, account(appliance, "admin"), language)
        expect(page.locator(".conversation-link")).to_have_count(1)
        expect(page.locator("html")).to_have_attribute("lang", re.compile(language))
        save_screenshot(page, f"admin-inbox-{language}-{device}")
        page.locator(".conversation-link").first.click()
        expect(page.get_by_role("log").locator(".message.customer")).to_have_count(1)
        page.locator("#take-over").click()
        expect(page.locator("#reply")).to_be_enabled()
        save_screenshot(page, f"admin-conversation-{language}-{device}")
        assert errors == [], f"{language} {device}: the CSP or a request failed"
