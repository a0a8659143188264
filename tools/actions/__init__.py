"""Business actions on the PayFlow product: allowlisted, schema-validated, approval-gated, dry-runnable.

    from tools.actions import ActionContext, PayFlowClient, PayFlowConfig, extract_arguments, run_action

    ctx = ActionContext.from_ticket(ticket, linked_rca=decision.linked_issue)
    got = extract_arguments("resend_payslip", redacted_text, ctx)          # rules (+ optional llm=)
    if got.ok:
        result = run_action("resend_payslip", got.arguments, dry_run=False,
                            backend=PayFlowClient(PayFlowConfig(base_url=..., token=...)), context=ctx)
        # result.status: executed | dry_run | needs_approval | rejected | failed

The allowlist (names as the KB/RCA docs' `action:` front matter): password_reset, resend_payslip,
payroll_run_status, open_problem_record. Approval rules: `tools.actions.registry`. The fake
backend for tests: `tools.actions.testing.FakePayFlow`.
"""

from __future__ import annotations

from tools.actions.backend import ActionBackend, PayFlowClient, PayFlowConfig
from tools.actions.errors import (
    ActionConfigError,
    ActionError,
    ActionUsageError,
    ExtractionError,
    FieldIssue,
    InvalidArgumentsError,
    NotAllowlistedError,
)
from tools.actions.extract import Extraction, Missing, extract_arguments, extract_rules, extract_with_llm
from tools.actions.periods import find_periods
from tools.actions.registry import (
    REGISTRY,
    ActionContext,
    ActionSpec,
    Approval,
    PlannedRequest,
    allowlisted,
    get_action,
    validate_arguments,
)
from tools.actions.run import (
    ActionErrorInfo,
    ActionLedger,
    ActionResult,
    MemoryActionLedger,
    idempotency_key_for,
    run_action,
)
from tools.actions.schemas import (
    ACTION_NAMES,
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

__all__ = [
    "ACTION_NAMES",
    "REGISTRY",
    "ActionBackend",
    "ActionConfigError",
    "ActionContext",
    "ActionError",
    "ActionErrorInfo",
    "ActionLedger",
    "ActionName",
    "ActionResult",
    "ActionSpec",
    "ActionUsageError",
    "Approval",
    "Extraction",
    "ExtractionError",
    "FieldIssue",
    "InvalidArgumentsError",
    "MemoryActionLedger",
    "Missing",
    "NotAllowlistedError",
    "OpenProblemRecordInput",
    "OpenProblemRecordOutput",
    "PasswordResetInput",
    "PasswordResetOutput",
    "PayFlowClient",
    "PayFlowConfig",
    "PayrollRunStatusInput",
    "PayrollRunStatusOutput",
    "PlannedRequest",
    "ResendPayslipInput",
    "ResendPayslipOutput",
    "allowlisted",
    "extract_arguments",
    "extract_rules",
    "extract_with_llm",
    "find_periods",
    "get_action",
    "idempotency_key_for",
    "run_action",
    "validate_arguments",
]
