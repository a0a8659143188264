"""Arguments for an allowlisted action, from the (redacted) ticket text and the ticket's metadata.

The action is always chosen by the caller (the policy / the RCA or KB doc's `action:`), never by a
model. Two ways to fill its arguments:

- `extract_rules(name, text, context)`: deterministic regexes (pay run ids, employee ids, RCA ids,
  periods in English and Ukrainian, see `tools.actions.periods`) plus the ticket's metadata
  (requester email, company, linked RCA). Identity comes from metadata only: who asks is the
  ticketing system's requester, never an address typed in the text.
- `extract_with_llm(name, text, context, model)`: asks a LangChain chat model for the action's input
  model with `with_structured_output` and validates the answer; values known from metadata win.
- `extract_arguments(name, text, context, llm=None)`: rules first; the model only when the rules
  leave something missing and a model is given; a failing model leaves the rules' answer.

Each returns an `Extraction`: validated `arguments`, or a `missing` list saying what to ask for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from tools.actions.errors import ExtractionError, InvalidArgumentsError
from tools.actions.periods import find_periods
from tools.actions.registry import ActionContext, get_action, validate_arguments

MASKED_EMAIL = "[EMAIL]"  # what agent.graph.textutil.redact leaves in place of an address

_RUN_ID = re.compile(r"(?<![\w-])PR-20\d{2}-(?:0[1-9]|1[0-2])-\d{3}(?![\w-])", re.IGNORECASE)
_RCA_ID = re.compile(r"(?<![\w-])RCA-\d{3}(?![\w-])", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_EMPLOYEE_ID = [
    # explicit: "employee ID 1043", "employee no. 1043", "employee #1043", "emp id: 1043", "EMP-1043"
    re.compile(r"\b(?:employee|emp|staff|worker)\s*(?:id|no\.?|number|num|#)\s*[:#№]?\s*(\d{1,10})\b", re.I),
    re.compile(r"\bEMP-(\d{1,10})\b", re.I),
    # Ukrainian: "табельний номер 1043", "таб. № 1043", "ID працівника 1043", "працівника з ID 1043"
    re.compile(
        r"(?:табельн\w*\s+(?:номер\w*|№)|таб\.\s*№|ID\s+працівни\w*|працівни\w*\s+(?:з\s+)?ID|"
        r"ідентифікатор\w*\s+працівни\w*)\s*[:#№]?\s*(\d{1,10})\b",
        re.I,
    ),
]
_BARE_ID = re.compile(r"(?<![\w-])ID\s*[:#№]?\s*(\d{3,10})\b")  # "Jane Cooper (ID 1043)": only if nothing explicit
_THIS_MONTH = re.compile(r"\b(?:this|current)\s+month\b|цього\s+місяця|поточн\w*\s+місяц\w*", re.I)
# someone other than the requester: a reset for them is never self-service
_THIRD_PARTY = re.compile(
    r"\b(?:colleague|co-?worker|another\s+user|other\s+user|(?:her|his|their)\s+(?:password|account|login)|"
    r"for\s+(?:a|an|our|my|one\s+of\s+our)\s+(?:user|employee|staff|team\s+member|colleague)s?)\b|"
    r"коле[гз]\w*|співробітни\w*|(?:іншому|іншого|інший)\s+користувач\w*|працівни\w*",
    re.I,
)
_LOGIN = re.compile(
    r"(?:\blogin|\busername|\buser\s+name|логін)\s*(?::|=|\bis\b|-)\s*[\"'«]?([A-Za-z0-9][A-Za-z0-9._-]{1,63})", re.I
)
_SEND_TO = re.compile(r"\b(?:send|resend|forward|deliver|email)\b[^.\n]{0,60}?\bto\s+(" + _EMAIL.pattern + ")", re.I)


class Missing(BaseModel):
    field: str
    reason: str


class Extraction(BaseModel):
    action: str
    arguments: dict[str, Any] | None = None  # validated: ready for run_action
    missing: list[Missing] = Field(default_factory=list[Missing])
    source: Literal["rules", "llm", "rules+llm"] = "rules"
    llm_error: str | None = None  # the model was asked and failed: the rules' answer stands

    @property
    def ok(self) -> bool:
        return self.arguments is not None


# ---- helpers -------------------------------------------------------------------------------------
def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _today(context: ActionContext) -> date:
    return context.today or date.today()


def _periods(text: str, context: ActionContext) -> list[str]:
    found = find_periods(text, _today(context))
    if not found and _THIS_MONTH.search(text):
        today = _today(context)
        found = [f"{today.year:04d}-{today.month:02d}"]
    return found


def _one(values: list[str], field: str, what: str, missing: list[Missing], hint: str) -> str | None:
    if len(values) == 1:
        return values[0]
    if not values:
        missing.append(Missing(field=field, reason=f"the ticket names no {what}: {hint}"))
    else:
        missing.append(Missing(field=field, reason=f"the ticket names several {what}s ({', '.join(values)}): {hint}"))
    return None


def _emails(text: str, *exclude: str | None) -> list[str]:
    skip = {e.lower() for e in exclude if e}
    return _distinct([e.lower() for e in _EMAIL.findall(text) if e.lower() not in skip])


def employee_ids(text: str) -> list[str]:
    """Employee ids the text names explicitly; a bare "ID 1043" only when nothing explicit is there."""
    strong = _distinct([m.group(1) for p in _EMPLOYEE_ID for m in p.finditer(text)])
    return strong or _distinct([m.group(1) for m in _BARE_ID.finditer(text)])


def run_ids(text: str) -> list[str]:
    return _distinct([m.group(0).upper() for m in _RUN_ID.finditer(text)])


# ---- per action ---------------------------------------------------------------------------------
def _password_reset(text: str, ctx: ActionContext, missing: list[Missing]) -> dict[str, Any]:
    if not _THIRD_PARTY.search(text):
        if ctx.requester_email:
            return {"email": ctx.requester_email}  # "I forgot my password": the requester's own account
        missing.append(Missing(field="email", reason="the ticket has no requester email: ask which account to reset"))
        return {}
    # someone else's account: only an explicit login or an (unmasked) address in the text can name it
    logins = _distinct([m.group(1) for m in _LOGIN.finditer(text)])
    if len(logins) == 1:
        return {"login": logins[0]}
    emails = _emails(text, ctx.requester_email)
    if len(emails) == 1:
        return {"email": emails[0]}
    masked = " (an address in the ticket was masked by redaction)" if MASKED_EMAIL in text else ""
    reason = "several accounts are named" if len(logins) + len(emails) > 1 else "it names no login or email"
    missing.append(
        Missing(
            field="email|login",
            reason=f"the ticket asks to reset someone else's password but {reason}{masked}: ask for the user's login",
        )
    )
    return {}


def _resend_payslip(text: str, ctx: ActionContext, missing: list[Missing]) -> dict[str, Any]:
    args: dict[str, Any] = {"company": ctx.company}
    send_to = _distinct([m.group(1).lower() for m in _SEND_TO.finditer(text)])
    if len(send_to) == 1:
        args["send_to"] = send_to[0]
    ids = employee_ids(text)
    if ids:
        args["employee_id"] = _one(ids, "employee_id", "employee ID", missing, "one payslip per action")
    else:
        emails = _emails(text, ctx.requester_email, *send_to)
        if len(emails) == 1:
            args["employee_email"] = emails[0]
        else:
            masked = " (an address in the ticket was masked by redaction)" if MASKED_EMAIL in text else ""
            missing.append(Missing(field="employee_id", reason=f"the ticket names no employee ID{masked}: ask for it"))
    args["period"] = _one(_periods(text, ctx), "period", "pay period", missing, "ask which month (YYYY-MM)")
    return args


def _payroll_run_status(text: str, ctx: ActionContext, missing: list[Missing]) -> dict[str, Any]:
    ids = run_ids(text)
    if len(ids) == 1:
        return {"run_id": ids[0], "company": ctx.company}
    if len(ids) > 1:
        _one(ids, "run_id", "pay run", missing, "one run per action")
        return {}
    if not ctx.company:
        missing.append(Missing(field="company", reason="no run id and the ticket has no customer company"))
    period = _one(_periods(text, ctx), "period", "pay period", missing, "ask for the pay run ID (PR-YYYY-MM-NNN)")
    return {"company": ctx.company, "period": period}


def _open_problem_record(text: str, ctx: ActionContext, missing: list[Missing]) -> dict[str, Any]:
    rca = ctx.linked_rca.upper() if ctx.linked_rca else None
    if rca is None:
        rca = _one(
            _distinct([m.group(0).upper() for m in _RCA_ID.finditer(text)]),
            "rca_id",
            "known issue (RCA)",
            missing,
            "the decision must link an RCA doc",
        )
    if not ctx.ticket_external_id:
        missing.append(Missing(field="ticket_external_id", reason="the context has no ticket_external_id"))
    summary = " ".join(text.split())
    summary = summary if len(summary) <= 280 else summary[:279].rstrip() + "…"
    return {"rca_id": rca, "ticket_external_id": ctx.ticket_external_id, "summary": summary}


_RULES: dict[str, Callable[[str, ActionContext, list[Missing]], dict[str, Any]]] = {
    "password_reset": _password_reset,
    "resend_payslip": _resend_payslip,
    "payroll_run_status": _payroll_run_status,
    "open_problem_record": _open_problem_record,
}


def _finish(name: str, raw: Mapping[str, Any], missing: list[Missing], source: Any) -> Extraction:
    if missing:
        return Extraction(action=name, missing=missing, source=source)
    try:
        model = validate_arguments(name, {k: v for k, v in raw.items() if v is not None})
    except InvalidArgumentsError as exc:
        return Extraction(
            action=name, missing=[Missing(field=i.field, reason=i.message) for i in exc.issues], source=source
        )
    return Extraction(action=name, arguments=model.model_dump(mode="json", exclude_none=True), source=source)


def extract_rules(name: str, text: str, context: ActionContext) -> Extraction:
    """Deterministic arguments for allowlisted action `name` (NotAllowlistedError otherwise)."""
    get_action(name)
    missing: list[Missing] = []
    raw = _RULES[name](text, context, missing)
    return _finish(name, raw, missing, "rules")


# ---- the LLM path --------------------------------------------------------------------------------
def _llm_errors() -> tuple[type[BaseException], ...]:
    from pydantic import ValidationError

    errors: list[type[BaseException]] = [ValidationError, TimeoutError, ConnectionError]
    try:
        import openai

        errors += [
            openai.APIConnectionError,
            openai.InternalServerError,
            openai.RateLimitError,
            openai.BadRequestError,
            openai.LengthFinishReasonError,
        ]
    except ImportError:  # pragma: no cover - langchain-openai brings it
        pass
    return tuple(errors)


# What a model call may raise at run time that makes an extraction fail rather than the ticket: the
# server down, slow or refusing the prompt, an answer off the schema. A caller whose chat models raise
# errors of their own (the agent's LLMOutputError) passes them as `errors=`; anything else is a bug.
LLM_ERRORS = _llm_errors()

PROMPT = """You fill in the arguments of one support action for the PayFlow payroll product.
Action: {name} - {description}.
Answer with one JSON object matching the schema. Use only values the ticket states; use null for
anything it does not say. Never invent ids, emails or dates. Periods are YYYY-MM (today is {today}).
Known from the ticket's metadata (use as given): {known}"""


