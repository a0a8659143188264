"""Freshdesk adapter against the fake Freshdesk on loopback."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tools.http import PermanentWriteBackError
from tools.ticketing.testing.freshdesk import FakeFreshdesk

pytestmark = pytest.mark.integration


@pytest.fixture
def fd() -> Iterator[FakeFreshdesk]:
    with FakeFreshdesk() as fake:
        fake.seed("55", tags=["vip", "payroll"])
        yield fake


def test_every_method_hits_the_documented_endpoint(fd: FakeFreshdesk) -> None:
    system = fd.adapter(groups={"billing": "8000012"}, assignees={"anna": "8000034"})
    system.post_reply("55", "Hello, here is the fix.")
    system.add_note("55", "AI triage note")
    system.set_priority("55", "high")
    system.set_group("55", "billing")
    system.add_tags("55", ["payroll", "ai-triaged"])
    system.assign("55", "anna")
    system.resolve("55")

    t = "/api/v2/tickets/55"
    assert [(c.method, c.path, c.body) for c in fd.calls] == [
        ("POST", f"{t}/reply", {"body": "Hello, here is the fix."}),
        ("POST", f"{t}/notes", {"body": "AI triage note", "private": True}),
        ("PUT", t, {"priority": 3}),
        ("PUT", t, {"group_id": 8000012}),
        ("GET", t, None),
        ("PUT", t, {"tags": ["vip", "payroll", "ai-triaged"]}),  # merged with what was there
        ("PUT", t, {"responder_id": 8000034}),
        ("PUT", t, {"status": 4}),
    ]
    auth = "Basic " + base64.b64encode(f"{fd.api_key}:X".encode()).decode()
    assert all(c.headers["authorization"] == auth for c in fd.calls)
    ticket = fd.tickets["55"]
    assert ticket["tags"] == ["vip", "payroll", "ai-triaged"]
    assert [(c["private"], c["body"]) for c in ticket["conversations"]] == [
        (False, "Hello, here is the fix."),
        (True, "AI triage note"),
    ]


def test_tags_already_present_are_not_written_again(fd: FakeFreshdesk) -> None:
    assert "already present" in fd.adapter().add_tags("55", ["vip"])
    assert [c.method for c in fd.requests] == ["GET"]


def test_out_of_range_priority_is_a_400_not_retried(fd: FakeFreshdesk) -> None:
    system = fd.adapter(priorities={"low": 1, "normal": 2, "high": 3, "urgent": 5})
    with pytest.raises(PermanentWriteBackError) as err:
        system.set_priority("55", "urgent")
    assert err.value.status == 400 and "It should be one of these values" in str(err.value)
    assert len(fd.requests) == 1


def test_wrong_api_key_401(fd: FakeFreshdesk) -> None:
    with pytest.raises(PermanentWriteBackError) as err:
        fd.adapter(api_key="nope").add_note("55", "x")
    assert err.value.status == 401 and "TRIAGE_FRESHDESK_API_KEY" in str(err.value)


def test_slow_response_times_out_and_is_retried(fd: FakeFreshdesk) -> None:
    fd.inject(None, delay_s=1.0)  # answered normally, but after the client's 0.3 s timeout
    fd.adapter(timeout_s=0.3).set_priority("55", "urgent")
    assert len(fd.requests) == 2 and fd.tickets["55"]["priority"] == 4
