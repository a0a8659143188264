"""The real PayFlow client against the fake PayFlow admin API on loopback: every action executes,
auth and business refusals are clear permanent errors, transient failures are retried with the same
Idempotency-Key, and the key prevents a second effect."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from tools.actions import ActionContext, PlannedRequest, extract_rules, run_action
from tools.actions.schemas import PasswordResetOutput, PayrollRunStatusOutput
from tools.actions.testing import FakePayFlow
from tools.http import PermanentWriteBackError, TransientWriteBackError

pytestmark = pytest.mark.integration

CTX = ActionContext(
    ticket_id="t-9",
    ticket_external_id="ZD-9001",
    requester_email="olena.marsh@acme.example",
    company="Acme Ltd",
    today=date(2025, 11, 20),
)
RESEND = {"company": "Acme Ltd", "employee_id": "1043", "period": "2025-10"}


@pytest.fixture
def pf() -> Iterator[FakePayFlow]:
    with FakePayFlow() as fake:
        yield fake


def test_every_action_executes_with_bearer_auth_and_documented_bodies(pf: FakePayFlow) -> None:
    with pf.client() as client:
        reset = run_action("password_reset", {"email": "olena.marsh@acme.example"}, dry_run=False, backend=client,
                           context=CTX)  # fmt: skip
        payslip = run_action("resend_payslip", RESEND, dry_run=False, backend=client, context=CTX)
        northwind = CTX.model_copy(update={"company": "Northwind Logistics Ltd"})
        run = run_action("payroll_run_status", {"run_id": "PR-2025-11-002", "company": "Northwind Logistics Ltd"},
                         dry_run=False, backend=client, context=northwind)  # fmt: skip
        problem = run_action("open_problem_record", {"rca_id": "RCA-003", "ticket_external_id": "ZD-9001",
                             "summary": "night shift hours doubled after the clock change"}, dry_run=False,
                             backend=client, context=CTX)  # fmt: skip

    assert [r.status for r in (reset, payslip, run, problem)] == ["executed"] * 4
    assert isinstance(reset.output, PasswordResetOutput) and reset.output.sent_to == "o***@acme.example"
    assert payslip.output is not None and payslip.output.model_dump()["delivered_to"] == "j***@acme.example"
    assert isinstance(run.output, PayrollRunStatusOutput)
    assert run.output.runs[0].status == "calculating" and run.output.runs[0].blockers[0].code == "PF-2043"
    assert problem.output is not None and problem.output.model_dump()["problem_id"] == "PRB-1063"

    assert all(r.headers["authorization"] == "Bearer pf-test-token" for r in pf.requests)
    posts = pf.accepted("POST")
    assert [(r.path, r.headers["idempotency-key"]) for r in posts] == [
        ("/api/v1/users/password-reset", "triage:t-9:password_reset"),
        ("/api/v1/payslips/resend", "triage:t-9:resend_payslip"),
        ("/api/v1/problems", "triage:t-9:open_problem_record"),
    ]
    assert posts[1].body == RESEND
    get = pf.accepted("GET")[0]
    assert get.path == "/api/v1/payroll-runs/PR-2025-11-002" and get.query == {"company": "Northwind Logistics Ltd"}
    assert "idempotency-key" not in get.headers
    assert pf.emails_sent == [
        {"to": "olena.marsh@acme.example", "kind": "password_reset"},
        {"to": "jane.cooper@acme.example", "kind": "payslip", "employee_id": "1043", "period": "2025-10"},
    ]
    assert pf.problems["PRB-1063"]["tickets"] == {"ZD-9001": "night shift hours doubled after the clock change"}


def test_runs_of_a_period_are_listed_within_the_company(pf: FakePayFlow) -> None:
    dnipro = CTX.model_copy(update={"company": "ТОВ «Дніпро Мет Сервіс»"})
    got = extract_rules("payroll_run_status", "Запустила розрахунок авансу за листопад, статус «Розрахунок»", dnipro)
    assert got.arguments is not None
    with pf.client() as client:
        result = run_action("payroll_run_status", got.arguments, dry_run=False, backend=client, context=dnipro)
    assert isinstance(result.output, PayrollRunStatusOutput)
    assert [(r.run_id, r.type) for r in result.output.runs] == [("PR-2025-11-005", "advance")]


def test_a_run_of_another_company_is_not_found(pf: FakePayFlow) -> None:
    with pf.client() as client:
        result = run_action("payroll_run_status", {"run_id": "PR-2025-11-002", "company": "Acme Ltd"}, dry_run=False,
                            backend=client, context=CTX)  # fmt: skip
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "backend_permanent" and result.error.status == 404
    assert "run_not_found" in result.error.message


def test_wrong_token_is_a_clear_permanent_error_and_not_retried(pf: FakePayFlow) -> None:
    with pf.client(token="revoked-token") as client:
        result = run_action("resend_payslip", RESEND, dry_run=False, backend=client, context=CTX)
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "backend_permanent" and result.error.status == 401 and not result.error.retryable
    assert "TRIAGE_PAYFLOW_TOKEN" in result.error.message and "Not retried" in result.error.message
    assert len(pf.requests) == 1 and pf.emails_sent == []


def test_503_is_retried_with_the_same_idempotency_key(pf: FakePayFlow) -> None:
    pf.inject(503, times=2)
    with pf.client() as client:
        result = run_action("resend_payslip", RESEND, dry_run=False, backend=client, context=CTX)
        assert client.attempts == 3
    assert result.status == "executed"
    assert [r.status for r in pf.requests] == [503, 503, 202]
    assert {r.headers["idempotency-key"] for r in pf.requests} == {"triage:t-9:resend_payslip"}
    assert len(pf.emails_sent) == 1


def test_429_retry_after_is_honoured(pf: FakePayFlow) -> None:
    pf.inject(429, retry_after="1")
    with pf.client() as client:
        result = run_action("password_reset", {"email": "olena.marsh@acme.example"}, dry_run=False, backend=client,
                            context=CTX)  # fmt: skip
        assert client.api.last.waits == [1.0]
    assert result.status == "executed"
    assert pf.requests[1].at - pf.requests[0].at >= 0.9


def test_persistent_503_fails_as_retryable_with_nothing_done(pf: FakePayFlow) -> None:
    pf.inject(503, times=20)
    with pf.client() as client:
        result = run_action("resend_payslip", RESEND, dry_run=False, backend=client, context=CTX)
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "backend_transient" and result.error.retryable and result.error.status == 503
    assert len(pf.requests) == 4  # FAST_RETRY: 4 attempts
    assert pf.emails_sent == []


def test_the_same_idempotency_key_has_no_second_effect(pf: FakePayFlow) -> None:
    with pf.client() as client:
        first = run_action("resend_payslip", RESEND, dry_run=False, backend=client, context=CTX)
        again = run_action("resend_payslip", RESEND, dry_run=False, backend=client, context=CTX)
        other_ticket = run_action("resend_payslip", RESEND, dry_run=False, backend=client,
                                  context=CTX.model_copy(update={"ticket_id": "t-10"}))  # fmt: skip
    assert first.status == again.status == other_ticket.status == "executed"
    assert first.output == again.output  # the stored answer, same message id
    assert pf.requests[1].headers["idempotency-key"] == pf.requests[0].headers["idempotency-key"]
    assert [m["to"] for m in pf.emails_sent] == ["jane.cooper@acme.example"] * 2  # t-9 once, t-10 once
    assert other_ticket.output is not None and other_ticket.output.model_dump()["resends_today"] == 2


def test_a_timed_out_post_retried_with_its_key_has_one_effect(pf: FakePayFlow) -> None:
    # the first answer is slower than the client's timeout: the client retries while PayFlow still works
    pf.inject(None, delay_s=1.5)
    with pf.client(timeout_s=0.5) as client:
        result = run_action("resend_payslip", RESEND, dry_run=False, backend=client, context=CTX)
        assert client.attempts >= 2
    assert result.status == "executed"
    _wait_for(lambda: len(pf.requests) >= 2 and all(r.status for r in pf.requests))
    assert len(pf.emails_sent) == 1


def test_without_a_key_a_timed_out_post_is_not_sent_again(pf: FakePayFlow) -> None:
    # the control for the test above: without a key a repeat would have a second effect, so the client
    # does not re-send a POST that may have arrived; the call fails as retryable (tools/http.py)
    pf.inject(None, delay_s=1.5)
    request = PlannedRequest(method="POST", path="/api/v1/payslips/resend", json_body=RESEND)
    with pf.client(timeout_s=0.5) as client, pytest.raises(TransientWriteBackError) as err:
        client.send(request, idempotency_key=None)
    assert err.value.retryable and "may have reached the system" in str(err.value)
    _wait_for(lambda: len(pf.requests) >= 1 and all(r.status for r in pf.requests))
    assert len(pf.requests) == 1 and len(pf.emails_sent) == 1


def test_a_key_reused_with_another_body_is_refused(pf: FakePayFlow) -> None:
    with pf.client() as client:
        client.send(PlannedRequest(method="POST", path="/api/v1/payslips/resend", json_body=RESEND),
                    idempotency_key="k-1")  # fmt: skip
        with pytest.raises(PermanentWriteBackError) as err:
            client.send(PlannedRequest(method="POST", path="/api/v1/payslips/resend",
                                       json_body={**RESEND, "period": "2025-09"}), idempotency_key="k-1")  # fmt: skip
    assert err.value.status == 422 and "idempotency_key_reused" in err.value.api_error
    assert len(pf.emails_sent) == 1


@pytest.mark.parametrize(
    ("name", "args", "status", "code"),
    [
        ("password_reset", {"email": "it@fernhill.example"}, 409, "sso_managed"),
        ("password_reset", {"email": "nobody@acme.example"}, 404, "user_not_found"),
        ("resend_payslip", {**RESEND, "period": "2025-11"}, 409, "payslip_not_published"),
        ("resend_payslip", {**RESEND, "employee_id": "9999"}, 404, "employee_not_found"),
    ],
)
def test_business_refusals_are_permanent_failures_with_the_apis_reason(
    pf: FakePayFlow, name: str, args: dict[str, Any], status: int, code: str
) -> None:
    ctx = CTX.model_copy(update={"approved_by": "anna"})  # past approval: the backend itself refuses
    with pf.client() as client:
        result = run_action(name, args, dry_run=False, backend=client, context=ctx)
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "backend_permanent" and result.error.status == status and code in result.error.message
    assert len(pf.requests) == 1 and pf.emails_sent == []


def test_payslip_to_an_approved_other_address_goes_there(pf: FakePayFlow) -> None:
    args = {**RESEND, "send_to": "jane.private@gmail.example"}
    with pf.client() as client:
        held = run_action("resend_payslip", args, dry_run=False, backend=client, context=CTX)
        assert held.status == "needs_approval" and pf.requests == []
        done = run_action("resend_payslip", args, dry_run=False, backend=client,
                          context=CTX.model_copy(update={"approved_by": "anna"}))  # fmt: skip
    assert done.status == "executed"
    assert pf.emails_sent[0]["to"] == "jane.private@gmail.example"


def test_problem_record_links_once_and_creates_one_for_a_new_rca(pf: FakePayFlow) -> None:
    body = {"rca_id": "RCA-010", "ticket_external_id": "ZD-1", "summary": "headcount counts rehired twice"}
    with pf.client() as client:
        a = run_action("open_problem_record", body, dry_run=False, backend=client, context=CTX)
        b = run_action("open_problem_record", body, dry_run=False, backend=client,
                       context=CTX.model_copy(update={"ticket_id": "t-other"}))  # fmt: skip
        new = run_action("open_problem_record", {**body, "rca_id": "RCA-011"}, dry_run=False, backend=client,
                         context=CTX.model_copy(update={"ticket_id": "t-3"}))  # fmt: skip
    assert a.output is not None and b.output is not None and new.output is not None
    assert a.output.model_dump()["linked_tickets"] == 1 and b.output.model_dump()["already_linked"] is True
    assert new.output.model_dump()["created"] is True and new.output.model_dump()["problem_id"] == "PRB-2001"
    assert pf.problems["PRB-1081"]["tickets"] == {"ZD-1": "headcount counts rehired twice"}


def test_demo_ticket_end_to_end_rules_then_action(pf: FakePayFlow) -> None:
    smoke = __import__("agent.settings", fromlist=["REPO_ROOT"]).REPO_ROOT / "evals" / "datasets" / "smoke.jsonl"
    rows = [json.loads(line) for line in smoke.read_text(encoding="utf-8").splitlines() if line.strip()]
    s053 = next(r for r in rows if r["id"] == "S053")
    ctx = ActionContext(ticket_id="S053", ticket_external_id="S053", requester_email=s053["requester"],
                        company=s053["customer"]["name"], today=date(2025, 11, 20))  # fmt: skip
    got = extract_rules("resend_payslip", f"{s053['subject']}\n\n{s053['body']}", ctx)
    assert got.arguments is not None
    with pf.client() as client:
        result = run_action("resend_payslip", got.arguments, dry_run=False, backend=client, context=ctx)
    assert result.status == "executed" and result.approval is not None and result.approval.rule == "auto"
    assert pf.emails_sent == [{"to": "jane.cooper@acme.example", "kind": "payslip", "employee_id": "1043",
                               "period": "2025-10"}]  # fmt: skip


def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
