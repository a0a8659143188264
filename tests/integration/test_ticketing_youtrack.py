"""YouTrack adapter against the fake YouTrack on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.http import PermanentWriteBackError, WriteBackConfigError
from tools.ticketing.testing.youtrack import FakeYouTrack

pytestmark = pytest.mark.integration


@pytest.fixture
def yt() -> Iterator[FakeYouTrack]:
    with FakeYouTrack() as fake:
        fake.seed("HD-12", tags=["vip"])
        yield fake


def test_every_method_hits_the_documented_endpoint(yt: FakeYouTrack) -> None:
    system = yt.adapter(note_group_id="3-7", groups={"billing": "Payroll Billing"}, assignees={"anna": "anna.k"})
    system.post_reply("HD-12", "Hello, here is the fix.")
    system.add_note("HD-12", "AI triage note")
    system.set_priority("HD-12", "urgent")
    system.set_group("HD-12", "billing")
    system.add_tags("HD-12", ["ai triaged", "payroll"])
    system.assign("HD-12", "anna")
    system.resolve("HD-12")

    assert all(c.headers["authorization"] == f"Bearer {yt.token}" for c in yt.calls)
    comments = [c for c in yt.calls if c.path == "/api/issues/HD-12/comments"]
    assert [c.body for c in comments] == [
        {"text": "Hello, here is the fix."},
        {"text": "AI triage note", "visibility": {"$type": "LimitedVisibility", "permittedGroups": [{"id": "3-7"}]}},
    ]
    commands = [c.body for c in yt.calls if c.path == "/api/commands"]
    assert [c["query"] for c in commands] == [
        "Priority Critical",
        "Subsystem {Payroll Billing}",
        "tag {ai triaged} tag payroll",
        "Assignee anna.k",
        "State Fixed",
    ]
    assert all(c["issues"] == [{"idReadable": "HD-12"}] for c in commands)
    issue = yt.tickets["HD-12"]
    assert issue["tags"] == ["vip", "ai triaged", "payroll"]
    assert issue["fields"] == {
        "priority": "Critical",
        "subsystem": "Payroll Billing",
        "assignee": "anna.k",
        "state": "Fixed",
    }
    assert [c["permittedGroups"] for c in issue["comments"]] == [[], ["3-7"]]


def test_note_without_a_group_is_a_config_error_and_sends_nothing(yt: FakeYouTrack) -> None:
    with pytest.raises(WriteBackConfigError, match="TRIAGE_YOUTRACK_NOTE_GROUP_ID"):
        yt.adapter().add_note("HD-12", "x")
    assert yt.requests == []


def test_unknown_priority_value_is_a_400_not_retried(yt: FakeYouTrack) -> None:
    system = yt.adapter(priorities={"low": "Minor", "normal": "Normal", "high": "Major", "urgent": "Blocker"})
    with pytest.raises(PermanentWriteBackError) as err:
        system.set_priority("HD-12", "urgent")
    assert err.value.status == 400 and "Blocker" in str(err.value)
    assert len(yt.requests) == 1


def test_wrong_token_401(yt: FakeYouTrack) -> None:
    with pytest.raises(PermanentWriteBackError) as err:
        yt.adapter(token="perm:nope").post_reply("HD-12", "x")
    assert err.value.status == 401 and "TRIAGE_YOUTRACK_TOKEN" in str(err.value)
