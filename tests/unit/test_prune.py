"""`triage prune` on the embedded SQLite: checkpoints of tickets finished longer ago than the
retention period go; paused, queued and recent tickets keep theirs (real SQLite ticket store and
LangGraph SqliteSaver; no embedder, no Chroma). PostgreSQL: tests/integration/test_scaled_pg.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from sqlalchemy import update
from typer.testing import CliRunner

from agent.domain import utcnow
from agent.runtime.assembly import close_checkpointer, prune_checkpoints, sqlite_checkpointer
from agent.settings import Settings
from agent.storage import open_database
from agent.storage.tickets import TicketRow, TicketStore
from api.cli import app
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, database_url=f"sqlite:///{tmp_path / 'triage.db'}", checkpoint_db=tmp_path / "ck.sqlite"
    )


def _ticket(store: TicketStore, name: str, status: str | None, days_ago: float) -> str:
    """A ticket in `status` (None: still queued), last changed `days_ago`."""
    ticket_id, _ = store.create_or_get("generic", name, {"external_id": name, "subject": "s", "body": "b"})
    if status is not None:
        claimed = store.claim("w", 60)
        assert claimed is not None and claimed.id == ticket_id
        assert store.complete(ticket_id, "w", status, None, [])  # type: ignore[arg-type]
    with store.writing() as s:
        s.execute(
            update(TicketRow).where(TicketRow.id == ticket_id).values(updated_at=utcnow() - timedelta(days=days_ago))
        )
    return ticket_id


def _checkpoint(settings: Settings, thread_id: str, n: int = 3) -> None:
    """`n` checkpoints and one pending write on the thread, through the real saver."""
    saver = sqlite_checkpointer(settings)
    config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    try:
        for step in range(n):
            ck = empty_checkpoint()
            config = saver.put(config, ck, {"source": "loop", "step": step}, {})
        saver.put_writes(config, [("audit", ["x"])], task_id="t1")
    finally:
        close_checkpointer(saver)


def _has_checkpoints(settings: Settings, thread_id: str) -> bool:
    saver = sqlite_checkpointer(settings)
    try:
        return saver.get_tuple({"configurable": {"thread_id": thread_id}}) is not None
    finally:
        close_checkpointer(saver)


def test_prune_deletes_only_checkpoints_of_tickets_finished_before_the_cutoff(settings: Settings) -> None:
    store = open_database(settings.db_url)
    old_done = _ticket(store, "a", "done", 10)
    old_handed = _ticket(store, "b", "handed_off", 10)
    old_failed = _ticket(store, "c", "failed", 10)
    old_paused = _ticket(store, "d", "awaiting_review", 10)
    old_wb_failed = _ticket(store, "e", "writeback_failed", 10)
    recent_done = _ticket(store, "f", "done", 1)
    no_checkpoint = _ticket(store, "h", "done", 10)  # finished, never checkpointed (a dry run)
    queued = _ticket(store, "g", None, 10)  # last: `claim` takes the oldest queued one
    everyone = [old_done, old_handed, old_failed, old_paused, old_wb_failed, recent_done, queued]
    for t in everyone:
        _checkpoint(settings, t)

    dry = prune_checkpoints(settings, store.engine, older_than_days=7, dry_run=True)
    assert (dry.tickets, dry.checkpoints, dry.writes, dry.dry_run) == (3, 9, 3, True)
    assert all(_has_checkpoints(settings, t) for t in everyone)  # a dry run deletes nothing

    report = prune_checkpoints(settings, store.engine, older_than_days=7)
    assert (report.tickets, report.checkpoints, report.writes, report.dry_run) == (3, 9, 3, False)
    gone = {old_done, old_handed, old_failed}
    for t in everyone:
        assert _has_checkpoints(settings, t) == (t not in gone), t
    assert store.get(old_done)["status"] == "done"  # type: ignore[index] # the ticket and its result stay
    assert no_checkpoint not in gone

    again = prune_checkpoints(settings, store.engine, older_than_days=7)
    assert (again.tickets, again.checkpoints) == (0, 0)
    # a shorter retention takes the recent one too
    assert prune_checkpoints(settings, store.engine, older_than_days=0.5).tickets == 1
    store.engine.dispose()


def test_prune_command_prints_what_it_removed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_database(settings.db_url)
    finished = _ticket(store, "a", "done", 30)
    _checkpoint(settings, finished, n=2)
    store.engine.dispose()
    for key, value in {
        "TRIAGE_DATABASE_URL": settings.db_url,
        "TRIAGE_CHECKPOINT_DB": str(settings.checkpoint_path),
        "TRIAGE_CHECKPOINT_RETENTION_DAYS": "14",
    }.items():
        monkeypatch.setenv(key, value)
    from agent.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        dry = runner.invoke(app, ["prune", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "would remove 2 checkpoint(s) and 1 pending write(s) of 1 ticket(s)" in dry.output
        assert "older than 14 days" in dry.output  # the retention setting
        done = runner.invoke(app, ["prune", "--older-than", "20"])
        assert done.exit_code == 0 and "removed 2 checkpoint(s)" in done.output, done.output
        assert not _has_checkpoints(settings, finished)
        nothing = runner.invoke(app, ["prune", "--older-than", "20"])
        assert "removed 0 checkpoint(s)" in nothing.output
        bad = runner.invoke(app, ["prune", "--older-than", "-1"])
        assert bad.exit_code == 2  # a negative retention is refused, not run
    finally:
        get_settings.cache_clear()
