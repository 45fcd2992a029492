"""Chat, accounts and uploads: sessions, sign-in throttles, attachments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    extend_conversations()
    extend_messages()
    create_user_sessions()
    create_login_throttles()
    create_attachments()


def extend_conversations() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("handoff_reason", sa.String(32), nullable=True))
        batch.add_column(sa.Column("last_message_at", TIMESTAMP, nullable=True))
        batch.create_index("ix_conversations_last_message_at", ["last_message_at"])


def extend_messages() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.String(32), nullable=True))
        batch.add_column(sa.Column("client_message_id", sa.String(64), nullable=True))
        batch.create_foreign_key(
            "fk_messages_author_id_users",
            "users",
            ["author_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_unique_constraint(
            "uq_messages_conversation_id_client_message_id",
            ["conversation_id", "client_message_id"],
        )


def create_user_sessions() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_user_sessions_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])


def create_login_throttles() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", TIMESTAMP, nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttles"),
    )


def create_attachments() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
        sa.UniqueConstraint("stored_name", name="uq_attachments_stored_name"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_attachments_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_attachments_message_id_messages",
            ondelete="SET NULL",
        ),
    )
    op.create_index(
        "ix_attachments_conversation_id", "attachments", ["conversation_id"]
    )
    op.create_index("ix_attachments_message_id", "attachments", ["message_id"])


def downgrade() -> None:
    op.drop_table("attachments")
    op.drop_table("login_throttles")
    op.drop_table("user_sessions")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(
            "uq_messages_conversation_id_client_message_id", type_="unique"
        )
        batch.drop_constraint("fk_messages_author_id_users", type_="foreignkey")
        batch.drop_column("client_message_id")
        batch.drop_column("answered_by")
        batch.drop_column("author_id")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_last_message_at")
        batch.drop_column("last_message_at")
        batch.drop_column("handoff_reason")
