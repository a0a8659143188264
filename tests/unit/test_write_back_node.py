"""The write_back node without HTTP: one plan per outcome, when nothing is written (and why), the
status a failed write-back gives a ticket, and the secrets `triage init` writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.domain import Ticket, WriteBack
from agent.graph.context import AgentContext
from agent.graph.nodes.write_back import plan_auto_resolve, plan_for, plan_handoff, plan_suggest, skip_reason
from agent.graph.result import failure_text, status_of, ticket_result, ticket_status
from agent.graph.state import TriageState
from agent.runtime.assembly import Agent
from agent.settings import Settings
from agent.storage.ledger import Ledger
from api.cli import app
from tests.conftest import make_settings
from tests.unit.conftest import offline_agent
from tests.unit.minilm_policy import MINILM, minilm_policy_file
from tools.ticketing import Priority

PAYSLIP = Ticket(
    id="t-wb-1",
    external_id="5158",
    source="zendesk",
    subject="Employee did not get her payslip",
    body="Hello, Maria says she never received her October payslip email. Could you resend it?",
)


# the in-memory KB scores on MiniLM's cosine scale: the policy pinned to it (tests/unit/minilm_policy.py)
MINILM_SCALE: dict[str, Any] = {"embedder": MINILM, "policy_file": minilm_policy_file()}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wb-data")


@pytest.fixture(scope="module")
def auto_state(data_dir: Path) -> TriageState:
    """A dry-run graph state that auto-resolves (llm none, the demo KB in memory)."""
    state = offline_agent(make_settings(data_dir, **MINILM_SCALE)).run(PAYSLIP)
    assert state["decision"].action == "auto_resolve"
    return {**state, "ticket": PAYSLIP}  # the graph's output leaves the input ticket out


def ctx_for(settings: Settings, agent: Agent, **over: Any) -> AgentContext:
    return replace(agent.context, settings=settings, **over)


@pytest.fixture(scope="module")
def agent(data_dir: Path) -> Agent:
    return offline_agent(make_settings(data_dir, **MINILM_SCALE))


def mapped(data_dir: Path, **zendesk: Any) -> Settings:
    return make_settings(data_dir, writeback={"zendesk": zendesk})


def test_dry_run_writes_nothing_and_says_so(auto_state: TriageState) -> None:
    wb = auto_state["writeback"]
    assert wb.status == "skipped" and wb.ok and wb.reason is not None and "dry run" in wb.reason
    assert wb.plan is None and wb.steps == []
    skipped = [e for e in auto_state["audit"] if e.node == "write_back"]
    assert [e.event for e in skipped] == ["skipped"] and "dry run" in skipped[0].detail["reason"]
    assert status_of(auto_state) == "done"
    stored = ticket_result(auto_state, "v").writeback
    assert stored is not None and stored.status == "skipped"


def test_auto_resolve_plan(auto_state: TriageState, agent: Agent, data_dir: Path) -> None:
    ctx = ctx_for(mapped(data_dir, groups={"payroll-support": "360001"}), agent)
    plan = plan_auto_resolve(auto_state, ctx, "zendesk")
    assert plan.action == "auto_resolve" and plan.should_resolve
    assert plan.ticket_id == "t-wb-1" and plan.external_id == "5158"
    assert plan.reply == auto_state["draft"].text and "[KB-009]" in auto_state["draft"].text
    assert plan.note is not None
    for part in ("auto-resolved", "category payslips", auto_state["decision"].reason, "KB-009", ctx.policy.version):
        assert part in plan.note
    assert plan.priority == auto_state["triage"].priority.value
    assert plan.group == "payroll-support"  # the policy queue, mapped to a group id by the adapter
    assert plan.tags == ["ai-triage", "ai-auto-resolved", "payslips"]
    assert plan.assignee is None


def test_an_unmapped_queue_sets_no_group(auto_state: TriageState, agent: Agent, data_dir: Path) -> None:
    ctx = ctx_for(mapped(data_dir, groups={"billing": "1"}), agent)
    assert plan_auto_resolve(auto_state, ctx, "zendesk").group is None
    assert plan_auto_resolve(auto_state, ctx, "jira").group is None  # other systems' maps do not count


def test_suggest_plan_parks_the_draft_in_an_internal_note(
    auto_state: TriageState, agent: Agent, data_dir: Path
) -> None:
    decision = auto_state["decision"].model_copy(update={"action": "suggest", "reason": "a human should check"})
    state: TriageState = {**auto_state, "decision": decision}
    ctx = ctx_for(mapped(data_dir), agent)
    plan = plan_suggest(state, ctx, "zendesk")
    assert plan.action == "suggest" and plan.reply is None and not plan.should_resolve
    assert plan.note is not None and "NOT sent" in plan.note and auto_state["draft"].text in plan.note
    assert "a human should check" in plan.note
    assert plan.tags == ["ai-triage", "ai-suggested", "payslips"]
    assert [step for step, _ in plan.calls(_NoSystem())] == ["note", "priority", "tags"]


def test_handoff_plan(auto_state: TriageState, agent: Agent, data_dir: Path) -> None:
    decision = auto_state["decision"].model_copy(update={"action": "handoff", "queue": "compliance"})
    state: TriageState = {**auto_state, "decision": decision, "handoff_note": "AI triage handed this over."}
    ctx = ctx_for(mapped(data_dir, groups={"compliance": "7"}, assignees={"compliance": "42"}), agent)
    plan = plan_handoff(state, ctx, "zendesk")
    assert plan.action == "handoff" and plan.reply is None and not plan.should_resolve
    assert plan.note == f"AI triage handed this over.\nPolicy {ctx.policy.version}; ticket t-wb-1"
    assert plan.group == "compliance" and plan.assignee == "compliance"
    assert plan.tags == ["ai-triage", "ai-handoff", "payslips"]
    assert plan_handoff(state, ctx_for(mapped(data_dir), agent), "zendesk").assignee is None


def test_the_final_write_back_follows_how_the_ticket_ended(
    auto_state: TriageState, agent: Agent, data_dir: Path
) -> None:
    """`write_back` runs once, at the end of every path; which plan it writes is a function of the state."""
    from agent.domain import Review

    ctx = ctx_for(mapped(data_dir), agent)
    handed = {**auto_state, "decision": auto_state["decision"].model_copy(update={"action": "handoff"})}
    suggested = {**auto_state, "decision": auto_state["decision"].model_copy(update={"action": "suggest"})}
    assert plan_for(auto_state, ctx, "zendesk").action == "auto_resolve"
    assert plan_for(handed, ctx, "zendesk").action == "handoff"  # type: ignore[arg-type]
    approved = {**suggested, "review": Review(action="approve", by="anna")}
    rejected = {**suggested, "review": Review(action="reject", by="anna", reason="wrong doc")}
    assert plan_for(approved, ctx, "zendesk").action == "suggest_approved"  # type: ignore[arg-type]
    plan = plan_for(rejected, ctx, "zendesk")  # type: ignore[arg-type]
    assert plan.action == "handoff" and plan.ticket_id.endswith(":rejected")


def test_why_nothing_is_written_back(agent: Agent, data_dir: Path, tmp_path: Path) -> None:
    ledger = Ledger.from_url(f"sqlite:///{tmp_path / 'wb.db'}")
    live = ctx_for(make_settings(data_dir), agent, ledger=ledger)
    assert "dry run" in skip_reason(ctx_for(make_settings(data_dir), agent), "zendesk")
    assert "TRIAGE_JIRA_URL" in skip_reason(live, "jira")
    assert "'generic' is not a ticketing system" in skip_reason(live, "generic")
    off = ctx_for(make_settings(data_dir, writeback_enabled=False), agent, ledger=ledger)
    assert "TRIAGE_WRITEBACK_ENABLED=false" in skip_reason(off, "zendesk")


def test_a_failed_write_back_marks_the_ticket_whatever_the_outcome() -> None:
    failed = WriteBack(status="failed", system="jira", failed_step="note", retryable=True, error="503 x4")
    for action in ("auto_resolve", "suggest", "handoff"):
        assert ticket_status(action, failed) == "writeback_failed"
    assert ticket_status("suggest", WriteBack(status="done")) == "awaiting_review"
    assert ticket_status("handoff", None) == "handed_off"
    assert failure_text(failed) == "write-back to jira failed at step note (transient, retry later): 503 x4"
    assert failure_text(WriteBack(status="skipped")) is None


def test_init_writes_the_webhook_secrets_once(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("TRIAGE_API_KEY=keep-me\nTRIAGE_JIRA_WEBHOOK_SECRET=mine\n")
    out = CliRunner().invoke(app, ["init", "--env-file", str(env)])
    assert out.exit_code == 0, out.output
    text = env.read_text()
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert values["TRIAGE_API_KEY"] == "keep-me" and values["TRIAGE_JIRA_WEBHOOK_SECRET"] == "mine"
    assert values["TRIAGE_WEBHOOK_SECRET"].startswith("whsec_")
    assert len(values["TRIAGE_FRESHDESK_WEBHOOK_TOKEN"]) == 64 and len(values["TRIAGE_YOUTRACK_WEBHOOK_TOKEN"]) == 64
    # Zendesk generates its signing secret itself: a commented line to paste it into
    assert "# TRIAGE_ZENDESK_WEBHOOK_SECRET=" in text and "TRIAGE_ZENDESK_WEBHOOK_SECRET" not in values
    Settings(_env_file=str(env))  # type: ignore[call-arg]  # still loads
    again = CliRunner().invoke(app, ["init", "--env-file", str(env)])
    assert again.exit_code == 0 and "already has" in again.output and env.read_text() == text


class _NoSystem:
    """Enough of a TicketingSystem to list a plan's steps (nothing is called)."""

    name = "none"

    def add_note(self, external_id: str, text: str) -> str:
        raise AssertionError("not called")

    def post_reply(self, external_id: str, text: str) -> str:
        raise AssertionError("not called")

    def set_priority(self, external_id: str, priority: Priority) -> str:
        raise AssertionError("not called")

    def set_group(self, external_id: str, group: str) -> str:
        raise AssertionError("not called")

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        raise AssertionError("not called")

    def assign(self, external_id: str, assignee: str) -> str:
        raise AssertionError("not called")

    def resolve(self, external_id: str) -> str:
        raise AssertionError("not called")

    def close(self) -> None:
        pass


