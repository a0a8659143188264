"""tools/actions: schemas, allowlist, approval rules, extractors (EN/UK), LLM path, dry run, ledger."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel

from agent.graph.llm import LLM_FALLBACK_ERRORS
from agent.graph.testing import ScriptedChatModel
from tools.actions import (
    REGISTRY,
    ActionConfigError,
    ActionContext,
    ExtractionError,
    InvalidArgumentsError,
    MemoryActionLedger,
    NotAllowlistedError,
    PlannedRequest,
    extract_arguments,
    extract_rules,
    extract_with_llm,
    find_periods,
    get_action,
    run_action,
    validate_arguments,
)
from tools.actions.schemas import PasswordResetInput, ResendPayslipInput
from tools.actions.testing import FakePayFlow
from tools.http import PermanentWriteBackError

TODAY = date(2025, 11, 20)
CTX = ActionContext(
    ticket_id="t-1",
    ticket_external_id="ZD-501",
    requester_email="olena.marsh@acme.example",
    company="Acme Ltd",
    today=TODAY,
)
RESEND = {"company": "Acme Ltd", "employee_id": "1043", "period": "2025-10"}
VALID: dict[str, dict[str, Any]] = {
    "password_reset": {"email": "olena.marsh@acme.example"},
    "resend_payslip": RESEND,
    "payroll_run_status": {"run_id": "PR-2025-11-002"},
    "open_problem_record": {"rca_id": "RCA-003", "ticket_external_id": "ZD-501", "summary": "night shift doubled"},
}


class RecordingBackend:
    """An ActionBackend double: records what it is asked to send, answers scripted JSON."""

    def __init__(self, answer: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.sent: list[tuple[PlannedRequest, str | None]] = []
        self.answer = answer or {}
        self.error = error

    def send(self, request: PlannedRequest, *, idempotency_key: str | None = None) -> dict[str, Any]:
        self.sent.append((request, idempotency_key))
        if self.error is not None:
            raise self.error
        return self.answer


PAYSLIP_ANSWER = {"employee_id": "1043", "period": "2025-10", "delivered_to": "j***@acme.example",
                  "message_id": "msg-1", "resends_today": 1}  # fmt: skip


# ---- allowlist and schemas -------------------------------------------------------------------------
def test_allowlist_is_exactly_the_actions_the_demo_docs_name() -> None:
    kb = __import__("agent.settings", fromlist=["REPO_ROOT"]).REPO_ROOT / "knowledge" / "demo"
    named = set()
    for doc in kb.rglob("*.md"):
        m = re.search(r"^action:\s*(\S+)\s*$", doc.read_text(encoding="utf-8"), re.MULTILINE)
        if m and m.group(1) != "none":
            named.add(m.group(1))
    assert named == set(REGISTRY) == {"password_reset", "resend_payslip", "payroll_run_status", "open_problem_record"}


def test_unknown_action_is_a_typed_not_allowlisted_error() -> None:
    with pytest.raises(NotAllowlistedError, match="not allowlisted") as err:
        get_action("delete_employee")
    assert err.value.allowed == tuple(REGISTRY)
    with pytest.raises(NotAllowlistedError):
        validate_arguments("Password_Reset", {"email": "a@b.example"})


def test_unknown_action_is_rejected_by_run_action_without_touching_the_backend() -> None:
    backend = RecordingBackend()
    result = run_action("transfer_salary", {"amount": 1}, dry_run=False, backend=backend, context=CTX)
    assert result.status == "rejected"
    assert result.error is not None and result.error.kind == "not_allowlisted"
    assert backend.sent == []


def test_valid_arguments_are_normalised() -> None:
    assert validate_arguments("password_reset", {"email": " Olena.Marsh@Acme.Example "}) == PasswordResetInput(
        email="olena.marsh@acme.example"
    )
    resend = validate_arguments("resend_payslip", {"employee_id": "EMP-1043", "period": "2025-10"})
    assert isinstance(resend, ResendPayslipInput) and resend.employee_id == "1043"
    assert validate_arguments("resend_payslip", {"employee_id": 1043, "period": "2025-10"}) == resend
    run = validate_arguments("payroll_run_status", {"run_id": "pr-2025-11-002"})
    assert run.model_dump()["run_id"] == "PR-2025-11-002"
    for name, args in VALID.items():
        assert validate_arguments(name, args)


@pytest.mark.parametrize(
    ("name", "args", "field", "says"),
    [
        ("resend_payslip", {"employee_id": "1043", "period": "2025-13"}, "period", "YYYY-MM"),
        ("resend_payslip", {"employee_id": "1043", "period": "October"}, "period", "YYYY-MM"),
        ("resend_payslip", {"employee_id": "Jane", "period": "2025-10"}, "employee_id", "numeric"),
        ("resend_payslip", {"period": "2025-10"}, "employee_id|employee_email", "employee_id or employee_email"),
        ("resend_payslip", {"employee_id": "1043", "period": "2025-10", "send_to": "jane at mail"}, "send_to", "email"),
        ("password_reset", {}, "email|login", "exactly one"),
        ("password_reset", {"email": "a@b.example", "login": "ab"}, "email|login", "exactly one"),
        ("password_reset", {"email": "not-an-email"}, "email", "email address"),
        ("password_reset", {"email": "a@b.example", "send_to": "x@evil.example"}, "send_to", "Extra inputs"),
        ("payroll_run_status", {"company": "Acme Ltd"}, "run_id|company|period", "run_id, or both"),
        ("payroll_run_status", {"run_id": "2025-11-002"}, "run_id", "PR-2025-11-002"),
        (
            "open_problem_record",
            {"rca_id": "PRB-1063", "ticket_external_id": "1", "summary": "x" * 20},
            "rca_id",
            "RCA",
        ),
        ("open_problem_record", {"rca_id": "RCA-003", "ticket_external_id": "1", "summary": "short"}, "summary", ""),
    ],
)
def test_invalid_arguments_name_the_field(name: str, args: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(InvalidArgumentsError) as err:
        validate_arguments(name, args)
    assert err.value.field == field
    assert says in str(err.value)
    result = run_action(name, args, dry_run=True, backend=None, context=CTX)
    assert result.status == "rejected"
    assert result.error is not None and result.error.kind == "invalid_arguments" and result.error.field == field


# ---- approval rules -------------------------------------------------------------------------------
def _approval(name: str, args: dict[str, Any], ctx: ActionContext = CTX) -> str:
    spec = get_action(name)
    return spec.approval(validate_arguments(name, args), ctx).rule


def test_password_reset_is_auto_only_for_the_requesters_own_account() -> None:
    assert _approval("password_reset", {"email": "OLENA.MARSH@acme.example"}) == "auto"
    assert _approval("password_reset", {"email": "jane.cooper@acme.example"}) == "needs_approval"
    assert _approval("password_reset", {"login": "omarsh"}) == "needs_approval"
    no_requester = CTX.model_copy(update={"requester_email": None})
    assert _approval("password_reset", {"email": "olena.marsh@acme.example"}, no_requester) == "needs_approval"


def test_resend_payslip_needs_approval_only_for_an_address_not_on_file() -> None:
    assert _approval("resend_payslip", RESEND) == "auto"
    elsewhere = {**RESEND, "send_to": "jane.private@gmail.example"}
    assert _approval("resend_payslip", elsewhere) == "needs_approval"
    by_email = {"employee_email": "jane.c@mail.example", "period": "2025-10", "send_to": "Jane.C@mail.example"}
    assert _approval("resend_payslip", by_email) == "auto"


def test_read_only_and_internal_actions_are_auto() -> None:
    assert _approval("payroll_run_status", VALID["payroll_run_status"]) == "auto"
    assert _approval("open_problem_record", VALID["open_problem_record"]) == "auto"


def test_needs_approval_sends_nothing_until_a_human_approves() -> None:
    backend = RecordingBackend(PAYSLIP_ANSWER)
    args = {**RESEND, "send_to": "jane.private@gmail.example"}
    held = run_action("resend_payslip", args, dry_run=False, backend=backend, context=CTX)
    assert held.status == "needs_approval" and held.approval is not None and "send_to" in held.approval.reason
    assert backend.sent == []
    approved = run_action(
        "resend_payslip", args, dry_run=False, backend=backend, context=CTX.model_copy(update={"approved_by": "anna"})
    )
    assert approved.status == "executed" and approved.note == "approved by anna"
    assert len(backend.sent) == 1


# ---- dry run ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def payflow() -> Iterator[FakePayFlow]:
    with FakePayFlow() as fake:
        yield fake


@pytest.mark.parametrize("name", sorted(VALID))
def test_dry_run_never_touches_the_backend(payflow: FakePayFlow, name: str) -> None:
    payflow.reset()
    with payflow.client() as client:
        result = run_action(name, VALID[name], dry_run=True, backend=client, context=CTX)
    assert result.status == "dry_run"
    assert result.approval is not None and result.request is not None
    assert result.output is None
    assert payflow.requests == []
    assert payflow.emails_sent == []


def test_dry_run_reports_the_request_a_live_run_would_send() -> None:
    args = {**RESEND, "send_to": "jane.private@gmail.example"}
    result = run_action("resend_payslip", args, dry_run=True, backend=None, context=CTX)
    # a dry run answers what a live run would do: this one would wait for a human, so the eval sees the
    # same downgrade to a suggestion that the service makes
    assert result.status == "needs_approval"
    assert result.approval is not None and result.approval.rule == "needs_approval"
    approved = run_action(
        "resend_payslip", args, dry_run=True, backend=None, context=CTX.model_copy(update={"approved_by": "anna"})
    )
    assert approved.status == "dry_run" and approved.request == result.request
    assert result.request == PlannedRequest(
        method="POST",
        path="/api/v1/payslips/resend",
        json_body={"company": "Acme Ltd", "employee_id": "1043", "period": "2025-10",
                   "send_to": "jane.private@gmail.example"},
    )  # fmt: skip
    assert result.idempotency_key == "triage:t-1:resend_payslip"
    by_period = run_action("payroll_run_status", {"company": "Acme Ltd", "period": "2025-11"}, dry_run=True,
                           backend=None, context=CTX)  # fmt: skip
    assert by_period.request == PlannedRequest(
        method="GET", path="/api/v1/payroll-runs", params={"company": "Acme Ltd", "period": "2025-11"}
    )


def test_live_run_without_a_backend_is_a_wiring_error() -> None:
    with pytest.raises(ActionConfigError, match="no backend"):
        run_action("payroll_run_status", VALID["payroll_run_status"], dry_run=False, backend=None, context=CTX)


def test_backend_failure_is_a_failed_result_not_an_exception() -> None:
    error = PermanentWriteBackError("payflow said no", system="payflow", method="POST", endpoint="/x", status=409,
                                    api_error="sso_managed")  # fmt: skip
    result = run_action("password_reset", VALID["password_reset"], dry_run=False, backend=RecordingBackend(error=error),
                        context=CTX)  # fmt: skip
    assert result.status == "failed"
    assert result.error is not None and result.error.kind == "backend_permanent" and result.error.status == 409
    assert not result.error.retryable


def test_an_accepted_call_with_an_odd_answer_is_still_executed() -> None:
    result = run_action("resend_payslip", RESEND, dry_run=False, backend=RecordingBackend({"ok": True}), context=CTX)
    assert result.status == "executed" and result.output is None
    assert result.note is not None and "ResendPayslipOutput" in result.note


def test_ledger_short_circuits_a_rerun_and_the_key_is_per_ticket_and_action() -> None:
    backend, ledger = RecordingBackend(PAYSLIP_ANSWER), MemoryActionLedger()
    first = run_action("resend_payslip", RESEND, dry_run=False, backend=backend, context=CTX, ledger=ledger)
    again = run_action("resend_payslip", RESEND, dry_run=False, backend=backend, context=CTX, ledger=ledger)
    assert first.status == again.status == "executed"
    assert not first.replayed and again.replayed
    assert [key for _, key in backend.sent] == ["triage:t-1:resend_payslip"]
    other = CTX.model_copy(update={"ticket_id": "t-2"})
    run_action("resend_payslip", RESEND, dry_run=False, backend=backend, context=other, ledger=ledger)
    assert [key for _, key in backend.sent] == ["triage:t-1:resend_payslip", "triage:t-2:resend_payslip"]


def test_gets_carry_no_idempotency_key() -> None:
    backend = RecordingBackend({"runs": []})
    run_action("payroll_run_status", VALID["payroll_run_status"], dry_run=False, backend=backend, context=CTX)
    assert backend.sent[0][1] is None


# ---- periods --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "periods"),
    [
        ("my March 2026 payslip", ["2026-03"]),
        ("Mar 2026", ["2026-03"]),
        ("payslip for 03/2026 please", ["2026-03"]),
        ("period 2026-03", ["2026-03"]),
        ("paid on 15.03.2026", ["2026-03"]),
        ("her October payslip", ["2025-10"]),  # no year: the latest October up to today (Nov 2025)
        ("the December payslip", ["2024-12"]),  # December is still ahead: last year's
        ("shift on 26 Oct", ["2025-10"]),
        ("May 2025 and may I ask", ["2025-05"]),  # "may" without a year is a verb
        ("Jan Kowalski asked", []),  # an abbreviation alone is a name, not a month
        ("розрахунковий лист за березень 2026", ["2026-03"]),
        ("за березня 2026 року", ["2026-03"]),
        ("у жовтні", ["2025-10"]),
        ("У жовтневій зарплаті", ["2025-10"]),
        ("аванс за листопад", ["2025-11"]),
        ("грудень 2025", ["2025-12"]),
        ("лютого 2026 р.", ["2026-02"]),
        ("травма і червоний колір", []),  # month stems inside other words
        ("pay run PR-2025-11-002", []),  # the period inside a run id is not a mention
        ("September 2025 and Oct 2025", ["2025-09", "2025-10"]),
    ],
)
def test_periods_in_english_and_ukrainian(text: str, periods: list[str]) -> None:
    assert find_periods(text, TODAY) == periods


# ---- rule extractors --------------------------------------------------------------------------------
S053 = (
    "Payslip not received - Jane Cooper\n\nHi, one of our employees, Jane Cooper (employee ID 1043), says she never "
    "got her October payslip by email. Everyone else did. Can you send it again or tell me how I do it?\n\n"
    "Thanks,\nOlena Marsh | HR Officer | Acme Ltd\n[PHONE]"
)


def test_resend_payslip_from_the_demo_ticket() -> None:
    got = extract_rules("resend_payslip", S053, CTX)
    assert got.ok and got.source == "rules"
    assert got.arguments == {"company": "Acme Ltd", "employee_id": "1043", "period": "2025-10"}


@pytest.mark.parametrize(
    ("text", "employee_id"),
    [
        ("employee no. 2291, payslip March 2026", "2291"),
        ("employee #77 needs the 03/2026 payslip", "77"),
        ("EMP-1120 payslip 2026-03", "1120"),
        ("Tom Baker (ID 1120) did not get the March 2026 payslip", "1120"),
        ("Працівниця з табельним номером 415 не отримала розрахунковий лист за березень 2026", "415"),
        ("надішліть розрахунковий лист працівника ID 88 за березень 2026", "88"),
    ],
)
def test_resend_payslip_employee_ids(text: str, employee_id: str) -> None:
    got = extract_rules("resend_payslip", text, CTX)
    assert got.arguments is not None, got.missing
    assert got.arguments["employee_id"] == employee_id and got.arguments["period"] == "2026-03"


def test_resend_payslip_says_what_is_missing() -> None:
    got = extract_rules("resend_payslip", "Please resend the payslip of [EMAIL], she lost it.", CTX)
    assert not got.ok
    fields = {m.field: m.reason for m in got.missing}
    assert set(fields) == {"employee_id", "period"}
    assert "masked by redaction" in fields["employee_id"]
    several = extract_rules("resend_payslip", "employee ID 1043 and employee ID 1044, October payslips", CTX)
    assert [m.field for m in several.missing] == ["employee_id"] and "1043, 1044" in several.missing[0].reason
    two_months = extract_rules("resend_payslip", "employee ID 1043: September and October payslips", CTX)
    assert [m.field for m in two_months.missing] == ["period"]


def test_resend_payslip_to_another_address_is_extracted_and_needs_approval() -> None:
    text = "Please resend employee ID 1043's October payslip to jane.private@gmail.example"
    got = extract_rules("resend_payslip", text, CTX)
    assert got.arguments is not None and got.arguments["send_to"] == "jane.private@gmail.example"
    assert run_action("resend_payslip", got.arguments, dry_run=False, backend=None, context=CTX).status == (
        "needs_approval"
    )


def test_payroll_run_status_by_run_id_or_company_and_period() -> None:
    text = "Our monthly pay run pr-2025-11-002 has been sitting on 'Calculating'. The cut-off is 11:00."
    assert extract_rules("payroll_run_status", text, CTX).arguments == {
        "run_id": "PR-2025-11-002",
        "company": "Acme Ltd",
    }
    uk = "Запустила розрахунок авансу за листопад, вже хвилин 40 статус «Розрахунок» і нічого не міняється."
    dnipro = CTX.model_copy(update={"company": "ТОВ «Дніпро Мет Сервіс»"})
    assert extract_rules("payroll_run_status", uk, dnipro).arguments == {
        "company": "ТОВ «Дніпро Мет Сервіс»",
        "period": "2025-11",
    }
    assert extract_rules("payroll_run_status", "this month's run is stuck", CTX).arguments == {
        "company": "Acme Ltd",
        "period": "2025-11",
    }
    nothing = extract_rules("payroll_run_status", "payroll is stuck", CTX.model_copy(update={"company": None}))
    assert {m.field for m in nothing.missing} == {"company", "period"}
    two = extract_rules("payroll_run_status", "PR-2025-11-002 and PR-2025-11-003 both stuck", CTX)
    assert [m.field for m in two.missing] == ["run_id"]


def test_password_reset_self_service_uses_the_requester_never_the_text() -> None:
    uk = "Не можу увійти\n\nДобрий день! Забула пароль від PayFlow, як його відновити?"
    ctx = CTX.model_copy(update={"requester_email": "i.kovalchuk@agroinvest.example"})
    assert extract_rules("password_reset", uk, ctx).arguments == {"email": "i.kovalchuk@agroinvest.example"}
    en = "I forgot my password, please send me a reset link at boss@evil.example"
    assert extract_rules("password_reset", en, CTX).arguments == {"email": "olena.marsh@acme.example"}
    no_requester = extract_rules("password_reset", en, CTX.model_copy(update={"requester_email": None}))
    assert [m.field for m in no_requester.missing] == ["email"]


def test_password_reset_for_a_colleague_needs_a_login_and_approval() -> None:
    uk = "Насправді в мене питання: як скинути пароль колезі, яка не може увійти? Я адміністратор компанії."
    got = extract_rules("password_reset", uk, CTX)
    assert not got.ok and got.missing[0].field == "email|login"
    with_login = extract_rules("password_reset", "Please reset the password for my colleague, login: jcooper", CTX)
    assert with_login.arguments is not None and with_login.arguments == {"login": "jcooper"}
    result = run_action("password_reset", with_login.arguments, dry_run=True, backend=None, context=CTX)
    assert result.approval is not None and result.approval.rule == "needs_approval"


def test_open_problem_record_from_the_linked_rca_or_the_text() -> None:
    text = "Night shift hours doubled after clocks went back\n\nSince the clocks went back on 26 October..."
    linked = CTX.model_copy(update={"linked_rca": "rca-003"})
    got = extract_rules("open_problem_record", text, linked)
    assert got.arguments is not None
    assert got.arguments["rca_id"] == "RCA-003" and got.arguments["ticket_external_id"] == "ZD-501"
    assert got.arguments["summary"].startswith("Night shift hours doubled after clocks went back Since")
    long = extract_rules("open_problem_record", "x " * 400 + "see RCA-010", CTX)
    assert long.arguments is not None and long.arguments["rca_id"] == "RCA-010"
    assert len(long.arguments["summary"]) == 280
    assert [m.field for m in extract_rules("open_problem_record", text, CTX).missing] == ["rca_id"]


def test_extractors_refuse_unknown_actions() -> None:
    with pytest.raises(NotAllowlistedError):
        extract_rules("refund_invoice", "refund me", CTX)


# ---- the LLM path -----------------------------------------------------------------------------------
def test_llm_fills_the_input_model_and_metadata_wins() -> None:
    model = ScriptedChatModel(replies=[{"company": "Evil Corp", "employee_id": "1043", "period": "2025-10"}])
    got = extract_with_llm("resend_payslip", "Jane's payslip from last month", CTX, model)
    assert got.source == "llm"
    assert got.arguments == {"company": "Acme Ltd", "employee_id": "1043", "period": "2025-10"}
    prompt = model.calls[0]
    assert "resend_payslip" in prompt[0]["content"] and "Acme Ltd" in prompt[0]["content"]
    assert prompt[1]["content"] == "Jane's payslip from last month"


def test_llm_answer_off_schema_is_an_extraction_error() -> None:
    model = ScriptedChatModel(replies=[{"employee_id": "1043", "period": "October"}])
    with pytest.raises(ExtractionError, match="period"):
        extract_with_llm("resend_payslip", "text", CTX, model, errors=LLM_FALLBACK_ERRORS)
    down = ScriptedChatModel(replies=[TimeoutError("llm timed out")])
    with pytest.raises(ExtractionError, match="timed out"):
        extract_with_llm("resend_payslip", "text", CTX, down)


def test_llm_cannot_be_asked_for_an_action_off_the_allowlist() -> None:
    model = ScriptedChatModel(replies=[{"amount": 100}])
    with pytest.raises(NotAllowlistedError):
        extract_with_llm("wire_money", "text", CTX, model)
    assert model.calls == []


def test_rules_first_then_the_llm_only_for_what_is_missing() -> None:
    model = ScriptedChatModel(replies=[{"employee_id": "1043", "period": "2025-09"}])
    complete = extract_arguments("resend_payslip", S053, CTX, llm=model)
    assert complete.source == "rules" and model.calls == []
    vague = "Jane Cooper (she is number 1043 on our list) did not get the payslip from two months ago"
    got = extract_arguments("resend_payslip", vague, CTX, llm=model)
    assert got.source == "rules+llm" and got.arguments is not None and got.arguments["period"] == "2025-09"
    failing = ScriptedChatModel(replies=[ConnectionError("server down")])  # a bug (RuntimeError) would raise
    fallback = extract_arguments("resend_payslip", vague, CTX, llm=failing)
    assert not fallback.ok and fallback.llm_error is not None and "server down" in fallback.llm_error
    assert {m.field for m in fallback.missing} == {"employee_id", "period"}


class _Other(BaseModel):
    x: int = 1


def test_run_action_accepts_the_input_model_and_rejects_another_model() -> None:
    model = validate_arguments("resend_payslip", RESEND)
    assert run_action("resend_payslip", model, dry_run=True, backend=None, context=CTX).status == "dry_run"
    wrong = run_action("resend_payslip", _Other(), dry_run=True, backend=None, context=CTX)
    assert wrong.status == "rejected" and wrong.error is not None and wrong.error.field == "period"
    assert "x: Extra inputs are not permitted" in wrong.error.message
