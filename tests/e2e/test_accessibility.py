"""Accessibility of every page of the Web UI in a real browser against `serve`.

axe-core's WCAG 2.0/2.1 A and AA rules run on each page in both languages,
at desktop and at phone width (see tests/support/accessibility.py); the
keyboard tests walk the sign-in, the admin navigation, the inbox, the
confirmation dialog, the Users list and the chat composer with keys alone,
checking at each Tab stop that the focus shows. One appliance serves the
whole module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.accessibility import AxeWalk
from tests.support.accounts import DEFAULT_PASSWORD
from tests.support.admin_pages import JWT_SECRET, account, bearer, sign_in
from tests.support.appliance_process import ApplianceProcess, appliance_env
from tests.support.browser import PHONE
from tests.support.commands import run_appliance
from tests.support.fake_llm import FakeLLMServer
from tests.support.host_site import host_site as serve_host_site

pytestmark = pytest.mark.slow

ANSWER = "您好，我们通常在两天内发货。We usually ship within two days."
QUESTIONS = {"zh": "什么时候发货？", "en": "When do you ship?"}
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<link rel="icon" href="data:,"></head>
<body><main><h1>Shop</h1><p>Our products.</p></main>
<script src="{appliance}/widget.js" data-lang="{lang}"></script>
</body></html>"""


@pytest.fixture(scope="module")
def host_site(tmp_path_factory) -> Iterator[ThreadingHTTPServer]:
    """Another loopback origin, serving a shop page that embeds the widget."""
    with serve_host_site(tmp_path_factory.mktemp("site")) as server:
        yield server


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        server.reply(ANSWER, chunk_delay=0.01)
        yield server


@pytest.fixture(scope="module")
def appliance(tmp_path_factory, llm, host_site) -> Iterator[ApplianceProcess]:
    root = tmp_path_factory.mktemp("appliance")
    data_dir = root / "data"
    data_dir.mkdir()
    env = appliance_env(
        data_dir,
        OPENAI_API_KEY="sk-test-key-for-the-stand-in",
        OPENAI_BASE_URL=llm.base_url,
        JWT_SECRET_KEY=JWT_SECRET,
        CORS_ORIGINS=host_site.origin,
    )
    process = ApplianceProcess(env, root).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def backup(appliance) -> None:
    created = run_appliance("backup", "create", env=appliance.env, timeout=120)
    assert created.returncode == 0, created.stderr


@pytest.fixture(scope="module")
def faq_entry(appliance) -> None:
    added = httpx.post(
        f"{appliance.base_url}/api/v1/admin/faq",
        json={"question": "When do you ship?", "answer": "Within two days."},
        headers=bearer(appliance, "admin"),
        timeout=10,
    )
    assert added.status_code == 201, added.text


@pytest.fixture(scope="module")
def pending_conversation(appliance) -> dict:
    """A conversation waiting for an agent; its customer's session."""
    started = httpx.post(
        f"{appliance.base_url}/api/v1/customer/conversations",
        json={"language": "zh"},
        timeout=10,
    )
    assert started.status_code == 201, started.text
    session = started.json()
    customer_says(appliance, session, "转人工")
    return session


def customer_says(appliance, session: dict, text: str) -> None:
    conversation = session["conversation_id"]
    sent = httpx.post(
        f"{appliance.base_url}/api/v1/customer/conversations/{conversation}/messages",
        json={"body": text},
        headers={"Authorization": f"Bearer {session['token']}"},
        timeout=30,
    )
    assert sent.status_code < 300, sent.text


@pytest.fixture
def watched_page(new_page):
    """A page under the real CSP, and the errors its console shows (a CSP
    refusal is one)."""

    def open_page(viewport: dict | None = None):
        page = new_page(viewport)
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        return page, errors

    return open_page


def open_under_the_csp(page, url: str) -> None:
    # axe runs under the policy the pages are served with: Playwright's
    # evaluate is not page script, so the policy need not be bypassed.
    policy = page.goto(url).headers["content-security-policy"]
    assert "script-src 'self';" in policy, policy


