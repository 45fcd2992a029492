"""The customer chat and the widget in a real browser against `serve`."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from appliance.settings import Settings
from tests.support.accounts import signed_in_headers
from tests.support.browser import PHONE, SCREENS, on_every_screen, save_screenshot
from tests.support.host_site import host_site as serve_host_site
from tests.support.images import jpeg
from tests.support.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.slow

JWT_SECRET = "e2e-web-ui-secret-that-is-long-enough-0123456789"
ANSWER = "您好，我们通常在两天内发货。"


@pytest.fixture
def host_site(tmp_path) -> Iterator[ThreadingHTTPServer]:
    """Another loopback origin, serving pages that embed the widget."""
    site = tmp_path / "site"
    site.mkdir()
    with serve_host_site(site) as server:
        yield server


@pytest.fixture
def appliance(start_appliance, fake_llm, host_site):
    fake_llm.reply(ANSWER, chunk_delay=0.02)
    return start_appliance(
        OPENAI_API_KEY="sk-test-key-for-the-stand-in",
        OPENAI_BASE_URL=fake_llm.base_url,
        JWT_SECRET_KEY=JWT_SECRET,
        CORS_ORIGINS=host_site.origin,
    )


def ask(page, question: str) -> None:
    page.get_by_role("textbox").fill(question)
    page.keyboard.press("Enter")


def test_customer_sees_the_answer_stream_in_and_keeps_it_on_reload(appliance, new_page):
    page = new_page()
    page.goto(f"{appliance.base_url}/?lang=zh")
    expect(page.get_by_role("heading", name="智能客服系统")).to_be_visible()

    growing = []
    page.expose_function("noteDraft", lambda text: growing.append(text))
    page.evaluate(
        """() => new MutationObserver(() => {
            const draft = document.querySelector('.draft .body');
            if (draft) window.noteDraft(draft.textContent);
        }).observe(document.body, {subtree: true, childList: true,
                                   characterData: true})"""
    )
    ask(page, "什么时候发货？")

    log = page.get_by_role("log")
    expect(log.locator(".message.assistant .body").last).to_have_text(ANSWER)
    expect(log.locator(".message.customer .body")).to_have_text(["什么时候发货？"])
    # Deltas that arrive in one read show as one step, and a loaded machine
    # batches more of them: two steps before the whole already show streaming.
    partial = {text for text in growing if text != ANSWER and ANSWER.startswith(text)}
    partial.discard("")
    assert len(partial) >= 2, "the reply should appear piece by piece"

    page.reload()
    expect(page.get_by_role("log").locator("[data-id] .body")).to_have_text(
        ["什么时候发货？", ANSWER]
    )


def test_agent_joining_and_replying_shows_live_once(appliance, new_page):
    page = new_page()
    page.goto(f"{appliance.base_url}/?lang=en")
    ask(page, "I want a person")
    log = page.get_by_role("log")
    # Stored (it has its id), so the conversation is saved in the page.
    expect(log.locator(".message.customer[data-id]")).to_have_count(1)
    conversation_id = page.evaluate(
        "JSON.parse(localStorage.getItem('cs.conversation.v1')).id"
    )

    agent = signed_in_headers(
        Settings(data_dir=Path(appliance.env["DATA_DIR"]), jwt_secret_key=JWT_SECRET),
        role="agent",
    )
    admin_url = f"{appliance.base_url}/api/v1/admin/conversations/{conversation_id}"
    assert httpx.post(f"{admin_url}/take-over", headers=agent).status_code < 300
    expect(page.get_by_role("status").filter(has_text="agent")).to_be_visible()

    # The workers restart one by one and end their streams; the page
    # reconnects with Last-Event-ID and must show the reply once.
    appliance.send(signal.SIGHUP)
    reply = httpx.post(
        f"{admin_url}/messages", json={"body": "Hi, I am Lin."}, headers=agent
    )
    assert reply.status_code == 201, reply.text
    expect(log.locator(".message.agent .body")).to_have_text(["Hi, I am Lin."])
    expect(log.locator(".message.customer")).to_have_count(1)


SLOW_ANSWER = ["We ship ", "within two days, ", "by post, ", "with tracking."]


def test_a_network_drop_loses_and_doubles_no_message(appliance, fake_llm, new_page):
    fake_llm.reply(SLOW_ANSWER, chunk_delay=1.0)
    with CuttableProxy(int(appliance.env["PORT"])) as proxy:
        page = new_page()
        page.goto(f"{proxy.url}/?lang=en")
        log = page.get_by_role("log")
        ask(page, "When do you ship?")
        # The question is stored and its answer is streaming: pull the cable.
        expect(page.locator(".draft .body")).to_contain_text("We ship")
        proxy.go_offline()
        expect(page.locator("#connection")).to_contain_text("reconnecting")
        ask(page, "Hello?")
        expect(page.get_by_role("button", name="Retry")).to_be_visible()

        proxy.go_online()
        # The cut answer is stored whole, and "Hello?" is sent again by
        # itself once the page is back online, and answered.
        expect(log.locator("[data-id]")).to_have_count(4, timeout=30_000)
        expect(page.locator("#connection")).to_be_hidden()
        expect(page.get_by_role("button", name="Retry")).to_have_count(0)
        whole = "".join(SLOW_ANSWER)
        stored = stored_bodies(appliance, page)
        assert sorted(stored) == sorted(["When do you ship?", "Hello?", whole, whole])
        expect(log.locator("[data-id] .body")).to_have_text(stored)

        page.reload()
        expect(page.get_by_role("log").locator("[data-id] .body")).to_have_text(stored)


def stored_bodies(appliance, page) -> list[str]:
    """The bodies of the page's conversation as the appliance stored them."""
    session = page.evaluate("JSON.parse(localStorage.getItem('cs.conversation.v1'))")
    answer = httpx.get(
        f"{appliance.base_url}/api/v1/customer/conversations/{session['id']}/messages",
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    answer.raise_for_status()
    return [message["body"] for message in answer.json()["messages"]]


def test_an_image_over_the_size_limit_is_refused_before_it_is_sent(
    appliance, new_page, tmp_path
):
    page = new_page()
    page.goto(f"{appliance.base_url}/?lang=en")
    limit = page.evaluate(
        "fetch('/api/v1/ui/config').then(r => r.json()).then(c => c.upload.max_bytes)"
    )
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as out:
        out.write(jpeg(64, 64))
        out.truncate(limit + 1)
    page.get_by_label("Add image").set_input_files(huge)
    expect(page.get_by_role("alert")).to_contain_text("too large")
    expect(page.locator("#attachment")).to_be_hidden()
    ask(page, "Just text")
    expect(page.get_by_role("log").locator(".message.customer[data-id]")).to_have_count(
        1
    )
    assert page.locator(".message.customer img").count() == 0


def test_a_new_conversation_leaves_the_old_one_to_the_agents(appliance, new_page):
    page = new_page()
    page.goto(f"{appliance.base_url}/?lang=en")
    new = page.get_by_role("button", name="New conversation")
    expect(new).to_be_hidden()
    ask(page, "When do you ship?")
    log = page.get_by_role("log")
    expect(log.locator(".message.assistant[data-id] .body")).to_have_text([ANSWER])
    first = page.evaluate("JSON.parse(localStorage.getItem('cs.conversation.v1')).id")

    new.click()
    expect(log.locator("[data-id]")).to_have_count(0)
    expect(page.get_by_role("textbox")).to_be_focused()
    page.reload()
    expect(page.get_by_role("textbox")).to_be_editable()
    expect(page.get_by_role("log").locator("[data-id]")).to_have_count(0)

    ask(page, "And returns?")
    log = page.get_by_role("log")
    expect(log.locator("[data-id] .body")).to_have_text(["And returns?", ANSWER])
    second = page.evaluate("JSON.parse(localStorage.getItem('cs.conversation.v1')).id")
    assert second != first
    assert stored_bodies(appliance, page) == ["And returns?", ANSWER]


def test_two_quick_sends_land_in_one_conversation(appliance, new_page):
    page = new_page()
    page.goto(f"{appliance.base_url}/?lang=en")
    expect(page.get_by_role("textbox")).to_be_editable()

    # Both before the first start of a conversation can have answered.
    page.evaluate(
        """() => {
            const box = document.querySelector('textarea');
            for (const text of ['first question', 'second question']) {
                box.value = text;
                box.form.requestSubmit();
            }
        }"""
    )

    log = page.get_by_role("log")
    expect(log.locator(".message.customer[data-id]")).to_have_count(2)
    agent = signed_in_headers(
        Settings(data_dir=Path(appliance.env["DATA_DIR"]), jwt_secret_key=JWT_SECRET),
        role="agent",
    )
    listed = httpx.get(
        f"{appliance.base_url}/api/v1/admin/conversations",
        params={"status": "open"},
        headers=agent,
    )
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["conversations"]) == 1


