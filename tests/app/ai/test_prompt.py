from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.ai import build_prompt, stream_reply
from app.ai.handoff import HANDOFF_MARKER
from app.ai.prompt import FAQ_TOKEN_CAP, INPUT_TOKEN_BUDGET
from app.ai.tokens import estimate_tokens
from appliance.settings import Settings


@dataclass
class Turn:
    sender: str
    body: str


@dataclass
class Match:
    question: str
    answer: str
    score: float


MATCHES = [
    Match("退货政策是什么？", "收货后 7 天内可无理由退货。", 0.9),
    Match("How long does delivery take?", "Two to four working days.", 0.6),
]


def prompt_tokens(messages: list[dict]) -> int:
    return sum(estimate_tokens(message["content"]) + 4 for message in messages)


def test_system_message_grounds_in_faq_best_first_and_explains_handoff(data_dir):
    messages = build_prompt(
        Settings(data_dir=data_dir, APP_NAME="Sunny Shop"),
        [Turn("customer", "可以退货吗？")],
        MATCHES,
        "zh",
    )

    system = messages[0]
    assert system["role"] == "system"
    assert "Sunny Shop" in system["content"]
    assert "Chinese" in system["content"]
    assert HANDOFF_MARKER in system["content"]
    first = system["content"].index("退货政策是什么？")
    assert system["content"].index("收货后 7 天内可无理由退货。") > first
    assert system["content"].index("How long does delivery take?") > first
    assert messages[-1] == {"role": "user", "content": "可以退货吗？"}


def test_history_senders_map_to_roles_newest_last(data_dir):
    history = [
        Turn("customer", "Hi"),
        Turn("assistant", "Hello! How can I help?"),
        Turn("system", "Conversation handed to an agent."),
        Turn("agent", "This is Lee from support."),
        Turn("customer", "Where is my parcel?"),
    ]

    messages = build_prompt(Settings(data_dir=data_dir), history, [], "en")

    assert [m["role"] for m in messages[1:]] == [
        "user",
        "assistant",
        "system",
        "assistant",
        "user",
    ]
    assert [m["content"] for m in messages[1:]] == [turn.body for turn in history]
    assert "no entry matches" in messages[0]["content"]


def test_long_history_is_trimmed_from_the_oldest_to_the_budget(data_dir):
    history = [
        Turn("customer", f"第{n}个问题：" + "很长的描述" * 40) for n in range(60)
    ]

    messages = build_prompt(Settings(data_dir=data_dir), history, MATCHES, "zh")

    kept = messages[1:]
    assert prompt_tokens(messages) <= INPUT_TOKEN_BUDGET
    assert 5 < len(kept) < len(history)
    assert [m["content"] for m in kept] == [t.body for t in history[-len(kept) :]]


def test_newest_message_longer_than_the_budget_is_cut_not_dropped(data_dir):
    huge = "請幫我看看這個訂單" * 1000

    messages = build_prompt(
        Settings(data_dir=data_dir), [Turn("customer", huge)], [], "zh"
    )

    assert len(messages) == 2
    assert huge.startswith(messages[1]["content"])
    assert prompt_tokens(messages) <= INPUT_TOKEN_BUDGET


def test_faq_block_is_capped_and_keeps_the_best_entries(data_dir):
    matches = [Match(f"问题{n}", "答案" * 200, 1 - n / 100) for n in range(30)]

    system = build_prompt(Settings(data_dir=data_dir), [], matches, "zh")[0]

    assert "问题0" in system["content"]
    assert "问题29" not in system["content"]
    assert estimate_tokens(system["content"]) <= FAQ_TOKEN_CAP + 300


async def test_prompt_reaches_the_provider_unchanged(data_dir: Path, fake_llm):
    settings = Settings(data_dir=data_dir, **fake_llm.env("OPENAI"))
    messages = build_prompt(settings, [Turn("customer", "退货？")], MATCHES, "zh")

    [event async for event in stream_reply(settings, messages)]

    sent = fake_llm.last_request["messages"]
    assert sent == messages
    assert "收货后 7 天内可无理由退货。" in sent[0]["content"]
