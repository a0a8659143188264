"""The ordered write-back plan and its exactly-once execution through a ledger.

LangGraph re-runs a node from its start on resume, and a worker may retry a whole ticket, so every
side effect goes through `Ledger.run_step`: a step already `done` is skipped, a step that fails is
recorded `failed` with its error (and whether a later retry can help) and shows in `failed()`.
Running the same plan again (`apply`) re-runs only what is not done.

`Ledger` is a Protocol: this layer says what a ledger must do, the application stores it (the
SQL implementation on the service's database is `agent.storage.ledger.Ledger`, table `writebacks`).

What "exactly once" cannot cover: if the process dies after the system accepted a call but before
the ledger recorded it, the step stays `pending` and runs again (at-least-once for that window);
the same holds for a timeout after the system received the request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field, model_validator

from tools.http import WriteBackError
from tools.ticketing.base import Priority, TicketingSystem

Step = Literal["reply", "note", "priority", "group", "tags", "assign", "resolve"]
STEP_ORDER: tuple[Step, ...] = ("reply", "note", "priority", "group", "tags", "assign", "resolve")
StepStatus = Literal["pending", "done", "failed"]


class StepRecord(BaseModel):
    """One row of the ledger, as read back."""

    ticket_id: str
    step: str
    system: str
    external_id: str
    status: StepStatus
    attempts: int
    retryable: bool
    last_error: str | None
    response: str | None
    updated_at: datetime


class StepOutcome(BaseModel):
    step: Step
    status: Literal["done", "skipped", "failed", "not_run"]  # skipped: done by an earlier run
    response: str | None = None
    error: str | None = None
    retryable: bool | None = None


class Ledger(Protocol):
    """Idempotency per (ticket_id, step), durable across processes: what `apply` and its callers need.

    The contract an implementation keeps (the SQL one: `agent.storage.ledger.Ledger`):
    - `run_step` marks the step pending (attempts + 1) and runs `fn`, unless the step is `done`
      already: then it returns None without calling `fn`. Two runs racing for one step never both
      call `fn` after one recorded it done.
    - `fn` returning: the step is `done` with the response (its first 2000 characters) and the
      outcome is returned. `fn` raising `WriteBackError`: the step is `failed` with the error and the
      exception's `retryable`, and the exception is re-raised; any other exception: `failed`, not
      retryable (a bug or an unexpected answer is not silently retried), re-raised.
    """

    def get(self, ticket_id: str, step: str) -> StepRecord | None:
        """The record of one step, None if it never ran."""
        ...

    def steps(self, ticket_id: str) -> list[StepRecord]:
        """Every step of a ticket, in the order they first ran."""
        ...

    def failed(self, ticket_id: str | None = None) -> list[StepRecord]:
        """Failed steps (all tickets, or one), oldest first: what a retry job or an operator looks at."""
        ...

    def run_step(
        self, ticket_id: str, step: str, fn: Callable[[], str], *, system: str = "", external_id: str = ""
    ) -> StepOutcome | None:
        """Run `fn` unless this step of this ticket is done already (None when skipped); see the class doc."""
        ...


# ---- the plan ---------------------------------------------------------------------------------
class WriteBackPlan(BaseModel):
    """What to write back for one ticket, whatever the system. Steps run in STEP_ORDER."""

    ticket_id: str = Field(description="our ticket id (the ledger key)")
    external_id: str = Field(description="the ticketing system's ticket id or key")
    # suggest: a draft parked for a human (an internal note, no reply, not resolved); suggest_approved:
    # the reply a human approved
    action: Literal["auto_resolve", "suggest", "suggest_approved", "handoff"]
    reply: str | None = Field(default=None, description="public reply (never for a handoff or a pending suggest)")
    note: str | None = Field(default=None, description="internal note")
    priority: Priority | None = None
    group: str | None = Field(default=None, description="queue name, mapped per system")
    tags: list[str] = Field(default_factory=list[str])
    assignee: str | None = None
    resolve: bool | None = Field(default=None, description="default: true unless handoff")

    @model_validator(mode="after")
    def _consistent(self) -> WriteBackPlan:
        if self.action == "handoff" and self.reply:
            raise ValueError("a handoff posts no public reply: put the text in `note`")
        if self.action == "handoff" and self.resolve:
            raise ValueError("a handed-off ticket is not resolved")
        if self.action == "suggest" and (self.reply or self.resolve):
            raise ValueError(
                "a suggestion awaiting review posts no public reply and is not resolved: put the draft in `note`"
            )
        return self

    @property
    def should_resolve(self) -> bool:
        return self.action not in ("handoff", "suggest") if self.resolve is None else self.resolve

    def calls(self, system: TicketingSystem) -> list[tuple[Step, Callable[[], str]]]:
        """The plan as ordered (step, call) pairs for this system."""
        ext = self.external_id
        calls: list[tuple[Step, Callable[[], str]]] = []
        if self.reply:
            reply = self.reply
            calls.append(("reply", lambda: system.post_reply(ext, reply)))
        if self.note:
            note = self.note
            calls.append(("note", lambda: system.add_note(ext, note)))
        if self.priority:
            priority = self.priority
            calls.append(("priority", lambda: system.set_priority(ext, priority)))
        if self.group:
            group = self.group
            calls.append(("group", lambda: system.set_group(ext, group)))
        tags = [t for t in self.tags if t.strip()]
        if tags:
            calls.append(("tags", lambda: system.add_tags(ext, tags)))
        if self.assignee:
            assignee = self.assignee
            calls.append(("assign", lambda: system.assign(ext, assignee)))
        if self.should_resolve:
            calls.append(("resolve", lambda: system.resolve(ext)))
        return calls


class WriteBackReport(BaseModel):
    ticket_id: str
    system: str
    outcomes: list[StepOutcome]

    @property
    def ok(self) -> bool:
        return all(o.status in ("done", "skipped") for o in self.outcomes)

    @property
    def failed(self) -> StepOutcome | None:
        return next((o for o in self.outcomes if o.status == "failed"), None)

    @property
    def retryable(self) -> bool:
        failed = self.failed
        return bool(failed and failed.retryable)


def apply(plan: WriteBackPlan, system: TicketingSystem, ledger: Ledger) -> WriteBackReport:
    """Run the plan's steps in order through the ledger; stop at the first failure.

    Steps done by an earlier run are skipped (never posted twice); after a failure the remaining
    steps are `not_run` (a ticket is not resolved when its reply failed). Never raises for a write-back
    failure: the report and `ledger.failed()` say what failed and whether retrying can help; call
    `apply` again with the same plan to retry.
    """
    outcomes: list[StepOutcome] = []
    calls = plan.calls(system)
    for index, (step, call) in enumerate(calls):
        try:
            done = ledger.run_step(plan.ticket_id, step, call, system=system.name, external_id=plan.external_id)
        except WriteBackError as exc:
            outcomes.append(StepOutcome(step=step, status="failed", error=str(exc), retryable=exc.retryable))
            outcomes += [StepOutcome(step=later, status="not_run") for later, _ in calls[index + 1 :]]
            break
        if done is None:
            previous = ledger.get(plan.ticket_id, step)
            outcomes.append(StepOutcome(step=step, status="skipped", response=previous.response if previous else None))
        else:
            outcomes.append(done)
    return WriteBackReport(ticket_id=plan.ticket_id, system=system.name, outcomes=outcomes)


def steps_of(outcomes: Sequence[StepOutcome], status: str) -> list[str]:
    return [o.step for o in outcomes if o.status == status]
