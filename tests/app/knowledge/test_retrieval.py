"""Customer questions find the entry that answers them, on both engines."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlmodel import select

from app.db.models import FaqEntry
from app.db.session import session_scope
from app.knowledge.entries import FaqDraft, save_drafts
from app.knowledge.retrieval import (
    FaqIndexCache,
    FaqMatch,
    best_answer,
    search_faq,
)
from tests.support.waiting import wait_until

PARAPHRASES = [
    ("多久能发货", "多久发货？"),
    ("密码忘了", "忘记密码怎么办？"),
    ("发票怎么开", "怎么开发票？"),
    ("我想退货", "如何退货退款？"),
    ("how long does delivery take", "How long does shipping take?"),
    ("can I get a refund?", "How do I return an item for a refund?"),
    ("how do I reach support", "How can I contact customer support?"),
    ("I need an invoice", "How do I get an invoice?"),
]
UNRELATED = [
    "今天天气怎么样",
    "你们卖手机吗",
    "价格多少",
    "what is the weather in Paris",
    "do you sell bicycles",
    "I want to cancel my subscription",
]


def rename_entry(settings, old_question: str, new_question: str) -> None:
    with session_scope(settings, write=True) as session:
        statement = select(FaqEntry).where(FaqEntry.question == old_question)
        entry = session.exec(statement).one()
        save_drafts(
            session,
            [FaqDraft(new_question, entry.answer, tuple(entry.tags), entry.language)],
        )
        session.delete(entry)


@pytest.mark.parametrize(("question", "expected"), PARAPHRASES)
def test_paraphrased_questions_match_their_entry_above_the_threshold(
    demo_faq, question, expected
):
    match = best_answer(demo_faq, question, "zh")

    assert match is not None, search_faq(demo_faq, question)
    assert match.question == expected
    assert match.score >= demo_faq.faq_match_threshold


@pytest.mark.parametrize("question", UNRELATED)
def test_unrelated_questions_stay_below_the_threshold(demo_faq, question):
    matches = search_faq(demo_faq, question)

    assert best_answer(demo_faq, question, "en") is None
    assert all(match.score < demo_faq.faq_match_threshold for match in matches)


def test_scores_and_order_are_the_same_on_every_engine(demo_faq):
    # Each engine's run compares against the same literal ranking.
    matches = search_faq(demo_faq, "how long does delivery take", limit=2)

    assert [match.question for match in matches] == [
        "How long does shipping take?",
        "How do I return an item for a refund?",
    ]
    assert [match.score for match in matches] == [0.7241, 0.1461]


def test_a_match_carries_the_whole_entry(demo_faq):
    match = search_faq(demo_faq, "多久能发货", "zh", limit=1)[0]

    assert isinstance(match, FaqMatch)
    assert match.answer.startswith("付款后 24 小时内发货")
    assert match.language == "zh"
    assert match.tags == ("demo", "发货")
    assert 0 < match.score <= 1


def test_the_customers_language_wins_a_tie(migrated_database):
    with session_scope(migrated_database, write=True) as session:
        save_drafts(
            session,
            [
                FaqDraft("WiFi password?", "It is on the router.", (), "en"),
                FaqDraft("WiFi password?", "在路由器背面。", (), "zh"),
            ],
        )

    in_chinese = search_faq(migrated_database, "wifi password", "zh")
    in_english = search_faq(migrated_database, "wifi password", "en")

    assert [match.language for match in in_chinese] == ["zh", "en"]
    assert [match.language for match in in_english] == ["en", "zh"]
    assert in_chinese[0].score == in_chinese[1].score


def test_an_empty_faq_or_an_empty_question_matches_nothing(migrated_database):
    assert search_faq(migrated_database, "多久能发货") == []
    assert best_answer(migrated_database, "", "zh") is None


def test_an_edit_is_seen_only_after_the_recheck_interval(demo_faq):
    now = [100.0]
    cache = FaqIndexCache(clock=lambda: now[0], recheck_interval=1.0)
    assert cache.index_for(demo_faq).score("refund policy")  # index built

    rename_entry(demo_faq, "How do I get an invoice?", "What is your refund policy?")
    now[0] += 0.5
    before = top_question(cache.index_for(demo_faq).score("refund policy"))
    now[0] += 0.5
    after = top_question(cache.index_for(demo_faq).score("refund policy"))

    assert before == "How do I return an item for a refund?"
    assert after == "What is your refund policy?"


def top_question(scored) -> str:
    return max(scored, key=lambda item: item.score).entry.question


def test_search_sees_an_edit_from_another_worker_within_a_few_seconds(demo_faq):
    assert search_faq(demo_faq, "do you ship abroad") != []  # cached now

    rename_entry(demo_faq, "How long does shipping take?", "Do you ship abroad?")

    wait_until(
        lambda: search_faq(demo_faq, "do you ship abroad")[0].score == 1.0,
        timeout=5,
        message="the renamed entry matching",
    )


def test_best_answer_counts_hits_and_misses(demo_faq):
    def lookups(outcome: str) -> float:
        value = REGISTRY.get_sample_value(
            "customer_service_faq_lookups_total", {"outcome": outcome}
        )
        return value or 0.0

    hits, misses = lookups("hit"), lookups("miss")
    best_answer(demo_faq, "多久能发货", "zh")
    best_answer(demo_faq, "今天天气怎么样", "zh")
    best_answer(demo_faq, "今天天气怎么样", "zh")

    assert lookups("hit") == hits + 1
    assert lookups("miss") == misses + 2
