"""Run one allowlisted action: validate, decide approval, then (dry run) describe or (live) execute.

    result = run_action("resend_payslip", {"employee_id": "1043", "period": "2025-10"},
                        dry_run=False, backend=PayFlowClient(config), context=ActionContext(...))

Statuses:
- `rejected`: refused before anything ran: not allowlisted, or invalid arguments (`error.field`
  names the argument).
- `needs_approval`: valid, but the approval rule says a human must confirm; nothing was sent. Run
  again with `context.approved_by` set once a human approved. Said in a dry run too: a dry run
  answers what a live run would do, so evals see the same downgrade the service makes.
- `dry_run`: valid and allowed; `request` is what a live run would send; the backend is never
  touched (evals run the whole graph this way).
- `executed`: the backend accepted; `output` is the action's output model.
- `failed`: the backend failed: `error.retryable` says whether running again later can help.

Idempotency: a live run sends `Idempotency-Key: triage:{ticket_id}:{action}` (or the key given), so
a node re-run after a crash or a LangGraph resume has no second effect at PayFlow; an optional
`ActionLedger` also short-circuits a re-run locally (`replayed=True`) without calling PayFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from tools.actions.backend import ActionBackend
from tools.actions.errors import ActionConfigError, InvalidArgumentsError, NotAllowlistedError
from tools.actions.registry import ActionContext, Approval, PlannedRequest, get_action, validate_arguments
from tools.actions.schemas import ActionOutput
from tools.http import PermanentWriteBackError, TransientWriteBackError, WriteBackError

ActionStatus = Literal["executed", "dry_run", "needs_approval", "rejected", "failed"]
ErrorKind = Literal["not_allowlisted", "invalid_arguments", "backend_permanent", "backend_transient", "backend_config"]


class ActionErrorInfo(BaseModel):
    kind: ErrorKind
    message: str
    field: str | None = None  # invalid_arguments: the first offending argument
    status: int | None = None  # backend errors: the HTTP status, if any
    retryable: bool = False


class ActionResult(BaseModel):
    name: str
    status: ActionStatus
    approval: Approval | None = None
    arguments: dict[str, Any] | None = None  # the validated input, as JSON
    request: PlannedRequest | None = None  # what was (or, dry run, would be) sent
    output: ActionOutput | None = None
    error: ActionErrorInfo | None = None
    idempotency_key: str | None = None
    replayed: bool = Field(default=False, description="answered from the ledger, PayFlow not called")
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("executed", "dry_run")


class ActionLedger(Protocol):
    """Where executed results are remembered by idempotency key (durable in production)."""

    def get(self, key: str) -> ActionResult | None: ...

    def put(self, key: str, result: ActionResult) -> None: ...


class MemoryActionLedger:
    """An in-process ActionLedger (tests, evals, a single worker)."""

    def __init__(self) -> None:
        self.results: dict[str, ActionResult] = {}

    def get(self, key: str) -> ActionResult | None:
        return self.results.get(key)

    def put(self, key: str, result: ActionResult) -> None:
        self.results[key] = result


def idempotency_key_for(context: ActionContext, name: str) -> str:
    """One key per (ticket, action): the same ticket never runs the same action twice."""
    return f"triage:{context.ticket_id}:{name}"


def _backend_error(exc: WriteBackError) -> ActionErrorInfo:
    if isinstance(exc, TransientWriteBackError):
        return ActionErrorInfo(kind="backend_transient", message=str(exc), status=exc.status, retryable=True)
    if isinstance(exc, PermanentWriteBackError):
        return ActionErrorInfo(kind="backend_permanent", message=str(exc), status=exc.status)
    return ActionErrorInfo(kind="backend_config", message=str(exc))


def run_action(
    name: str,
    args: Mapping[str, Any] | BaseModel,
    *,
    dry_run: bool,
    backend: ActionBackend | None,
    context: ActionContext,
    idempotency_key: str | None = None,
    ledger: ActionLedger | None = None,
) -> ActionResult:
    """Validate, decide approval, then describe (dry run) or execute (live). Never raises for bad
    names, bad arguments or backend failures (see the statuses); raises `ActionConfigError` when a
    live run that must execute has no backend (a wiring bug)."""
    try:
        spec = get_action(name)
        model = validate_arguments(name, args)
    except NotAllowlistedError as exc:
        return ActionResult(
            name=name, status="rejected", error=ActionErrorInfo(kind="not_allowlisted", message=str(exc))
        )
    except InvalidArgumentsError as exc:
        return ActionResult(
            name=name,
            status="rejected",
            error=ActionErrorInfo(kind="invalid_arguments", message=str(exc), field=exc.field),
        )

    approval = spec.approval(model, context)
    request = spec.request(model)
    key = idempotency_key or idempotency_key_for(context, name)
    base: dict[str, Any] = {
        "name": name,
        "approval": approval,
        "arguments": model.model_dump(mode="json"),
        "request": request,
        "idempotency_key": key,
    }
    # approval before the dry run: a dry run says what a live run would do, and a live run would wait
    if approval.rule == "needs_approval" and not context.approved_by:
        return ActionResult(status="needs_approval", note=approval.reason, **base)
    if dry_run:
        return ActionResult(status="dry_run", **base)
    if ledger is not None:
        done = ledger.get(key)
        if done is not None and done.status == "executed":
            return done.model_copy(update={"replayed": True})
    if backend is None:
        raise ActionConfigError(
            f"action {name!r} must execute but no backend was given: pass a PayFlowClient (or run with dry_run=True)"
        )

    try:
        answer = backend.send(request, idempotency_key=key if request.method != "GET" else None)
    except WriteBackError as exc:
        return ActionResult(status="failed", error=_backend_error(exc), **base)

    note = f"approved by {context.approved_by}" if approval.rule == "needs_approval" else None
    try:
        output: Any = spec.output_model.model_validate(answer)
    except ValidationError as exc:
        # PayFlow accepted the call: an odd answer must not turn it into a failure (a retry would repeat it)
        output, note = None, f"executed, but the answer did not match {spec.output_model.__name__}: {exc.errors()[:1]}"
    result = ActionResult(status="executed", output=output, note=note, **base)
    if ledger is not None:
        ledger.put(key, result)
    return result