def test_notes_follow_the_team_language_and_replies_the_ticket(
    auto_state: TriageState, agent: Agent, data_dir: Path
) -> None:
    en = ctx_for(make_settings(data_dir), agent)
    uk = ctx_for(make_settings(data_dir, team_language="uk"), agent)
    auto_en, auto_uk = plan_auto_resolve(auto_state, en, "zendesk"), plan_auto_resolve(auto_state, uk, "zendesk")
    assert auto_en.note is not None and auto_uk.note is not None
    assert auto_en.note.startswith("AI triage auto-resolved") and "Triage: category" in auto_en.note
    assert auto_uk.note.startswith("AI-тріаж вирішив") and "Тріаж: категорія" in auto_uk.note
    assert "Рішення: auto_resolve" in auto_uk.note and "Політика " in auto_uk.note
    assert "AI triage" not in auto_uk.note and "Decision:" not in auto_uk.note
    # values stay as the systems know them; the customer's reply is the ticket's, not the team's
    category = auto_state["triage"].category.value
    assert f"категорія {category} (" in auto_uk.note and f"category {category} (" in auto_en.note
    assert auto_uk.reply == auto_en.reply == auto_state["draft"].text
    suggested = plan_suggest(
        {**auto_state, "decision": auto_state["decision"].model_copy(update={"action": "suggest"})}, uk, "zendesk"
    )
    assert suggested.note is not None and "клієнтові її НЕ надіслано" in suggested.note
    assert "--- Чернетка відповіді" in suggested.note
    no_note: TriageState = {k: v for k, v in auto_state.items() if k != "handoff_note"}  # type: ignore[assignment]
    handed = plan_handoff(no_note, uk, "zendesk")
    assert handed.note is not None and handed.note.startswith("AI-тріаж передав це звернення людині.")
