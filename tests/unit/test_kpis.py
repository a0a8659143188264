"""Lifecycle parsing, the fold and the KPI queries, on fakes and a SQLite file (no embedder, no Chroma)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.domain import TicketEvent
from agent.graph.sla import SlaConfig
from agent.insights.kpis import Filters, RootCause, compute_kpis, load_root_causes, percentile
from agent.settings import REPO_ROOT
from agent.storage.db import make_engine
from agent.storage.events import EventStore, event_key, fold
from api.cli.backfill import BackfillError, row_events
from api.providers import PayloadError, freshdesk, jira, lifecycle, youtrack, zendesk
from tests.unit.test_webhook_providers import ZENDESK_EVENT

NOW = datetime(2025, 6, 1, tzinfo=UTC)
T0 = datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC)


def ev(kind: str, minutes: float, **fields: object) -> TicketEvent:
    return TicketEvent(source="zendesk", external_id="1", kind=kind, at=T0 + timedelta(minutes=minutes), **fields)  # type: ignore[arg-type]


def test_fold_is_order_independent_and_counts_from_the_creation() -> None:
    events = [ev("status", 60, status="solved"), ev("comment", 30, public=True, actor="agent"), ev("created", 0)]
    for order in (events, events[::-1], [events[1], events[2], events[0]]):
        life = fold(order)
        assert life.created_known and life.first_response_s == 1800 and life.resolution_s == 3600
        assert life.replies == 1 and life.reopens == 0


def test_fold_reopen_private_notes_customer_replies_and_no_created_event() -> None:
    life = fold([
        ev("comment", 5, public=False, actor="agent"),  # an internal note is no response
        ev("comment", 6, public=True, actor="customer"),
        ev("status", 10, status="solved"),
        ev("status", 20, status="open"),
        ev("status", 30, status="closed"),
    ])  # fmt: skip
    assert not life.created_known and life.created_at == T0 + timedelta(minutes=5)  # from the events alone
    assert life.first_response_at is None and life.reopens == 1 and life.resolution_s == 25 * 60


def test_auto_resolution_durability_ignores_the_write_back_echo() -> None:
    ours = [ev("created", 0), ev("comment", 1, public=True, actor="service"),
            ev("status", 1, status="solved", actor="service", attributes={"resolution": "auto"})]  # fmt: skip
    echo = [ev("comment", 1.2, public=True, actor="agent"), ev("assigned", 1.5, to_human=True)]
    life = fold([*ours, *echo])
    assert life.auto_resolved_at is not None and life.auto_undone_at is None and life.replies == 1
    later = fold([*ours, ev("assigned", 60 * 24 * 2, to_human=True)])
    assert later.auto_undone_s == 60 * 24 * 2 * 60 - 60
    # the system's echo of our solve may come first: still our auto-resolution
    first = fold([ev("created", 0), ev("status", 1, status="solved"),
                  ev("status", 1.1, status="solved", actor="service", attributes={"resolution": "auto"})])  # fmt: skip
    assert first.auto_resolved_at == T0 + timedelta(minutes=1)


def test_event_keys_are_stable_and_times_count_only_when_given() -> None:
    a = ev("status", 1, status="solved", time_known=False)
    b = a.model_copy(update={"at": a.at + timedelta(seconds=30)})
    assert event_key(a) == event_key(b)  # a retry without a system time
    c = ev("status", 1, status="solved")
    assert event_key(c) != event_key(c.model_copy(update={"at": c.at + timedelta(seconds=30)}))
    assert event_key(ev("comment", 0, event_id="x" * 400)).startswith("sha256:")


def test_zendesk_event_webhooks_become_events() -> None:
    comment = {"type": "zen:event-type:ticket.comment_added", "id": "e1", "time": "2025-01-08T14:25:30.123456789Z",
               "detail": {"id": "5158", "created_at": "2025-01-08T10:12:07Z"},
               "event": {"comment": {"id": 9, "is_public": True, "author": {"is_staff": False}}}}  # fmt: skip
    got = zendesk.parse_events(comment, {}, NOW)
    assert got is not None and [e.kind for e in got] == ["created", "comment"]
    assert got[1].actor == "customer" and got[1].time_known and got[1].at.microsecond == 123456
    status = {**copy.deepcopy(ZENDESK_EVENT), "type": "zen:event-type:ticket.status_changed",
              "event": {"current": "PENDING", "previous": "OPEN"}}  # fmt: skip
    parsed = zendesk.parse_events(status, {}, NOW)
    assert parsed is not None and parsed[-1].status == "pending"
    group = {**status, "type": "zen:event-type:ticket.group_assignment_changed", "event": {"current": "360001"}}
    assigned = zendesk.parse_events(group, {}, NOW)
    assert assigned is not None and assigned[-1].to_human is True
    assert zendesk.parse_events({**status, "type": "zen:event-type:ticket.tags_changed"}, {}, NOW) is None
    with pytest.raises(PayloadError, match="detail"):
        zendesk.parse_events({"type": "zen:event-type:ticket.status_changed", "detail": {"id": None}}, {}, NOW)
    rated = zendesk.parse_events({"event": "satisfaction_rated", "ticket_id": 5158, "rating": "bad"}, {}, NOW)
    assert rated is not None and rated[-1].rating == "bad" and not rated[-1].time_known


def test_jira_changelog_comments_freshdesk_legacy_and_youtrack() -> None:
    hook = {"webhookEvent": "jira:issue_updated", "timestamp": 1736345120000,
            "issue": {"key": "SUP-7", "fields": {"status": {"id": "3", "statusCategory": {"key": "done"}}}},
            "changelog": {"id": "1", "items": [{"field": "status", "to": "3", "toString": "Shipped to customer"},
                                               {"field": "priority", "toString": "Highest"}]}}  # fmt: skip
    got = jira.parse_events(hook, {}, NOW)
    assert got is not None and got[0].status == "solved" and got[1].priority == "urgent"  # by status category
    assert jira.parse_events({**hook, "webhookEvent": "jira:issue_deleted"}, {}, NOW) is None
    legacy = {"freshdesk_webhook": {"ticket_id": "77", "triggered_event": "{status:{from:Open,to:Resolved}}"}}
    fd = freshdesk.parse_events(legacy, {}, NOW)
    assert fd is not None and fd[0].status == "solved" and fd[0].previous == "Open"
    fd_numeric = freshdesk.parse_events({"event": "ticket_updated", "ticket_id": "77", "status": "5"}, {}, NOW)
    assert fd_numeric is not None and fd_numeric[0].status == "closed"
    yt = {"event": "issueUpdated", "idReadable": "SUP-1", "timestamp": 1736345120000,
          "changes": [{"field": "State", "from": "Open", "to": "Wait for Reply"}]}  # fmt: skip
    parsed = youtrack.parse_events(yt, {}, NOW)
    assert parsed is not None and parsed[0].status == "pending"


@pytest.mark.parametrize(
    ("value", "want"),
    [("good", "good"), ("offered", None), (5, "good"), ("3", "bad"), (103, "good"), (100, "bad"), ("4/5", "good"),
     (True, None), ("Extremely Happy", "good")],
)  # fmt: skip
def test_ratings(value: object, want: str | None) -> None:
    assert lifecycle.rating_of(value) == want


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([10], 0.9) == 10
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([0, 10], 0.9) == 9.0


def test_backfill_rows() -> None:
    row = {"id": "A-2", "created_at": "2024-12-03T09:00:00Z", "solved_at": "2024-12-05T09:00:00Z",
           "reopened_at": "2024-12-04T09:00:00Z", "priority": "Medium", "satisfaction": "2"}  # fmt: skip
    life = fold(row_events(row, "zendesk", "x:2"))
    assert life.reopens == 1 and life.resolution_s == 2 * 86400 and life.csat == "bad" and life.priority == "normal"
    with pytest.raises(BackfillError, match="created_at"):
        row_events({"id": "A-3"}, "zendesk", "x:3")
    with pytest.raises(BackfillError, match="solved_at"):
        row_events({"id": "A-3", "created_at": "2024-12-03", "solved_at": "soon"}, "zendesk", "x:3")


def test_root_causes_read_the_fix_date_from_the_rca_documents() -> None:
    causes = {c.id: c for c in load_root_causes(REPO_ROOT / "knowledge" / "demo")}
    assert causes["RCA-004"].status == "fixed" and causes["RCA-004"].fixed_at == datetime(2025, 10, 15, tzinfo=UTC)
    assert causes["RCA-002"].fixed_at is None


def test_kpis_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    store = EventStore(engine)
    fix = datetime(2025, 3, 1, tzinfo=UTC)

    def ticket(n: int, created: datetime, **extra: object) -> list[TicketEvent]:
        base = {"source": "zendesk", "external_id": str(n)}
        out = [TicketEvent(**base, kind="created", at=created, attributes={"tier": "enterprise",  # type: ignore[arg-type]
                           "linked_issue": "RCA-X"}, priority="urgent")]  # fmt: skip
        if extra.get("reply"):
            out.append(TicketEvent(**base, kind="comment", at=created + timedelta(minutes=10), public=True,  # type: ignore[arg-type]
                                   actor="agent"))  # fmt: skip
        if extra.get("solve"):
            out.append(TicketEvent(**base, kind="status", status="solved", at=created + timedelta(hours=2)))  # type: ignore[arg-type]
        return out

    events = [*ticket(1, fix - timedelta(days=3), reply=True, solve=True), *ticket(2, fix - timedelta(days=2)),
              *ticket(3, fix + timedelta(days=1), reply=True)]  # fmt: skip
    assert all(store.record(events)) and not any(store.record(events))
    target = {"first_response": "30m", "resolution": "4h"}
    sla = SlaConfig.model_validate(
        {"targets": {"enterprise": dict.fromkeys(("low", "normal", "high", "urgent"), target)}}
    )
    got = compute_kpis(engine, fix - timedelta(days=10), fix + timedelta(days=10), sla=sla, now=NOW,
                       root_causes=[RootCause("RCA-X", "x", "fixed", fix)])  # fmt: skip
    assert got["tickets_created"] == 3 and got["backlog"] == 2 and got["solved"] == 1
    assert got["first_response_seconds_p50"] == 600 and got["resolution_seconds_p50"] == 7200
    # ticket 1 met both targets; 2 never answered (first response and resolution missing); 3 unresolved past due
    assert got["sla"]["met"] == 1 and got["sla"]["breached"] == 2 and got["sla_adherence_rate"] == 0.3333
    assert got["sla"]["breaches"]["first_response_missing"] == 1 and got["sla"]["breaches"]["resolution_missing"] == 2
    rca = got["root_causes"][0]
    assert rca["new_tickets_before_fix"] == 2 and rca["new_tickets_after_fix"] == 1 and rca["tickets_linked"] == 3
    none = compute_kpis(engine, fix, fix + timedelta(days=1), filters=Filters(tier="standard"), now=NOW)
    assert none["tickets_created"] == 0 and none["ai_triaged_rate"] is None
    engine.dispose()
