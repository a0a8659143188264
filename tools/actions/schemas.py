"""Input and output models of the allowlisted actions, and the argument types they share.

Inputs are strict (`extra="forbid"`, patterns on every identifier) so a model or a regex can only
hand over well-formed values; patterns are plain JSON-schema `pattern`s so a grammar-constrained
LLM (`with_structured_output`) is held to them too. Outputs carry an `action` tag so a result can
hold any of them as one discriminated union.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, LiteralString

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

ActionName = Literal["password_reset", "resend_payslip", "payroll_run_status", "open_problem_record"]
ACTION_NAMES: tuple[ActionName, ...] = ("password_reset", "resend_payslip", "payroll_run_status", "open_problem_record")

EMAIL_PATTERN = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
PERIOD_PATTERN = r"^(20\d{2})-(0[1-9]|1[0-2])$"
RUN_ID_PATTERN = r"^PR-20\d{2}-(0[1-9]|1[0-2])-\d{3}$"
RCA_ID_PATTERN = r"^RCA-\d{3}$"
EMPLOYEE_ID_PATTERN = r"^\d{1,10}$"
LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _lower_email(value: str) -> str:
    return value.lower()


def _employee_id(value: Any) -> Any:
    """`1043`, `"1043"`, `"#1043"`, `"EMP-1043"` -> `"1043"`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return re.sub(r"^(?:emp(?:loyee)?[-_ ]?|#)", "", value.strip(), flags=re.IGNORECASE)
    return value


Email = Annotated[
    str,
    BeforeValidator(_strip),
    Field(max_length=254, pattern=EMAIL_PATTERN, description="an email address, e.g. jane@acme.example"),
    AfterValidator(_lower_email),
]
Login = Annotated[
    str, BeforeValidator(_strip), Field(pattern=LOGIN_PATTERN, description="a PayFlow user login, e.g. jcooper")
]
Period = Annotated[str, BeforeValidator(_strip), Field(pattern=PERIOD_PATTERN, description="pay period YYYY-MM")]
RunId = Annotated[str, BeforeValidator(_upper), Field(pattern=RUN_ID_PATTERN, description="e.g. PR-2025-11-002")]
RcaId = Annotated[str, BeforeValidator(_upper), Field(pattern=RCA_ID_PATTERN, description="e.g. RCA-003")]
EmployeeId = Annotated[
    str, BeforeValidator(_employee_id), Field(pattern=EMPLOYEE_ID_PATTERN, description="PayFlow employee ID, e.g. 1043")
]
Company = Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=200)]


def _one_of(fields: tuple[str, ...], message: LiteralString) -> PydanticCustomError:
    # model-level errors have no location: `fields` in the context names the arguments concerned
    return PydanticCustomError("one_of", message, {"fields": "|".join(fields)})


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- inputs ----------------------------------------------------------------------------------------
class PasswordResetInput(_Input):
    """Send a password-reset link (KB-001). The link always goes to the account's own address on
    file: there is deliberately no "send to" argument. Exactly one of `email` / `login`."""

    email: Email | None = Field(default=None, description="the account's work email")
    login: Login | None = Field(default=None, description="the account's login, when no email is known")

    @model_validator(mode="after")
    def _exactly_one(self) -> PasswordResetInput:
        if (self.email is None) == (self.login is None):
            raise _one_of(("email", "login"), "give exactly one of email or login")
        return self


class ResendPayslipInput(_Input):
    """Resend one employee's payslip for one pay period (KB-009). Without `send_to` it goes to the
    address selected under "Send payslips to" on the employee's profile."""

    company: Company | None = Field(default=None, description="the customer company (scopes employee ids)")
    employee_id: EmployeeId | None = None
    employee_email: Email | None = Field(default=None, description="an email on the employee's profile")
    period: Period
    send_to: Email | None = Field(default=None, description="deliver to this address instead of the one on file")

    @model_validator(mode="after")
    def _employee(self) -> ResendPayslipInput:
        if self.employee_id is None and self.employee_email is None:
            raise _one_of(("employee_id", "employee_email"), "give employee_id or employee_email")
        return self


class PayrollRunStatusInput(_Input):
    """Where a pay run stands (KB-005, KB-008): by `run_id`, or the runs of `company` in `period`."""

    run_id: RunId | None = None
    company: Company | None = None
    period: Period | None = None

    @model_validator(mode="after")
    def _run_or_period(self) -> PayrollRunStatusInput:
        if self.run_id is None and (self.company is None or self.period is None):
            raise _one_of(("run_id", "company", "period"), "give run_id, or both company and period")
        return self


class OpenProblemRecordInput(_Input):
    """Link the ticket to the problem record of a known issue (an open RCA doc), creating the record
    if the RCA has none yet, so engineering sees how many customers are affected."""

    rca_id: RcaId
    ticket_external_id: str = Field(min_length=1, max_length=255, description="the ticket's id in its system")
    summary: str = Field(min_length=10, max_length=2000, description="one line on what this customer sees")

    @model_validator(mode="before")
    @classmethod
    def _trim(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}  # pyright: ignore[reportUnknownVariableType]
        return data


# ---- outputs ---------------------------------------------------------------------------------------
class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PasswordResetOutput(_Output):
    action: Literal["password_reset"] = "password_reset"
    user_id: str
    sent_to: str = Field(description="the address the link went to, masked (j***@acme.example)")
    expires_in_minutes: int = 60


class ResendPayslipOutput(_Output):
    action: Literal["resend_payslip"] = "resend_payslip"
    employee_id: str
    period: str
    delivered_to: str = Field(description="masked address")
    message_id: str
    resends_today: int


class Blocker(BaseModel):
    code: str  # PF-2041 ... as in the calculation log
    message: str
    employee_id: str | None = None


class PayrollRun(BaseModel):
    model_config = ConfigDict(extra="ignore")
    run_id: str
    company: str
    period: str
    type: str = "regular"  # regular | off_cycle | advance
    status: str  # draft | calculating | calculated | submitted | approved | paid
    status_since: str | None = None
    employees: int = 0
    payment_date: str | None = None
    approval_cutoff: str | None = None
    blockers: list[Blocker] = Field(default_factory=list[Blocker])


class PayrollRunStatusOutput(_Output):
    action: Literal["payroll_run_status"] = "payroll_run_status"
    runs: list[PayrollRun]


class OpenProblemRecordOutput(_Output):
    action: Literal["open_problem_record"] = "open_problem_record"
    problem_id: str
    rca_id: str
    status: str
    linked_tickets: int
    already_linked: bool = False
    created: bool = False


ActionInput = PasswordResetInput | ResendPayslipInput | PayrollRunStatusInput | OpenProblemRecordInput
ActionOutput = Annotated[
    PasswordResetOutput | ResendPayslipOutput | PayrollRunStatusOutput | OpenProblemRecordOutput,
    Field(discriminator="action"),
]


def mask_email(address: str) -> str:
    """`jane.cooper@acme.example` -> `j***@acme.example` (what results and audit logs may show)."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
