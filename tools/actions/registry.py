"""The allowlist: every action the agent may run, with its schemas, approval rule and request.

An action exists only if it is in `REGISTRY`; `get_action` refuses any other name with
`NotAllowlistedError`, and `validate_arguments` turns raw arguments into the action's input model or
raises `InvalidArgumentsError` naming the field. Approval rules are pure functions of the validated
arguments and the ticket context, so a dry run decides exactly what a live run would.

Approval rules (documented again on each rule function):
- password_reset: `auto` only when the target account's email equals the requester's email (the
  self-service reset KB-001 describes: the link goes to the requester's own mailbox); anything else
  (a colleague's account, an account named by login, no requester email) `needs_approval`: a human
  checks the requester may act for that account (admins only, KB-001) - the classic takeover path.
- resend_payslip: `auto` when the payslip goes to the address on the employee's profile (no
  `send_to`, or `send_to` equal to the `employee_email` that identified the employee, which the
  backend only accepts if it is on file); `needs_approval` when it would go anywhere else: a payslip
  is salary and tax data.
- payroll_run_status: `auto` (read-only; the backend scopes runs to the ticket's company).
- open_problem_record: `auto` (an internal link between a ticket and a known-issue record; nothing
  is sent to the customer and linking twice is a no-op).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.actions.errors import FieldIssue, InvalidArgumentsError, NotAllowlistedError
from tools.actions.schemas import (
    ACTION_NAMES,
    EMAIL_PATTERN,
    EMPLOYEE_ID_PATTERN,
    LOGIN_PATTERN,
    PERIOD_PATTERN,
    RCA_ID_PATTERN,
    RUN_ID_PATTERN,
    ActionName,
    OpenProblemRecordInput,
    OpenProblemRecordOutput,
    PasswordResetInput,
    PasswordResetOutput,
    PayrollRunStatusInput,
    PayrollRunStatusOutput,
    ResendPayslipInput,
    ResendPayslipOutput,
)

ApprovalRule = Literal["auto", "needs_approval"]


class ActionContext(BaseModel):
    """What the ticket says about who asks (never taken from the ticket text, which anyone can write)."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str = Field(description="our ticket id: with the action name, the idempotency key")
    ticket_external_id: str | None = Field(default=None, description="the ticket's id in its system")
    requester_email: str | None = Field(default=None, description="the ticket's requester, from the system")
    company: str | None = Field(default=None, description="the customer company (Ticket.customer.name)")
    linked_rca: str | None = Field(default=None, description="the RCA doc the decision linked (Decision.linked_issue)")
    today: date | None = Field(default=None, description="reference date for periods without a year (default: today)")
    approved_by: str | None = Field(default=None, description="set when a human approved this action")

    @classmethod
    def from_ticket(cls, ticket: Any, *, linked_rca: str | None = None, **overrides: Any) -> ActionContext:
        """From an `agent.domain.Ticket` (duck-typed: id, external_id, requester, customer.name)."""
        customer = getattr(ticket, "customer", None)
        values: dict[str, Any] = {
            "ticket_id": ticket.id,
            "ticket_external_id": ticket.external_id,
            "requester_email": ticket.requester,
            "company": getattr(customer, "name", None),
            "linked_rca": linked_rca,
        }
        return cls(**{**values, **overrides})


class Approval(BaseModel):
    rule: ApprovalRule
    reason: str


class PlannedRequest(BaseModel):
    """The one backend call an action makes: what a dry run reports and what a live run sends."""

    method: Literal["GET", "POST"]
    path: str
    json_body: dict[str, Any] | None = None
    params: dict[str, str] | None = None


@dataclass(frozen=True)
class ActionSpec:
    name: ActionName
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    approval: Callable[[Any, ActionContext], Approval]
    request: Callable[[Any], PlannedRequest]


