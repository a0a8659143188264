"""Business actions inside the graph: the document's allowlisted action runs for an auto-resolution
(once, even when the graph runs again), needs-approval turns it into a suggestion, and without a
backend it is a dry run that calls nothing. Real embedder, Chroma, and the fake PayFlow API on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.domain import Customer, Ticket
from agent.graph.context import AgentContext
from agent.graph.policy import load_policy
from agent.graph.state import TriageState
from agent.runtime.assembly import Agent, open_knowledge
from agent.settings import Settings
from tools.actions import ActionBackend
from tools.actions.testing import FakePayFlow

pytestmark = pytest.mark.integration


def _ticket(tid: str, requester: str, body: str) -> Ticket:
    return Ticket(
        id=tid,
        external_id=tid,
        subject="Forgot my password",
        body=body,
        requester=requester,
        customer=Customer(name="Acme Ltd", tier="standard"),
    )


SELF = "Hi, I forgot my PayFlow password and cannot log in. How do I reset my password?"


@pytest.fixture
def pf() -> Iterator[FakePayFlow]:
    with FakePayFlow() as fake:
        yield fake


def _run(settings: Settings, ticket: Ticket, backend: ActionBackend | None) -> TriageState:
    ctx = AgentContext(
        settings=settings,
        policy=load_policy(settings.policy_file),
        knowledge=open_knowledge(settings),
        llm=None,
        actions=backend,
    )
    return Agent(ctx).run(ticket)


def _act(state: TriageState) -> list[tuple[str, dict[str, object]]]:
    return [(a.event, a.detail) for a in state["audit"] if a.node == "act"]


def test_self_service_reset_runs_once_even_when_the_graph_runs_again(demo_settings: Settings, pf: FakePayFlow) -> None:
    ticket = _ticket("t-act-1", "olena.marsh@acme.example", SELF)
    with pf.client() as client:
        first = _run(demo_settings, ticket, client)
        assert first["decision"].action == "auto_resolve" and first["draft"].citations == ["KB-001"]
        ((event, detail),) = _act(first)
        assert event == "executed" and detail["action"] == "password_reset"
        assert pf.emails_sent and pf.emails_sent[0]["to"] == "olena.marsh@acme.example"
        second = _run(demo_settings, ticket, client)  # a replayed run: same ticket, same idempotency key
    assert _act(second)[0][0] == "executed"
    assert len(pf.emails_sent) == 1  # one reset e-mail, not two


def test_reset_for_someone_else_needs_approval_and_becomes_a_suggestion(
    demo_settings: Settings, pf: FakePayFlow
) -> None:
    body = "Hi, my colleague forgot her PayFlow password and cannot log in. Her login: jcooper. How do I reset it?"
    with pf.client() as client:
        state = _run(demo_settings, _ticket("t-act-2", "olena.marsh@acme.example", body), client)
    assert state["draft"].citations == ["KB-001"]
    # the gate, before anything runs, saw that the reset needs a human's approval: the action waits
    # (act does not run on a suggestion until it is approved) and the ticket became a suggestion
    assert _act(state) == []
    (gated,) = [e for e in state["audit"] if e.node == "gate"]
    assert gated.detail["rules_added"] == ["action_needs_approval"] and gated.detail["action"] == "password_reset"
    assert state["action"].arguments and state["action"].needs_approval
    assert state["decision"].action == "suggest" and "action_needs_approval" in state["decision"].rules
    assert pf.requests == [] and pf.emails_sent == []


def test_without_a_backend_actions_are_dry_runs(demo_settings: Settings, pf: FakePayFlow) -> None:
    state = _run(demo_settings, _ticket("t-act-3", "olena.marsh@acme.example", SELF), None)
    ((event, detail),) = _act(state)
    assert event == "dry_run" and detail["arguments"]
    assert state["decision"].action == "auto_resolve"
    assert pf.requests == [] and pf.emails_sent == []
