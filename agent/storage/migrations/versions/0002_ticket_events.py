"""Ticket lifecycle: `ticket_events` (every event once, by source + event key) and `ticket_lifecycle`
(one summary row per ticket, folded from its events; agent/storage/events.py). New tables only.

Revision ID: 0002_ticket_events
Revises: 0001_baseline
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "0002_ticket_events"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exists(name: str) -> bool:
    """A database adopted at the baseline (its alembic_version lost) may have these tables already."""
    return not context.is_offline_mode() and sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if not _exists("ticket_events"):
        _events()
    if not _exists("ticket_lifecycle"):
        _lifecycle()


def _events() -> None:
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("ticket_events_pkey")),
        sa.UniqueConstraint("source", "event_key", name="uq_ticket_event"),
    )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_events_ticket", ["source", "external_id", "at"], unique=False)


def _lifecycle() -> None:
    op.create_table(
        "ticket_lifecycle",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_known", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_by", sa.String(length=16), nullable=True),
        sa.Column("first_response_s", sa.Integer(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("first_solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_s", sa.Integer(), nullable=True),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("last_reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("human_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ai_triaged", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("auto_resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_undone_s", sa.Integer(), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=True),
        sa.Column("tier", sa.String(length=40), nullable=True),
        sa.Column("support_tier", sa.String(length=8), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("linked_issue", sa.String(length=64), nullable=True),
        sa.Column("csat", sa.String(length=8), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "external_id", name=op.f("ticket_lifecycle_pkey")),
    )
    with op.batch_alter_table("ticket_lifecycle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_lifecycle_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_ticket_lifecycle_linked_issue", ["linked_issue", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_lifecycle", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_lifecycle_linked_issue")
        batch_op.drop_index(batch_op.f("ix_ticket_lifecycle_created_at"))

    op.drop_table("ticket_lifecycle")
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_events_ticket")

    op.drop_table("ticket_events")