def _same_email(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


# ---- approval rules ----------------------------------------------------------------------------
def password_reset_approval(args: PasswordResetInput, ctx: ActionContext) -> Approval:
    """auto only for a self-service reset: the account's email is the requester's own email. The
    link always goes to the account's address on file, but resetting someone else's password (or an
    account named only by login) needs a human to confirm the requester is that company's admin."""
    if args.email is not None and _same_email(args.email, ctx.requester_email):
        return Approval(rule="auto", reason="self-service reset: the account is the requester's own email")
    if ctx.requester_email is None:
        return Approval(rule="needs_approval", reason="the ticket has no requester email to match the account")
    target = f"login {args.login}" if args.login else "another user's email"
    return Approval(
        rule="needs_approval",
        reason=f"the account ({target}) is not the requester's own: an agent must confirm the requester may act for it",
    )


def resend_payslip_approval(args: ResendPayslipInput, ctx: ActionContext) -> Approval:
    """auto when the payslip goes to the address on the employee's profile; needs approval when
    `send_to` names any other address (payslips carry salary and tax data)."""
    if args.send_to is None:
        return Approval(rule="auto", reason="delivered to the address on the employee's profile")
    if _same_email(args.send_to, args.employee_email):
        return Approval(rule="auto", reason="send_to is the employee email on file that identified the employee")
    return Approval(
        rule="needs_approval",
        reason="send_to is not the employee's email on file: an agent must confirm the new address",
    )


def payroll_run_status_approval(args: PayrollRunStatusInput, ctx: ActionContext) -> Approval:
    """auto: read-only, and runs are looked up within the ticket's company."""
    return Approval(rule="auto", reason="read-only status lookup")


def open_problem_record_approval(args: OpenProblemRecordInput, ctx: ActionContext) -> Approval:
    """auto: an internal link to a known-issue record; nothing reaches the customer; idempotent."""
    return Approval(rule="auto", reason="internal problem-record link, no customer-facing effect")


# ---- requests (the PayFlow admin API, see tools/actions/backend.py) ------------------------------
def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def password_reset_request(args: PasswordResetInput) -> PlannedRequest:
    return PlannedRequest(method="POST", path="/api/v1/users/password-reset", json_body=_drop_none(args.model_dump()))


def resend_payslip_request(args: ResendPayslipInput) -> PlannedRequest:
    return PlannedRequest(method="POST", path="/api/v1/payslips/resend", json_body=_drop_none(args.model_dump()))


def payroll_run_status_request(args: PayrollRunStatusInput) -> PlannedRequest:
    scope = _drop_none({"company": args.company})
    if args.run_id is not None:
        return PlannedRequest(method="GET", path=f"/api/v1/payroll-runs/{quote(args.run_id)}", params=scope or None)
    return PlannedRequest(method="GET", path="/api/v1/payroll-runs", params={**scope, "period": args.period or ""})


def open_problem_record_request(args: OpenProblemRecordInput) -> PlannedRequest:
    return PlannedRequest(method="POST", path="/api/v1/problems", json_body=args.model_dump())


REGISTRY: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "password_reset",
            "send a password-reset link to a PayFlow account's own email (KB-001)",
            PasswordResetInput,
            PasswordResetOutput,
            password_reset_approval,
            password_reset_request,
        ),
        ActionSpec(
            "resend_payslip",
            "resend an employee's payslip for a pay period (KB-009)",
            ResendPayslipInput,
            ResendPayslipOutput,
            resend_payslip_approval,
            resend_payslip_request,
        ),
        ActionSpec(
            "payroll_run_status",
            "report a pay run's status, calculation blockers and approval cut-off (KB-005, KB-008)",
            PayrollRunStatusInput,
            PayrollRunStatusOutput,
            payroll_run_status_approval,
            payroll_run_status_request,
        ),
        ActionSpec(
            "open_problem_record",
            "link the ticket to the problem record of an open known issue (RCA docs)",
            OpenProblemRecordInput,
            OpenProblemRecordOutput,
            open_problem_record_approval,
            open_problem_record_request,
        ),
    )
}
assert tuple(REGISTRY) == ACTION_NAMES


def allowlisted() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get_action(name: str) -> ActionSpec:
    """The allowlisted action called `name`; any other name raises `NotAllowlistedError`."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise NotAllowlistedError(name, allowlisted())
    return spec


_PATTERN_HINTS = {
    EMAIL_PATTERN: "must be an email address such as jane@acme.example",
    PERIOD_PATTERN: "must be a pay period YYYY-MM, e.g. 2025-10",
    RUN_ID_PATTERN: "must be a pay run id such as PR-2025-11-002",
    RCA_ID_PATTERN: "must be an RCA document id such as RCA-003",
    EMPLOYEE_ID_PATTERN: "must be a numeric PayFlow employee ID such as 1043",
    LOGIN_PATTERN: "must be a PayFlow login (letters, digits, . _ -)",
}


def validate_arguments(name: str, args: Mapping[str, Any] | BaseModel) -> BaseModel:
    """`args` as the action's validated input model; raises NotAllowlistedError / InvalidArgumentsError."""
    spec = get_action(name)
    if isinstance(args, BaseModel):
        if isinstance(args, spec.input_model):
            return args
        args = args.model_dump()
    try:
        return spec.input_model.model_validate(dict(args))
    except ValidationError as exc:
        error = InvalidArgumentsError.from_validation(name, exc)
        issues: list[FieldIssue] = []
        for issue, raw in zip(error.issues, exc.errors(), strict=True):
            hint = _PATTERN_HINTS.get(str((raw.get("ctx") or {}).get("pattern", "")))
            issues.append(FieldIssue(issue.field, f"{hint} (got {raw['input']!r})") if hint else issue)
        raise InvalidArgumentsError(name, issues) from None
