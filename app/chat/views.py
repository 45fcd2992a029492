"""The JSON shapes of messages and conversation states, for API and streams."""

from __future__ import annotations

from app.db.models import Conversation, Message


def message_json(message: Message, attachment_ids: list[int] | None = None) -> dict:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender": str(message.sender),
        "body": message.body,
        "answered_by": message.answered_by,
        "client_message_id": message.client_message_id,
        "attachment_ids": attachment_ids or [],
        "created_at": message.created_at.isoformat(),
    }


def customer_state(status: str, assigned_agent_id: int | None) -> dict:
    """What the customer may know: the status, and whether a person holds it."""
    return {"status": str(status), "with_agent": assigned_agent_id is not None}


def conversation_state(conversation: Conversation) -> dict:
    return customer_state(conversation.status, conversation.assigned_agent_id)
