"""Retries against real HTTP (429 + Retry-After, 503, exhausted budgets, refused connections) and the
idempotency ledger (a replayed plan posts once; a failed step is visible and retried later)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from agent.runtime.writeback import systems_config
from agent.storage.ledger import Ledger
from tests.conftest import make_settings
from tests.netutil import free_port
from tools.http import TransientWriteBackError, WriteBackConfigError
from tools.ticketing import WriteBackPlan, apply, build_systems
from tools.ticketing.base import ZendeskConfig
from tools.ticketing.testing import FAST_RETRY, FakeFreshdesk, FakeJira, FakeYouTrack, FakeZendesk
from tools.ticketing.zendesk import Zendesk

pytestmark = pytest.mark.integration
PG_URL = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def zd() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        fake.seed("123", tags=["vip"])
        yield fake


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.from_url(f"sqlite:///{tmp_path / 'triage.db'}")


def _plan(**over: object) -> WriteBackPlan:
    values: dict[str, object] = {
        "ticket_id": uuid.uuid4().hex,
        "external_id": "123",
        "action": "auto_resolve",
        "reply": "Here is how to fix it [KB-009].",
        "note": "AI triage: payslips (0.97)",
        "priority": "normal",
        "tags": ["ai_triaged"],
    }
    values.update(over)
    return WriteBackPlan.model_validate(values)


def test_429_retry_after_is_honoured(zd: FakeZendesk) -> None:
    zd.inject(429, retry_after="1")
    started = time.monotonic()
    zd.adapter().add_note("123", "hello")
    elapsed = time.monotonic() - started
    assert [r.status for r in zd.requests] == [429, 200]
    assert elapsed >= 0.95  # the test backoff alone is ~0.02 s: this is the server's Retry-After
    assert zd.requests[1].at - zd.requests[0].at >= 0.95


def test_503_is_retried_then_succeeds(zd: FakeZendesk) -> None:
    zd.inject(503, times=2)
    zd.adapter().set_priority("123", "high")
    assert [r.status for r in zd.requests] == [503, 503, 200]
    assert zd.tickets["123"]["priority"] == "high"


def test_without_retries_the_same_503_fails(zd: FakeZendesk) -> None:
    """The control for the test above: with one attempt allowed the injected 503 is fatal."""
    zd.inject(503)
    with pytest.raises(TransientWriteBackError):
        zd.adapter(retry=FAST_RETRY.model_copy(update={"max_attempts": 1})).set_priority("123", "high")
    assert len(zd.requests) == 1


def test_plan_runs_in_order_and_replaying_it_posts_nothing_twice(zd: FakeZendesk, ledger: Ledger) -> None:
    system = zd.adapter()
    plan = _plan()
    first = apply(plan, system, ledger)
    assert first.ok and [(o.step, o.status) for o in first.outcomes] == [
        ("reply", "done"),
        ("note", "done"),
        ("priority", "done"),
        ("tags", "done"),
        ("resolve", "done"),
    ]
    assert len(zd.calls) == 5
    again = apply(plan, system, ledger)  # a resumed/replayed graph node
    assert again.ok and {o.status for o in again.outcomes} == {"skipped"}
    assert len(zd.requests) == 5  # nothing sent the second time
    assert [c["public"] for c in zd.tickets["123"]["comments"]] == [True, False]
    assert zd.tickets["123"]["status"] == "solved"


def test_exhausted_budget_is_recorded_and_retried_later(ledger: Ledger) -> None:
    with FakeFreshdesk() as fd:
        fd.seed("123")
        system = fd.adapter()
        plan = _plan()
        fd.inject(503, times=4, path_contains="/notes")  # FAST_RETRY allows 4 attempts
        report = apply(plan, system, ledger)
        assert not report.ok and report.retryable
        assert [(o.step, o.status) for o in report.outcomes] == [
            ("reply", "done"),
            ("note", "failed"),
            ("priority", "not_run"),
            ("tags", "not_run"),
            ("resolve", "not_run"),
        ]
        assert "gave up after 4 attempt(s)" in (report.outcomes[1].error or "")
        assert len(fd.requests) == 5 and fd.tickets["123"]["status"] == 2  # not resolved without its note
        failed = ledger.failed(plan.ticket_id)
        assert [(f.step, f.status, f.retryable, f.attempts) for f in failed] == [("note", "failed", True, 1)]
        assert plan.ticket_id in [f.ticket_id for f in ledger.failed()]

        fd.reset()
        retried = apply(plan, system, ledger)  # later, the system is healthy again
        assert retried.ok
        assert [(o.step, o.status) for o in retried.outcomes][:2] == [("reply", "skipped"), ("note", "done")]
        assert [c.path.rsplit("/", 1)[-1] for c in fd.calls if c.method == "POST"] == ["notes"]  # no second reply
        assert [c["private"] for c in fd.tickets["123"]["conversations"]] == [False, True]
        assert fd.tickets["123"]["status"] == 4
        assert ledger.failed(plan.ticket_id) == []
        assert ledger.get(plan.ticket_id, "note").attempts == 2  # type: ignore[union-attr]


def test_permanent_failure_is_recorded_not_retryable(zd: FakeZendesk, ledger: Ledger) -> None:
    plan = _plan(external_id="999")  # no such ticket
    report = apply(plan, zd.adapter(), ledger)
    assert report.failed is not None and report.failed.step == "reply" and not report.retryable
    assert len(zd.requests) == 1
    [record] = ledger.failed(plan.ticket_id)
    assert record.status == "failed" and not record.retryable and "404" in (record.last_error or "")


def test_connection_refused_is_transient(ledger: Ledger) -> None:
    config = ZendeskConfig(
        base_url=f"http://127.0.0.1:{free_port()}", email="a@b.c", api_token=SecretStr("t"), retry=FAST_RETRY
    )  # nothing listens there
    report = apply(_plan(), Zendesk(config), ledger)
    assert report.failed is not None and report.failed.step == "reply" and report.retryable
    assert "ConnectError" in (report.failed.error or "")


def test_handoff_plan_never_replies_or_resolves(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="no public reply"):
        _plan(action="handoff")
    plan = _plan(action="handoff", reply=None, group="billing", assignee="anna", priority="high")
    system = Zendesk(ZendeskConfig(base_url="https://acme.zendesk.com", email="a@b.c", api_token=SecretStr("t")))
    assert [step for step, _ in plan.calls(system)] == ["note", "priority", "group", "tags", "assign"]


@pytest.mark.parametrize("fake_cls", [FakeJira, FakeFreshdesk, FakeYouTrack])
def test_each_system_writes_a_handoff_once_under_injected_429_and_503(
    fake_cls: type[FakeJira | FakeFreshdesk | FakeYouTrack], ledger: Ledger
) -> None:
    with fake_cls() as fake:
        key = {"FakeJira": "SUP-1", "FakeFreshdesk": "77", "FakeYouTrack": "HD-1"}[fake_cls.__name__]
        fake.seed(key)
        extra = {"note_group_id": "3-7"} if fake_cls is FakeYouTrack else {}
        system = fake.adapter(groups={"billing": "10"}, assignees={"anna": "42"}, **extra)
        fake.inject(429, retry_after="0")
        fake.inject(503)
        plan = _plan(external_id=key, action="handoff", reply=None, note="handed off", group="billing", assignee="anna")
        first = apply(plan, system, ledger)
        assert first.ok, first
        accepted = len(fake.calls)
        assert apply(plan, system, ledger).ok
        assert len(fake.calls) == accepted  # replay: nothing sent again
        assert [r.status for r in fake.requests[:2]] == [429, 503]


def test_build_systems_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        zendesk_url="https://acme.zendesk.com",
        zendesk_email="a@b.c",
        zendesk_api_token="t",
        youtrack_url="https://acme.youtrack.cloud",
        youtrack_token="perm:x",
        writeback={"youtrack": {"group_field": "Team", "groups": {"billing": "Payroll"}}},
    )
    systems = build_systems(systems_config(settings))
    assert sorted(systems) == ["youtrack", "zendesk"]
    assert systems["youtrack"].config.group_field == "Team"  # type: ignore[attr-defined]
    half = make_settings(tmp_path, jira_url="https://acme.atlassian.net")
    with pytest.raises(WriteBackConfigError, match="TRIAGE_JIRA_EMAIL"):
        build_systems(systems_config(half))


def _postgres() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return PG_URL
    except (OperationalError, ImportError):
        return None


def test_ledger_on_postgresql(zd: FakeZendesk) -> None:
    url = _postgres()
    if url is None:
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    ledger = Ledger.from_url(url)
    plan = _plan()
    assert apply(plan, zd.adapter(), ledger).ok
    assert apply(plan, zd.adapter(), ledger).ok
    assert len(zd.calls) == 5
    assert {r.status for r in ledger.steps(plan.ticket_id)} == {"done"}
