"""The ordered write-back plan and its exactly-once execution through a ledger.

LangGraph re-runs a node from its start on resume, and a worker may retry a whole ticket, so every
side effect goes through `Ledger.run_step`: a step already `done` is skipped, a step that fails is
recorded `failed` with its error (and whether a later retry can help) and shows in `failed()`.
Running the same plan again (`apply`) re-runs only what is not done.

`Ledger` is a Protocol: this layer says what a ledger must do, the application stores it (the
SQL implementation on the service's database is `agent.storage.ledger.Ledger`, table `writebacks`).

A step is a claim: `pending` with an owner and a lease the owner renews while its call runs. A second
worker reaching a step another live owner holds waits for it (and skips it once done) instead of
writing it again; a dead owner's lease runs out and the step is retaken.

The window between "the system accepted the call" and "the ledger recorded it" (a kill -9, a
timeout after the system received the request) is closed for comments and replies by a marker:
every note or reply carries `marker_for(ticket, step)` (a short footer token each system keeps
intact), and a step retaken after such a window (its row `pending` or `failed` retryable) first
asks the system for its marker (`MarkedSystem.find_marker`) and, when found, is recorded `done`
without posting again. Field updates (priority, group, tags, assignee, resolve) are idempotent in
every system: writing them twice leaves the ticket as writing them once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal, Protocol, cast, runtime_checkable

from pydantic import BaseModel, Field, model_validator

from tools.http import WriteBackError
from tools.ticketing.base import Priority, TicketingSystem

Step = Literal["reply", "note", "priority", "group", "tags", "assign", "resolve"]
STEP_ORDER: tuple[Step, ...] = ("reply", "note", "priority", "group", "tags", "assign", "resolve")
StepStatus = Literal["pending", "done", "failed"]


class StepInFlight(WriteBackError):
    """Another live owner holds this step (a pending claim whose lease it keeps renewing) and did not
    finish it in time: nothing was written; retry later (the ledger skips it once the owner is done)."""

    retryable = True


COMMENT_STEPS: frozenset[str] = frozenset({"reply", "note"})
_HEX_ID = re.compile(r"[0-9a-f]{32}")


def marker_for(ticket_key: str, step: str) -> str:
    """The token a note or reply carries so a resumed step can find it in the ticketing system:
    `triage-<12 hex of our ticket id>[-<plan suffix>]-<step>`, e.g. `triage-3f2a9c1b7d4e-reply` or
    `triage-3f2a9c1b7d4e-approved-reply` (the reviewed plan's key is `<id>:approved`). Letters, digits
    and hyphens only: no markup language of the four systems changes it."""
    base, _, suffix = ticket_key.partition(":")
    short = base[:12] if _HEX_ID.fullmatch(base) else hashlib.sha256(base.encode()).hexdigest()[:12]
    tail = re.sub(r"[^a-z0-9]+", "-", suffix.lower()).strip("-")
    return "-".join(p for p in ("triage", short, tail, re.sub(r"[^a-z0-9]+", "-", step.lower())) if p)


def with_marker(text: str, marker: str | None) -> str:
    """`text` with the marker as its last line (a short footer: `ref triage-...-reply`)."""
    return f"{text.rstrip()}\n\nref {marker}" if marker else text


def has_marker(text: str, marker: str) -> bool:
    """Whether `text` carries `marker` as a whole token (not as part of a longer one)."""
    return re.search(rf"(?<![\w-]){re.escape(marker)}(?![\w-])", text) is not None


@runtime_checkable
class MarkedSystem(Protocol):
    """A `TicketingSystem` whose notes and replies carry a marker it can look up again (all four
    adapters). A system without `find_marker` is written without markers (at-least-once in the
    crash window)."""

    def add_note(self, external_id: str, text: str, *, marker: str | None = None) -> str: ...

    def post_reply(self, external_id: str, text: str, *, marker: str | None = None) -> str: ...

    def find_marker(self, external_id: str, marker: str) -> str | None:
        """A summary of the comment on the ticket that carries `marker` (like `add_note`'s answer),
        None if there is none. Raises `WriteBackError` when the system cannot be asked."""
        ...


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
    - `run_step` claims the step (pending, attempts + 1, an owner and a lease renewed while `fn`
      runs) and runs `fn`, unless the step is `done` already: then it returns None without calling
      `fn`. Two runs racing for one step never both call `fn`: a step pending under another live
      owner is waited for (None once it is done) or, if it does not finish in time, `StepInFlight`
      is raised with nothing written; a pending step whose owner's lease ran out is retaken.
    - A retaken step (its row `pending` from a dead owner, or `failed` retryable: the call may have
      landed) calls `recover` first, when given: a string means the write is already in the system
      (the step is recorded `done` with it and `fn` is not called).
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
        self,
        ticket_id: str,
        step: str,
        fn: Callable[[], str],
        *,
        system: str = "",
        external_id: str = "",
        recover: Callable[[], str | None] | None = None,
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
        """The plan as ordered (step, call) pairs for this system (notes and replies with their
        marker when the system can look markers up: `MarkedSystem`)."""
        ext = self.external_id
        calls: list[tuple[Step, Callable[[], str]]] = []
        marked = cast(MarkedSystem, system) if isinstance(system, MarkedSystem) else None
        if self.reply:
            reply = self.reply
            if marked is not None:
                reply_marker = marker_for(self.ticket_id, "reply")
                calls.append(("reply", lambda: marked.post_reply(ext, reply, marker=reply_marker)))
            else:
                calls.append(("reply", lambda: system.post_reply(ext, reply)))
        if self.note:
            note = self.note
            if marked is not None:
                note_marker = marker_for(self.ticket_id, "note")
                calls.append(("note", lambda: marked.add_note(ext, note, marker=note_marker)))
            else:
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

    def recoveries(self, system: TicketingSystem) -> dict[Step, Callable[[], str | None]]:
        """Per comment step, the look-up a retaken step runs first (empty when the system has none)."""
        if not isinstance(system, MarkedSystem):
            return {}
        marked, ext = cast(MarkedSystem, system), self.external_id
        found: dict[Step, Callable[[], str | None]] = {}
        comment_steps: tuple[tuple[Step, str | None], ...] = (("reply", self.reply), ("note", self.note))
        for step, present in comment_steps:
            if present:
                marker = marker_for(self.ticket_id, step)
                found[step] = lambda marker=marker: marked.find_marker(ext, marker)
        return found


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
    recoveries = plan.recoveries(system)
    for index, (step, call) in enumerate(calls):
        try:
            done = ledger.run_step(
                plan.ticket_id,
                step,
                call,
                system=system.name,
                external_id=plan.external_id,
                recover=recoveries.get(step),
            )
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
