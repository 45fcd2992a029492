"""Chat services we recognise by host, and the body each one renders.

Any other URL (your own endpoint, Mattermost, Rocket.Chat, n8n, ...) gets
the whole alert, whose `text` field Slack-style receivers show. A few
services cannot take that: Slack, Google Chat and Discord refuse or drop
fields they do not know, and Feishu (Lark), DingTalk and WeCom need their
own envelope around the text. The last three also answer 200 with an error
code inside when they refuse a message (a keyword or IP check failed), so
their reply is read to tell a refusal from a delivery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


def as_text(text: str) -> dict:
    return {"text": text}


def as_content(text: str) -> dict:
    return {"content": text}


def as_feishu_text(text: str) -> dict:
    return {"msg_type": "text", "content": {"text": text}}


def as_dingtalk_text(text: str) -> dict:
    return {"msgtype": "text", "text": {"content": text}}


@dataclass(frozen=True)
class Receiver:
    name: str
    hosts: tuple[str, ...] = ()
    # None: the whole alert goes as it is.
    envelope: Callable[[str], dict] | None = None
    # The reply field that is 0 when the message was taken.
    error_code_field: str | None = None

    def body(self, alert: dict) -> dict:
        return alert if self.envelope is None else self.envelope(alert["text"])

    def serves(self, host: str) -> bool:
        return any(host == known or host.endswith(f".{known}") for known in self.hosts)

    def refusal(self, reply: bytes) -> str | None:
        """Why a 2xx reply still turned the message down; None if it did not."""
        if self.error_code_field is None:
            return None
        try:
            answer = json.loads(reply)
        except ValueError:
            return None
        if not isinstance(answer, dict):
            return None
        code = answer.get(self.error_code_field) or 0
        if code == 0:
            return None
        message = str(answer.get("errmsg") or answer.get("msg") or "")[:200]
        return f"{self.name} refused it: {self.error_code_field} {code} {message}"


GENERIC = Receiver("generic")
KNOWN_RECEIVERS = (
    Receiver("Slack", ("hooks.slack.com",), as_text),
    Receiver("Google Chat", ("chat.googleapis.com",), as_text),
    Receiver("Discord", ("discord.com", "discordapp.com"), as_content),
    Receiver(
        "Feishu", ("open.feishu.cn", "open.larksuite.com"), as_feishu_text, "code"
    ),
    Receiver("DingTalk", ("oapi.dingtalk.com",), as_dingtalk_text, "errcode"),
    Receiver("WeCom", ("qyapi.weixin.qq.com",), as_dingtalk_text, "errcode"),
)


def receiver_for(url: str) -> Receiver:
    host = (urlsplit(url).hostname or "").lower()
    for receiver in KNOWN_RECEIVERS:
        if receiver.serves(host):
            return receiver
    return GENERIC