def ask(page, question: str) -> None:
    page.get_by_role("textbox").fill(question)
    page.get_by_role("textbox").press("Enter")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_chat_pages_pass_axe(appliance, host_site, watched_page, language, device):
    walk = AxeWalk(phone=device == "phone")
    page, errors = watched_page(PHONE if device == "phone" else None)
    open_under_the_csp(page, f"{appliance.base_url}/?lang={language}")
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    walk.check("chat", page)

    ask(page, QUESTIONS[language])
    expect(page.locator(".message.assistant .body").last).to_have_text(ANSWER)
    walk.check("chat with an answer", page)

    page.goto(f"{appliance.base_url}/widget?lang={language}")
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    walk.check("widget frame page", page)

    (host_site.site / f"shop-{language}.html").write_text(
        HOST_PAGE.format(appliance=appliance.base_url, lang=language)
    )
    page.goto(f"{host_site.origin}/shop-{language}.html")
    bubble = page.locator("customer-service-widget").get_by_role("button")
    expect(bubble).to_be_visible()
    walk.check("widget bubble", page, "customer-service-widget")
    bubble.click()
    frame = page.frame_locator("iframe")
    expect(frame.locator("html")).to_have_attribute("data-ready", "true")
    walk.check("widget bubble, open", page, "customer-service-widget")
    walk.check("widget frame, open", page.main_frame.child_frames[0])

    if walk.found:
        pytest.fail(walk.report(), pytrace=False)
    assert errors == []


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.usefixtures("backup", "faq_entry", "pending_conversation")
def test_admin_pages_pass_axe(appliance, watched_page, language, device):
    walk = AxeWalk(phone=device == "phone")
    page, errors = watched_page(PHONE if device == "phone" else None)
    base = f"{appliance.base_url}/admin/?lang={language}"
    open_under_the_csp(page, base)
    expect(page.locator("#email")).to_be_visible()
    walk.check("sign-in", page)

    sign_in(page, appliance, account(appliance, "admin"), language)
    link = page.locator(".conversation-link").first
    expect(link).to_be_visible()
    walk.check("inbox", page)

    link.click()
    expect(page.get_by_role("log").locator(".message.customer").first).to_be_visible()
    page.locator("#take-over").click()
    expect(page.locator("#reply")).to_be_enabled()
    walk.check("conversation", page)

    page.goto(f"{base}#/faq")
    expect(page.locator("#faq-list")).to_contain_text("Within two days.")
    walk.check("faq", page)

    page.goto(f"{base}#/users")
    expect(page.locator("#user-list tr").first).to_be_visible()
    walk.check("users", page)

    page.goto(f"{base}#/backups")
    row = page.locator("#backup-list tr[data-id]").first
    expect(row).to_be_visible()
    walk.check("backups", page)
    row.locator('button[data-action="backupRestore"]').click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("tbody tr").first).to_be_visible()
    walk.check("restore dialog", page)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.goto(f"{base}#/system")
    expect(page.locator("#system-processes tr[data-name]").first).to_be_visible()
    walk.check("system", page)

    if walk.found:
        pytest.fail(walk.report(), pytrace=False)
    assert errors == []


# The focused element, as the keyboard tests name it: its id, or for an
# element without one its tag and text.
FOCUSED = """() => {
    const focused = document.activeElement;
    const text = focused.textContent.trim().slice(0, 40);
    return focused.id || `${focused.tagName.toLowerCase()}:${text}`;
}"""
# Whether the focus shows: an outline of 2px or more on the focused element,
# or on the label drawn for a visually hidden control (the chat's image
# button is a hidden file input with a label styled as a button).
FOCUS_SHOWS = """() => {
    let shown = document.activeElement;
    if (shown.classList.contains('visually-hidden') && shown.labels?.length) {
        shown = shown.labels[0];
    }
    const style = getComputedStyle(shown);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
}"""
INSIDE_DIALOG = "() => Boolean(document.activeElement.closest('dialog[open]'))"


def press_tab(page, shift: bool = False) -> str:
    page.keyboard.press("Shift+Tab" if shift else "Tab")
    assert page.evaluate(FOCUS_SHOWS), f"no visible focus on {page.evaluate(FOCUSED)}"
    return page.evaluate(FOCUSED)


def test_signing_in_takes_only_the_keyboard(appliance, watched_page):
    page, errors = watched_page()
    email = account(appliance, "agent")
    page.goto(f"{appliance.base_url}/admin/?lang=en")
    expect(page.locator("#email")).to_be_focused()
    # Only the language switch comes before the form.
    assert press_tab(page, shift=True) == "language"
    assert press_tab(page) == "email"

    page.keyboard.type(email)
    assert press_tab(page) == "password"
    page.keyboard.type(DEFAULT_PASSWORD)
    assert press_tab(page) == "button:Sign in"
    page.keyboard.press("Enter")
    expect(page.locator("#sign-out")).to_be_visible()
    expect(page.get_by_role("heading", name="Conversations")).to_be_focused()
    assert errors == []