def _known(name: str, context: ActionContext) -> dict[str, Any]:
    known: dict[str, Any] = {}
    if context.company and name in ("resend_payslip", "payroll_run_status"):
        known["company"] = context.company
    if name == "open_problem_record":
        known.update({"rca_id": context.linked_rca, "ticket_external_id": context.ticket_external_id})
    return {k: v for k, v in known.items() if v}


def extract_with_llm(
    name: str,
    text: str,
    context: ActionContext,
    model: BaseChatModel,
    *,
    errors: tuple[type[BaseException], ...] = LLM_ERRORS,
) -> Extraction:
    """Ask `model` for the input of allowlisted action `name` (structured output), then validate.

    Raises NotAllowlistedError before any model call for a name off the allowlist, and
    ExtractionError when the model fails or answers off-schema."""
    spec = get_action(name)
    known = _known(name, context)
    runnable = model.with_structured_output(spec.input_model)
    messages = [
        SystemMessage(
            content=PROMPT.format(
                name=name, description=spec.description, today=_today(context).isoformat(), known=json.dumps(known)
            )
        ),
        HumanMessage(content=text),
    ]
    try:
        answer: Any = runnable.invoke(messages)
    except errors as exc:
        raise ExtractionError(f"the model could not fill the arguments of {name!r}: {exc}") from exc
    if isinstance(answer, BaseModel):
        values: dict[str, Any] = answer.model_dump()
    elif isinstance(answer, dict):
        values = dict(answer)  # pyright: ignore[reportUnknownArgumentType]
    else:
        raise ExtractionError(f"the model answered {type(answer).__name__}, not {spec.input_model.__name__}")
    return _finish(name, {**values, **known}, [], "llm")


def extract_arguments(
    name: str,
    text: str,
    context: ActionContext,
    *,
    llm: BaseChatModel | None = None,
    llm_errors: tuple[type[BaseException], ...] = LLM_ERRORS,
) -> Extraction:
    """Rules first; the model only for what the rules could not find (when one is given)."""
    rules = extract_rules(name, text, context)
    if rules.ok or llm is None:
        return rules
    try:
        by_llm = extract_with_llm(name, text, context, llm, errors=llm_errors)
    except ExtractionError as exc:
        return rules.model_copy(update={"llm_error": str(exc)})
    if not by_llm.ok:
        return rules.model_copy(update={"missing": by_llm.missing, "source": "rules+llm"})
    return by_llm.model_copy(update={"source": "rules+llm"})
