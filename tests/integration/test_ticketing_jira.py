"""Jira Cloud / JSM adapter against the fake Jira on loopback."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tools.http import PermanentWriteBackError, WriteBackConfigError
from tools.ticketing.adf import adf_to_text
from tools.ticketing.testing.jira import FakeJira

pytestmark = pytest.mark.integration


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.seed("SUP-7", labels=["customer"])
        yield fake


def test_every_method_hits_the_documented_endpoint(jira: FakeJira) -> None:
    system = jira.adapter(groups={"billing": "Billing"}, assignees={"anna": "5b10ac8d82e05b22cc7d4ef5"})
    system.post_reply("SUP-7", "Hello,\nhere is the fix.")
    system.add_note("SUP-7", "AI triage note")
    system.set_priority("SUP-7", "urgent")
    system.set_group("SUP-7", "billing")
    system.add_tags("SUP-7", ["ai triaged", "payroll"])
    system.assign("SUP-7", "anna")
    system.resolve("SUP-7")

    calls = [(c.method, c.path) for c in jira.calls]
    issue = "/rest/api/3/issue/SUP-7"
    assert calls == [
        ("POST", f"{issue}/comment"),
        ("POST", f"{issue}/comment"),
        ("PUT", issue),
        ("PUT", issue),
        ("PUT", issue),
        ("PUT", f"{issue}/assignee"),
        ("GET", f"{issue}/transitions"),
        ("POST", f"{issue}/transitions"),
    ]
    auth = "Basic " + base64.b64encode(f"{jira.email}:{jira.token}".encode()).decode()
    assert all(c.headers["authorization"] == auth for c in jira.calls)
    reply, note, priority, group, labels, assignee, _, transition = (c.body for c in jira.calls)
    assert reply["body"]["type"] == "doc" and adf_to_text(reply["body"]) == "Hello,\nhere is the fix."
    assert reply["properties"] == [{"key": "sd.public.comment", "value": {"internal": False}}]
    assert note["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert priority == {"fields": {"priority": {"name": "Highest"}}}
    assert group == {"fields": {"components": [{"name": "Billing"}]}}
    assert labels == {"update": {"labels": [{"add": "ai_triaged"}, {"add": "payroll"}]}}
    assert assignee == {"accountId": "5b10ac8d82e05b22cc7d4ef5"}
    assert transition == {"transition": {"id": "21"}}

    state = jira.tickets["SUP-7"]
    assert state["labels"] == ["customer", "ai_triaged", "payroll"]  # added, not replaced
    assert [c["internal"] for c in state["comments"]] == [False, True]
    assert (state["priority"], state["status"]) == ("Highest", "Resolved")


def test_plain_jira_note_is_restricted_to_a_role(jira: FakeJira) -> None:
    jira.adapter(service_management=False, note_visibility_role="Developers").add_note("SUP-7", "internal")
    body = jira.calls[-1].body
    assert "properties" not in body and body["visibility"] == {"type": "role", "value": "Developers"}


def test_custom_field_queue(jira: FakeJira) -> None:
    jira.adapter(group_field="customfield_10050").set_group("SUP-7", "Payroll L2")
    assert jira.calls[-1].body == {"fields": {"customfield_10050": {"value": "Payroll L2"}}}


def test_missing_transition_names_what_is_offered(jira: FakeJira) -> None:
    with pytest.raises(WriteBackConfigError) as err:
        jira.adapter(resolve_transitions=["Ship it"]).resolve("SUP-7")
    assert "'Resolve this issue'" in str(err.value) and "resolve_transitions" in str(err.value)
    assert [c.method for c in jira.requests] == ["GET"]


def test_unknown_priority_is_permanent_and_not_retried(jira: FakeJira) -> None:
    system = jira.adapter(priorities={"low": "Low", "normal": "Medium", "high": "High", "urgent": "Blocker"})
    with pytest.raises(PermanentWriteBackError) as err:
        system.set_priority("SUP-7", "urgent")
    assert err.value.status == 400 and "errors.priority" in str(err.value)
    assert len(jira.requests) == 1


def test_labels_never_carry_spaces_jira_would_reject(jira: FakeJira) -> None:
    jira.adapter().add_tags("SUP-7", ["needs review", " "])
    assert jira.calls[-1].body == {"update": {"labels": [{"add": "needs_review"}]}}


def test_wrong_token_401(jira: FakeJira) -> None:
    with pytest.raises(PermanentWriteBackError) as err:
        jira.adapter(api_token="nope").add_note("SUP-7", "x")
    assert err.value.status == 401 and "TRIAGE_JIRA_API_TOKEN" in str(err.value)


def test_rate_limit_reset_header_is_honoured(jira: FakeJira) -> None:
    """Jira's 429 with only X-RateLimit-Reset (an ISO timestamp): the client waits until then."""
    reset = (datetime.now(UTC) + timedelta(seconds=1.2)).isoformat()
    jira.inject(429, headers={"X-RateLimit-Reset": reset})
    system = jira.adapter()
    started = time.monotonic()
    system.set_priority("SUP-7", "high")
    assert time.monotonic() - started >= 0.8  # the fast test backoff alone would be ~0.02 s
    assert [r.status for r in jira.requests] == [429, 204]