def test_image_upload_shows_progress_then_the_image(appliance, new_page, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg(640, 480))
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not an image")
    page = new_page()
    page.goto(f"{appliance.base_url}/?lang=en")

    page.get_by_label("Add image").set_input_files(text_file)
    expect(page.get_by_role("alert")).to_contain_text("not accepted")

    page.get_by_label("Add image").set_input_files(photo)
    expect(page.get_by_text("Image added")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()
    ask(page, "Is this damaged?")

    image = page.get_by_role("log").locator(".message.customer img")
    expect(image).to_have_count(1)
    page.reload()
    image = page.get_by_role("log").locator(".message.customer img")
    expect(image).to_have_attribute("src", re.compile("^blob:"))
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0


def test_the_language_switch_changes_the_page_and_is_remembered(appliance, new_page):
    page = new_page()
    page.goto(f"{appliance.base_url}/?lang=en")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    page.get_by_label("Language").select_option("zh")
    expect(page.get_by_role("button", name="发送")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^zh"))
    expect(page.get_by_role("textbox")).to_have_attribute(
        "placeholder", "输入您的问题，按 Enter 发送"
    )
    page.goto(f"{appliance.base_url}/")
    expect(page.get_by_label("语言")).to_have_value("zh")


def test_screenshots_of_the_chat(appliance, new_page):
    # One appliance for the four: each page is its own browser context.
    for language, device, page, errors in on_every_screen(new_page):
        page.goto(f"{appliance.base_url}/?lang={language}")
        question = "什么时候发货？" if language == "zh" else "When do you ship?"
        ask(page, question)
        expect(page.locator(".message.assistant .body").last).to_have_text(ANSWER)
        expect(page.locator("html")).to_have_attribute("lang", re.compile(language))
        save_screenshot(page, f"chat-{language}-{device}")
        assert errors == [], f"{language} {device}: the CSP or a request failed"


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<style>
  * { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
  button { display: none !important; background: rgb(0, 128, 0) !important; }
  iframe { width: 10px !important; }
</style></head>
<body><h1>Shop</h1><button class="probe">Buy</button>
<script src="{appliance}/widget.js" data-lang="en"></script>
</body></html>"""


def test_widget_on_another_origin_opens_the_chat_unharmed_by_the_page(
    appliance, host_site, new_page
):
    (host_site.site / "index.html").write_text(
        HOST_PAGE.replace("{appliance}", appliance.base_url)
    )
    page = new_page()
    page.goto(host_site.origin + "/")
    probe_before = page.locator(".probe").evaluate(
        "b => [getComputedStyle(b).fontSize, getComputedStyle(b).display]"
    )

    bubble = page.get_by_role("button", name="Open customer service chat")
    expect(bubble).to_be_visible()
    bubble.click()
    frame = page.frame_locator("iframe[title='Customer service chat']")
    frame.get_by_role("textbox").fill("When do you ship?")
    frame.get_by_role("textbox").press("Enter")
    expect(frame.locator(".message.assistant .body").last).to_have_text(ANSWER)
    width = page.locator("customer-service-widget").evaluate(
        "host => host.getBoundingClientRect().width"
    )
    assert width > 40, "the page's CSS must not reach the bubble"

    frame.get_by_role("button", name="Close").click()
    expect(
        page.get_by_role("button", name="Open customer service chat")
    ).to_be_focused()
    probe_after = page.locator(".probe").evaluate(
        "b => [getComputedStyle(b).fontSize, getComputedStyle(b).display]"
    )
    assert probe_before == probe_after == ["40px", "none"]


def test_screenshots_of_the_widget(appliance, host_site, new_page):
    for language in ("zh", "en"):
        (host_site.site / f"{language}.html").write_text(
            HOST_PAGE.replace("{appliance}", appliance.base_url).replace(
                'data-lang="en"', f'data-lang="{language}"'
            )
        )
    for language, device in SCREENS:
        page = new_page(PHONE if device == "phone" else None)
        page.goto(f"{host_site.origin}/{language}.html")
        page.locator("customer-service-widget").get_by_role("button").click()
        frame = page.frame_locator("iframe")
        frame.get_by_role("textbox").fill("什么时候发货？")
        frame.get_by_role("textbox").press("Enter")
        expect(frame.locator(".message.assistant .body").last).to_have_text(ANSWER)
        expect(frame.locator("html")).to_have_attribute(
            "lang", re.compile(f"^{language}")
        )
        save_screenshot(page, f"widget-{language}-{device}")
