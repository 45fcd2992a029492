"""A small bilingual FAQ, so a new install answers something at once.

Loaded by the first run of an empty database; every entry carries the tag
"demo", and `DELETE /api/v1/admin/faq/demo` removes them all.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from app.db.models import FaqEntry
from app.db.session import session_scope
from app.knowledge.entries import FaqDraft, delete_tagged, save_drafts
from appliance.settings import Settings

logger = logging.getLogger(__name__)

DEMO_TAG = "demo"

# (language, question, answer, topic tag)
DEMO_ENTRIES = (
    (
        "zh",
        "多久发货？",
        "付款后 24 小时内发货，快递一般 2 到 5 天送达。",
        "发货",
    ),
    (
        "zh",
        "如何退货退款？",
        "签收后 7 天内可在订单页申请退货，退款在收到退货后 3 个工作日内原路退回。",
        "退货",
    ),
    (
        "zh",
        "客服营业时间是几点？",
        "人工客服每天 9:00 至 21:00 在线，其他时间可以留言。",
        "营业时间",
    ),
    (
        "zh",
        "怎么联系客服？",
        "在本页面直接留言，或发邮件至 support@example.com，或拨打 400-000-0000。",
        "联系",
    ),
    (
        "zh",
        "支持哪些付款方式？",
        "支持微信支付、支付宝和银行卡。",
        "付款",
    ),
    (
        "zh",
        "怎么查询物流进度？",
        "在“我的订单”中打开订单即可看到物流单号和最新进度。",
        "物流",
    ),
    (
        "zh",
        "忘记密码怎么办？",
        "在登录页点击“忘记密码”，按短信或邮件中的链接重设密码。",
        "账户",
    ),
    (
        "zh",
        "怎么开发票？",
        "在订单详情页点击“申请发票”，填写抬头和税号，电子发票会发到您的邮箱。",
        "发票",
    ),
    (
        "en",
        "How long does shipping take?",
        "Orders ship within 24 hours of payment; delivery usually takes 2 to 5 days.",
        "shipping",
    ),
    (
        "en",
        "How do I return an item for a refund?",
        "Request a return from the order page within 7 days of delivery; "
        "refunds reach your original payment method within 3 business days "
        "of our receiving it.",
        "returns",
    ),
    (
        "en",
        "What are your opening hours?",
        "Our agents are online every day from 9:00 to 21:00; outside those "
        "hours, leave a message.",
        "hours",
    ),
    (
        "en",
        "How can I contact customer support?",
        "Leave a message on this page, email support@example.com, or call "
        "400-000-0000.",
        "contact",
    ),
    (
        "en",
        "Which payment methods do you accept?",
        "We accept WeChat Pay, Alipay and bank cards.",
        "payment",
    ),
    (
        "en",
        "How do I track my order?",
        "Open the order under My Orders to see its tracking number and latest status.",
        "tracking",
    ),
    (
        "en",
        "I forgot my password. How do I reset it?",
        "Click Forgot password on the sign-in page and follow the link we "
        "send by text or email.",
        "account",
    ),
    (
        "en",
        "How do I get an invoice?",
        "Click Request invoice on the order details page and enter the "
        "billing name and tax number; the e-invoice is emailed to you.",
        "invoice",
    ),
)


def demo_drafts() -> list[FaqDraft]:
    return [
        FaqDraft(question, answer, (DEMO_TAG, topic), language)
        for language, question, answer, topic in DEMO_ENTRIES
    ]


def load_demo_faq(settings: Settings, fresh: bool) -> None:
    """First-run step: fill an empty FAQ on a new database with the demo."""
    if not fresh:
        return
    with session_scope(settings, write=True) as session:
        if session.scalar(select(func.count()).select_from(FaqEntry)):
            return
        counts = save_drafts(session, demo_drafts())
    logger.info("demo FAQ loaded: %d entries tagged %r", counts.created, DEMO_TAG)


def remove_demo_faq(settings: Settings) -> int:
    with session_scope(settings, write=True) as session:
        removed = delete_tagged(session, DEMO_TAG)
    logger.info("demo FAQ removed: %d entries", removed)
    return removed
