"""Baseline: the tables as they were before migrations (tickets, audit, reviews, api_keys, writebacks).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-01

A database made before migrations existed holds some of these tables (each store ran its own
`create_all`) and no `alembic_version`. This revision adopts it: a table that is already there is
kept with its rows (after checking it has every column below: the models never changed before
this revision) and only the missing tables are created. Later revisions are plain Alembic ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "0001_baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(name: str, *items: sa.Column[Any] | sa.Constraint, indexes: Sequence[str] = ()) -> None:
    """Create a table and its single-column indexes, unless a pre-migration database has it already."""
    if not context.is_offline_mode():
        inspector = sa.inspect(op.get_bind())
        if inspector.has_table(name):
            found = {c["name"] for c in inspector.get_columns(name)}
            missing = [c.name for c in items if isinstance(c, sa.Column) and c.name not in found]
            if missing:
                raise RuntimeError(
                    f"table {name!r} exists but has no column(s) {', '.join(missing)}: it was not made by this "
                    "service; use an empty database (or schema) for TRIAGE_DATABASE_URL"
                )
            return
    op.create_table(name, *items)
    with op.batch_alter_table(name) as batch_op:
        for column in indexes:
            batch_op.create_index(batch_op.f(f"ix_{name}_{column}"), [column], unique=False)


def upgrade() -> None:
    _create(
        "tickets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("tickets_pkey")),
        sa.UniqueConstraint("source", "delivery_id", name="uq_ticket_delivery"),
        indexes=("external_id", "status"),
    )
    _create(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("audit_ticket_id_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("audit_pkey")),
        indexes=("ticket_id",),
    )
    _create(
        "reviews",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("draft_text", sa.Text(), nullable=False),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("reviews_pkey")),
    )
    _create(
        "api_keys",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("api_keys_pkey")),
    )
    _create(
        "writebacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("writebacks_pkey")),
        sa.UniqueConstraint("ticket_id", "step", name="uq_writeback_step"),
        indexes=("status", "ticket_id"),
    )


def downgrade() -> None:
    for name in ("writebacks", "api_keys", "reviews", "audit", "tickets"):
        op.drop_table(name)  # their indexes go with them
