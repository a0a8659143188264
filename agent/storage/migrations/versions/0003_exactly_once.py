"""Exactly once, by ticket and by write: `tickets.external_key` with a unique index on (source,
external_key), so the same source ticket under another delivery id is one ticket; `writebacks.owner`
and `writebacks.lease_until`, so a pending write-back step is a claim held by a live owner.

Existing rows: the oldest ticket of each (source, external_id) gets the key (later duplicates, made
before this revision, keep NULL and stay as they are); every pending step gets no owner, so it is
retaken at once (it was in flight when its process died: the marker look-up decides whether it
landed).

Revision ID: 0003_exactly_once
Revises: 0002_ticket_events
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "0003_exactly_once"
down_revision: str | Sequence[str] | None = "0002_ticket_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the oldest ticket of each (source, external_id) with a non-empty external id
_BACKFILL = """
update tickets set external_key = external_id
where external_id <> '' and id = (
    select t2.id from tickets t2
    where t2.source = tickets.source and t2.external_id = tickets.external_id
    order by t2.created_at, t2.id
    limit 1
)
"""


def _columns(table: str) -> set[str]:
    """A database adopted at the baseline (its alembic_version lost) may have these columns already."""
    if context.is_offline_mode():
        return set()
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _indexes(table: str) -> set[str]:
    if context.is_offline_mode():
        return set()
    return {str(i["name"]) for i in sa.inspect(op.get_bind()).get_indexes(table)}


def upgrade() -> None:
    if "external_key" not in _columns("tickets"):
        with op.batch_alter_table("tickets", schema=None) as batch_op:
            batch_op.add_column(sa.Column("external_key", sa.String(length=255), nullable=True))
        op.execute(sa.text(_BACKFILL))
    if "uq_ticket_external" not in _indexes("tickets"):
        with op.batch_alter_table("tickets", schema=None) as batch_op:
            batch_op.create_index("uq_ticket_external", ["source", "external_key"], unique=True)
    have = _columns("writebacks")
    with op.batch_alter_table("writebacks", schema=None) as batch_op:
        if "owner" not in have:
            batch_op.add_column(sa.Column("owner", sa.String(length=96), nullable=True))
        if "lease_until" not in have:
            batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("writebacks", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("owner")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("uq_ticket_external")
        batch_op.drop_column("external_key")
