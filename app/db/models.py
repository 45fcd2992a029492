"""The product's tables. Change them only together with a new migration.

Choices are stored as short strings with a CHECK constraint rather than as
database enums: adding a status later is then one constraint swap, and
PostgreSQL's enum types cannot be altered inside a transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

# Stable constraint names, so later migrations can drop or alter them by name
# (SQLite's batch mode recreates tables and needs them too).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both engines.

    SQLite has no time zone type and returns naive values; this stores UTC
    and hands back aware UTC datetimes, as PostgreSQL's timestamptz does.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def choice_check(column: str, choices: type[StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{choice.value}'" for choice in choices)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


def created_at_field(index: bool = False) -> datetime:
    return Field(
        default_factory=utc_now, sa_type=UTCDateTime, nullable=False, index=index
    )


def updated_at_field() -> datetime:
    return Field(
        default_factory=utc_now,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utc_now},
    )


class UserRole(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


class MessageSender(StrEnum):
    CUSTOMER = "customer"
    ASSISTANT = "assistant"
    AGENT = "agent"
    SYSTEM = "system"


class User(SQLModel, table=True):
    """An agent or admin who signs in to the admin pages."""

    __tablename__ = "users"
    __table_args__ = (choice_check("role", UserRole),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(320), unique=True)
    password_hash: str = Field(sa_type=String(255))
    role: UserRole = Field(default=UserRole.AGENT, sa_type=String(16))
    is_active: bool = True
    created_at: datetime = created_at_field()
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Conversation(SQLModel, table=True):
    """One customer's chat.

    The customer holds a bearer token for it; only its SHA-256 is stored, so
    a leaked database does not let anyone read conversations as the customer.
    """

    __tablename__ = "conversations"
    __table_args__ = (choice_check("status", ConversationStatus),)

    id: int | None = Field(default=None, primary_key=True)
    public_token_hash: str = Field(sa_type=String(64), unique=True)
    status: ConversationStatus = Field(
        default=ConversationStatus.OPEN, sa_type=String(16), index=True
    )
    language: str = Field(default="zh", sa_type=String(16))
    assigned_agent_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    # Why it waits for a person: "customer_asked", "model_asked",
    # "providers_failed", "no_answer"; None while the assistant answers.
    handoff_reason: str | None = Field(default=None, sa_type=String(32))
    last_message_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, index=True
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        choice_check("sender", MessageSender),
        UniqueConstraint("conversation_id", "client_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(
        foreign_key="conversations.id", ondelete="CASCADE", index=True
    )
    sender: MessageSender = Field(sa_type=String(16))
    body: str = Field(sa_type=Text)
    # The agent who wrote it, for sender "agent".
    author_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    # What produced an assistant reply: "openai", "deepseek", "faq", "fallback".
    answered_by: str | None = Field(default=None, sa_type=String(32))
    # Chosen by the customer's browser, so a retried send is stored once.
    client_message_id: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = created_at_field(index=True)


class FaqEntry(SQLModel, table=True):
    """A question and answer the assistant falls back to without a model."""

    __tablename__ = "faq_entries"

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(sa_type=Text)
    answer: str = Field(sa_type=Text)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    language: str = Field(default="zh", sa_type=String(16))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class UserSession(SQLModel, table=True):
    """A signed-in agent's session; its id travels inside the JWT.

    Kept in the database so every worker sees the same idle timer and a
    logout or a password reset ends the session everywhere at once.
    """

    __tablename__ = "user_sessions"

    id: str = Field(sa_type=String(64), primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    created_at: datetime = created_at_field()
    last_seen_at: datetime = created_at_field()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per account ("email:...") or address ("ip:...")."""

    __tablename__ = "login_throttles"

    key: str = Field(sa_type=String(400), primary_key=True)
    failures: int = 0
    first_failure_at: datetime = created_at_field()
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """An uploaded image, re-encoded and stored under a generated name."""

    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(
        foreign_key="conversations.id", ondelete="CASCADE", index=True
    )
    message_id: int | None = Field(
        default=None, foreign_key="messages.id", ondelete="SET NULL", index=True
    )
    stored_name: str = Field(sa_type=String(64), unique=True)
    content_type: str = Field(sa_type=String(64))
    size_bytes: int
    width: int
    height: int
    sha256: str = Field(sa_type=String(64))
    created_at: datetime = created_at_field()
