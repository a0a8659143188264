"""A fake PayFlow admin API: a real Starlette app on loopback, for tests, evals and demos.

Same machinery as the ticketing fakes (`tools.ticketing.testing.common.FakeServer`): random port,
every request recorded (`requests`; `calls` = the accepted ones), injected faults (429 with
Retry-After, 503, slow answers). It checks the bearer token and the bodies, keeps seeded users,
employees, pay runs and problem records, records the effects (`emails_sent`, problem links) and
honours `Idempotency-Key` on POSTs: the same key with the same body answers the stored response
again (header `Idempotent-Replayed: true`) with no second effect; with another body, 422.

    with FakePayFlow() as pf:
        pf.inject(503)
        client = pf.client()                       # PayFlowClient with fast retries
        run_action("payroll_run_status", {"run_id": "PR-2025-11-002"}, dry_run=False,
                   backend=client, context=ActionContext(ticket_id="t1"))
        assert len(pf.requests) == 2
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.actions.backend import IDEMPOTENCY_HEADER, PayFlowClient, PayFlowConfig
from tools.actions.schemas import mask_email
from tools.ticketing.testing.common import FAST_RETRY, FakeServer

JSON = Any


@dataclass
class User:
    user_id: str
    email: str
    login: str
    company: str
    sso: bool = False  # password managed by the company's identity provider (KB-001)


@dataclass
class Employee:
    employee_id: str
    company: str
    name: str
    work_email: str
    personal_email: str | None = None
    send_payslips_to: str = "work"  # work | personal
    published: set[str] = field(default_factory=set[str])  # periods with a published payslip

    @property
    def payslip_address(self) -> str:
        return self.personal_email if self.send_payslips_to == "personal" and self.personal_email else self.work_email


def _key(text: str | None) -> str:
    return (text or "").strip().casefold()


class FakePayFlow(FakeServer):
    system = "payflow"

    def __init__(self, token: str = "pf-test-token") -> None:
        super().__init__()
        self.token = token
        self.users: list[User] = []
        self.employees: list[Employee] = []
        self.runs: dict[str, dict[str, Any]] = {}
        self.problems: dict[str, dict[str, Any]] = {}  # problem id -> record
        self.emails_sent: list[dict[str, str]] = []  # every reset link / payslip email "sent"
        self.idempotency: dict[str, tuple[str, int, JSON]] = {}  # key -> (body hash, status, answer)
        self._message = 5000
        self._problem = 2000
        self.seed_demo()

    # -- configuration ----------------------------------------------------------------------------
    @property
    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def config(self, **overrides: Any) -> PayFlowConfig:
        return PayFlowConfig.model_validate({"base_url": self.url, "token": self.token, "timeout_s": 3.0,
                                             "retry": FAST_RETRY, **overrides})  # fmt: skip

    def client(self, **overrides: Any) -> PayFlowClient:
        """The real client, pointed at this fake, with test-sized retry waits."""
        return PayFlowClient(self.config(**overrides))

    def seed_demo(self) -> None:
        """Customers and data matching the demo tickets (evals/datasets/smoke.jsonl)."""
        self.users = [
            User("u-101", "olena.marsh@acme.example", "omarsh", "Acme Ltd"),
            User("u-102", "jane.cooper@acme.example", "jcooper", "Acme Ltd"),
            User("u-201", "i.kovalchuk@agroinvest.example", "ikovalchuk", "ТОВ «Агроінвест Поділля»"),
            User("u-301", "tom.reilly@northwind.example", "treilly", "Northwind Logistics Ltd"),
            User("u-401", "admin@kyivdigital.example", "kdadmin", "Kyiv Digital LLC"),
            User("u-402", "o.bondar@kyivdigital.example", "obondar", "Kyiv Digital LLC"),
            User("u-501", "it@fernhill.example", "fhit", "Fernhill Group Inc", sso=True),
        ]
        self.employees = [
            Employee("1043", "Acme Ltd", "Jane Cooper", "jane.cooper@acme.example", "jane.c@mail.example",
                     published={"2025-09", "2025-10"}),
            Employee("1044", "Acme Ltd", "Sam Evans", "sam.evans@acme.example", "sam.morgan@mail.example",
                     send_payslips_to="personal", published={"2025-10"}),
            Employee("1043", "Northwind Logistics Ltd", "Ali Khan", "ali.khan@northwind.example",
                     published={"2025-10"}),
        ]  # fmt: skip
        self.runs = {
            "PR-2025-11-002": {
                "run_id": "PR-2025-11-002", "company": "Northwind Logistics Ltd", "period": "2025-11",
                "type": "regular", "status": "calculating", "status_since": "2025-11-28T08:05:00Z",
                "employees": 230, "payment_date": "2025-11-28", "approval_cutoff": "2025-11-28T11:00:00Z",
                "blockers": [{"code": "PF-2043", "message": "Unapproved timesheets", "employee_id": "2291"}],
            },
            "PR-2025-11-005": {
                "run_id": "PR-2025-11-005", "company": "ТОВ «Дніпро Мет Сервіс»", "period": "2025-11",
                "type": "advance", "status": "calculating", "status_since": "2025-11-14T09:20:00Z",
                "employees": 96, "payment_date": "2025-11-17", "approval_cutoff": "2025-11-14T15:00:00+02:00",
                "blockers": [{"code": "PF-2041", "message": "Missing tax settings", "employee_id": "77"}],
            },
            "PR-2025-10-009": {
                "run_id": "PR-2025-10-009", "company": "ТОВ «Дніпро Мет Сервіс»", "period": "2025-10",
                "type": "regular", "status": "paid", "status_since": "2025-10-31T10:00:00Z", "employees": 96,
                "payment_date": "2025-10-31", "approval_cutoff": "2025-10-30T15:00:00+02:00", "blockers": [],
            },
        }  # fmt: skip
        self.problems = {
            prb: {"problem_id": prb, "rca_id": rca, "status": "open", "tickets": {}}
            for rca, prb in (("RCA-002", "PRB-1057"), ("RCA-003", "PRB-1063"), ("RCA-006", "PRB-1078"),
                             ("RCA-010", "PRB-1081"))
        }  # fmt: skip

    # -- FakeServer hooks ---------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/users/password-reset", self.endpoint(self.password_reset), methods=["POST"]),
            Route("/api/v1/payslips/resend", self.endpoint(self.resend_payslip), methods=["POST"]),
            Route("/api/v1/payroll-runs/{run_id}", self.endpoint(self.run), methods=["GET"]),
            Route("/api/v1/payroll-runs", self.endpoint(self.list_runs), methods=["GET"]),
            Route("/api/v1/problems", self.endpoint(self.problem), methods=["POST"]),
        ]

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.token}"

    def unauthorised(self) -> Response:
        return _error(401, "unauthorized", "missing or invalid bearer token")

    def bad_request(self, message: str, field_name: str = "") -> Response:
        return _error(400, "bad_request", message, field_name)

    def accepted_effects(self, path_contains: str) -> list[Any]:
        return [r for r in self.calls if path_contains in r.path]

    # -- idempotency --------------------------------------------------------------------------------
    def _idempotent(self, request: Request, body: JSON, handle: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER.lower())
        if not key:
            return handle(body)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        stored = self.idempotency.get(key)
        if stored is not None:
            if stored[0] != digest:
                return _error(422, "idempotency_key_reused", "this Idempotency-Key was used with another body")
            return JSONResponse(stored[2], status_code=stored[1], headers={"Idempotent-Replayed": "true"})
        response: Response = handle(body)
        if response.status_code < 500:
            self.idempotency[key] = (digest, response.status_code, json.loads(bytes(response.body)))
        return response

    # -- endpoints ------------------------------------------------------------------------------------
    def password_reset(self, request: Request, body: JSON) -> Response:
        return self._idempotent(request, body, self._password_reset)

    def _password_reset(self, body: JSON) -> Response:
        if not isinstance(body, dict):
            return _error(422, "invalid", "body must be an object", "body")
        unknown = set(body) - {"email", "login"}  # pyright: ignore[reportUnknownArgumentType]
        if unknown:
            return _error(422, "invalid", "unknown field", sorted(unknown)[0])
        email, login = body.get("email"), body.get("login")
        if (email is None) == (login is None):
            return _error(422, "invalid", "give exactly one of email or login", "email")
        user = next((u for u in self.users if (email and _key(u.email) == _key(email)) or
                     (login and _key(u.login) == _key(login))), None)  # fmt: skip
        if user is None:
            return _error(404, "user_not_found", "no PayFlow user with that email or login")
        if user.sso:
            return _error(409, "sso_managed", "this company signs in with SSO: the password is managed by its "
                          "identity provider, no reset link can be sent")  # fmt: skip
        self.emails_sent.append({"to": user.email, "kind": "password_reset"})
        return JSONResponse({"user_id": user.user_id, "sent_to": mask_email(user.email), "expires_in_minutes": 60},
                            status_code=202)  # fmt: skip

    def resend_payslip(self, request: Request, body: JSON) -> Response:
        return self._idempotent(request, body, self._resend_payslip)

    def _resend_payslip(self, body: JSON) -> Response:
        if not isinstance(body, dict):
            return _error(422, "invalid", "body must be an object", "body")
        unknown = set(body) - {"company", "employee_id", "employee_email", "period", "send_to"}  # pyright: ignore[reportUnknownArgumentType]
        if unknown:
            return _error(422, "invalid", "unknown field", sorted(unknown)[0])
        period = body.get("period")
        if not isinstance(period, str) or len(period) != 7 or period[4] != "-":
            return _error(422, "invalid", "period must be YYYY-MM", "period")
        company, emp_id, emp_email = body.get("company"), body.get("employee_id"), body.get("employee_email")
        if emp_id is None and emp_email is None:
            return _error(422, "invalid", "give employee_id or employee_email", "employee_id")
        matches = [
            e for e in self.employees
            if (company is None or _key(e.company) == _key(company))
            and (emp_id is None or e.employee_id == str(emp_id))
            and (emp_email is None or _key(emp_email) in (_key(e.work_email), _key(e.personal_email)))
        ]  # fmt: skip
        if not matches:
            return _error(404, "employee_not_found", "no such employee in this company (the email must be on file)")
        if len(matches) > 1:
            return _error(409, "ambiguous_employee", "several employees match: give the company")
        employee = matches[0]
        if period not in employee.published:
            return _error(409, "payslip_not_published", f"no published payslip for {period}: the run must be "
                          "Approved with Publish payslips on (KB-009)")  # fmt: skip
        to = body.get("send_to") or employee.payslip_address
        today = [m for m in self.emails_sent if m.get("employee_id") == employee.employee_id
                 and m.get("period") == period]  # fmt: skip
        if len(today) >= 5:
            return _error(409, "resend_limit_reached", "each payslip can be resent up to 5 times per day")
        self._message += 1
        self.emails_sent.append({"to": to, "kind": "payslip", "employee_id": employee.employee_id, "period": period})
        return JSONResponse({"employee_id": employee.employee_id, "period": period, "delivered_to": mask_email(to),
                             "message_id": f"msg-{self._message}", "resends_today": len(today) + 1},
                            status_code=202)  # fmt: skip

    def run(self, request: Request, body: JSON) -> Response:
        run = self.runs.get(request.path_params["run_id"].upper())
        company = request.query_params.get("company")
        if run is None or (company is not None and _key(run["company"]) != _key(company)):
            return _error(404, "run_not_found", "no such pay run in this company")
        return JSONResponse({"runs": [run]})

    def list_runs(self, request: Request, body: JSON) -> Response:
        company, period = request.query_params.get("company"), request.query_params.get("period")
        if not company or not period:
            return _error(422, "invalid", "company and period are required", "company" if not company else "period")
        runs = [r for r in self.runs.values() if _key(r["company"]) == _key(company) and r["period"] == period]
        return JSONResponse({"runs": runs})

    def problem(self, request: Request, body: JSON) -> Response:
        return self._idempotent(request, body, self._problem_link)

    def _problem_link(self, body: JSON) -> Response:
        if not isinstance(body, dict):
            return _error(422, "invalid", "body must be an object", "body")
        for name in ("rca_id", "ticket_external_id", "summary"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                return _error(422, "invalid", f"{name} is required", name)
        record = next((p for p in self.problems.values() if p["rca_id"] == body["rca_id"]), None)
        created = record is None
        if record is None:
            self._problem += 1
            record = {"problem_id": f"PRB-{self._problem}", "rca_id": body["rca_id"], "status": "open", "tickets": {}}
            self.problems[record["problem_id"]] = record
        already = body["ticket_external_id"] in record["tickets"]
        if not already:
            record["tickets"][body["ticket_external_id"]] = body["summary"]
        answer = {"problem_id": record["problem_id"], "rca_id": record["rca_id"], "status": record["status"],
                  "linked_tickets": len(record["tickets"]), "already_linked": already, "created": created}  # fmt: skip
        return JSONResponse(answer, status_code=201 if created else 200)


def _error(status: int, code: str, message: str, field_name: str = "") -> Response:
    error: dict[str, str] = {"code": code, "message": message}
    if field_name:
        error["field"] = field_name
    return JSONResponse({"error": error}, status_code=status)
