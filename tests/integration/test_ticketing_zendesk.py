"""Zendesk adapter against the fake Zendesk on loopback: paths, bodies, auth, tags, errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tools.http import PermanentWriteBackError, WriteBackConfigError
from tools.ticketing.testing.zendesk import FakeZendesk

pytestmark = pytest.mark.integration


@pytest.fixture
def zd() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        fake.seed("123", tags=["vip"])
        yield fake


def test_every_method_is_one_documented_put(zd: FakeZendesk) -> None:
    system = zd.adapter(groups={"billing": "42"}, assignees={"anna": "7"})
    system.post_reply("123", "Hello, here is how to fix it.")
    system.add_note("123", "AI triage: payslips, high confidence")
    system.set_priority("123", "urgent")
    system.set_group("123", "billing")
    system.add_tags("123", ["ai triaged", "payslips"])
    system.assign("123", "anna")
    system.resolve("123")

    calls = zd.calls
    assert [(c.method, c.path) for c in calls] == [("PUT", "/api/v2/tickets/123")] * 7
    expected_auth = "Basic " + base64.b64encode(f"{zd.email}/token:{zd.token}".encode()).decode()
    assert all(c.headers["authorization"] == expected_auth for c in calls)
    assert [c.body for c in calls] == [
        {"ticket": {"comment": {"body": "Hello, here is how to fix it.", "public": True}}},
        {"ticket": {"comment": {"body": "AI triage: payslips, high confidence", "public": False}}},
        {"ticket": {"priority": "urgent"}},
        {"ticket": {"group_id": 42}},
        {"ticket": {"additional_tags": ["ai_triaged", "payslips"]}},
        {"ticket": {"assignee_id": 7}},
        {"ticket": {"status": "solved"}},
    ]
    ticket = zd.tickets["123"]
    assert ticket["tags"] == ["vip", "ai_triaged", "payslips"]  # added, never overwritten
    assert [c["public"] for c in ticket["comments"]] == [True, False]
    assert (ticket["priority"], ticket["group_id"], ticket["assignee_id"], ticket["status"]) == (
        "urgent",
        42,
        7,
        "solved",
    )


def test_wrong_token_is_a_permanent_401_that_names_the_fix(zd: FakeZendesk) -> None:
    system = zd.adapter(api_token="wrong")
    with pytest.raises(PermanentWriteBackError) as err:
        system.add_note("123", "x")
    message = str(err.value)
    assert err.value.status == 401 and len(zd.requests) == 1
    assert "zendesk PUT /api/v2/tickets/123" in message
    assert "Couldn't authenticate you" in message and "TRIAGE_ZENDESK_API_TOKEN" in message


def test_validation_error_is_not_retried(zd: FakeZendesk) -> None:
    system = zd.adapter(priorities={"low": "low", "normal": "normal", "high": "high", "urgent": "critical"})
    with pytest.raises(PermanentWriteBackError) as err:
        system.set_priority("123", "urgent")
    assert err.value.status == 422 and "Priority: critical is not valid" in str(err.value)
    assert len(zd.requests) == 1  # exactly one call: never retried


def test_unknown_ticket_is_404(zd: FakeZendesk) -> None:
    with pytest.raises(PermanentWriteBackError) as err:
        zd.adapter().add_note("999", "x")
    assert err.value.status == 404 and len(zd.requests) == 1


def test_unmapped_group_is_a_config_error_before_any_call(zd: FakeZendesk) -> None:
    with pytest.raises(WriteBackConfigError, match=r"groups"):
        zd.adapter().set_group("123", "billing")
    assert zd.requests == []


def test_update_conflict_409_is_retried_for_zendesk(zd: FakeZendesk) -> None:
    zd.inject(409, body={"error": "UpdateConflict"})
    zd.adapter().set_priority("123", "high")
    assert [r.status for r in zd.requests] == [409, 200]
    assert zd.tickets["123"]["priority"] == "high"