def test_admin_navigation_by_tab_moves_the_focus_to_each_pages_heading(
    appliance, watched_page
):
    page, errors = watched_page()
    sign_in(page, appliance, account(appliance, "admin"))
    nav = page.get_by_role("navigation", name="Admin pages")
    names = nav.get_by_role("link").all_text_contents()
    assert names == ["Conversations", "FAQ", "Users", "Backups", "System"]

    for index, name in enumerate(names):
        page.locator("#sign-out").focus()
        for _ in range(index + 1):
            focused = press_tab(page)
        assert focused == f"a:{name}"
        page.keyboard.press("Enter")
        expect(nav.get_by_role("link", name=name)).to_have_attribute(
            "aria-current", "page"
        )
        expect(page.get_by_role("heading", level=1, name=name)).to_be_focused()
    assert errors == []


def test_inbox_keeps_the_focus_through_a_poll_and_opening_moves_it(
    appliance, pending_conversation, watched_page
):
    # At phone width, where the open conversation takes the whole page.
    page, errors = watched_page(PHONE)
    sign_in(page, appliance, account(appliance, "agent"))
    link = page.locator(".conversation-link").first
    link.focus()
    unread = link.locator(".unread").text_content()
    # The customer writes again: the next poll redraws the list.
    customer_says(appliance, pending_conversation, "还在吗？")
    expect(link.locator(".unread")).not_to_have_text(unread, timeout=10_000)
    expect(link).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.locator("#conversation-title")).to_be_focused()
    back = page.get_by_role("link", name="Back to the list")
    back.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Conversations")).to_be_focused()
    assert errors == []


@pytest.mark.usefixtures("backup")
@pytest.mark.parametrize("action", ["Delete", "Restore"])
def test_confirmation_dialog_holds_the_focus_and_gives_it_back_on_escape(
    appliance, watched_page, action
):
    page, errors = watched_page()
    sign_in(page, appliance, account(appliance, "admin"))
    page.goto(f"{appliance.base_url}/admin/?lang=en#/backups")
    row = page.locator("#backup-list tr[data-id]").first
    opener = row.get_by_role("button", name=re.compile(f"^{action}"))
    opener.focus()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    # Round the dialog's buttons twice, both ways: the focus never leaves it.
    for shift in (False, True):
        for _ in range(4):
            press_tab(page, shift)
            assert page.evaluate(INSIDE_DIALOG), page.evaluate(FOCUSED)

    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()
    expect(row).to_be_visible()
    assert errors == []


def test_chat_composer_works_with_the_keyboard(appliance, watched_page):
    page, errors = watched_page()
    page.goto(f"{appliance.base_url}/?lang=en")
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    page.locator("#language").focus()
    assert press_tab(page) == "messages"
    assert press_tab(page) == "file"
    expect(page.locator("#file")).to_have_accessible_name("Add image")
    assert press_tab(page) == "message"
    expect(page.locator("#message")).to_have_accessible_name("Your message")

    page.keyboard.type("First line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    expect(page.locator("#message")).to_have_value("First line\nsecond line")
    page.keyboard.press("Enter")
    log = page.get_by_role("log")
    expect(log.locator(".message.customer .body")).to_have_text(
        ["First line\nsecond line"]
    )
    expect(page.locator("#message")).to_have_value("")
    expect(page.locator("#message")).to_be_focused()
    expect(log.locator(".message.assistant .body").last).to_have_text(ANSWER)
    assert press_tab(page) == "send"
    assert errors == []


def test_users_list_keeps_the_focus_on_the_control_that_changed(
    appliance, watched_page
):
    page, errors = watched_page()
    sign_in(page, appliance, account(appliance, "admin"))
    agent = account(appliance, "agent")
    page.goto(f"{appliance.base_url}/admin/?lang=en#/users")
    row = page.locator(f'#user-list tr[data-email="{agent}"]')
    role = row.get_by_role("combobox")
    role.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#users-message")).to_have_text(f"{agent} changed.")
    expect(role).to_have_value("admin")
    expect(role).to_be_focused()

    toggle = row.get_by_role("button", name=re.compile("^Deactivate"))
    toggle.focus()
    page.keyboard.press("Enter")
    activate = row.get_by_role("button", name=re.compile("^Activate"))
    expect(activate).to_be_focused()
    assert errors == []
