"""Careful-reply notes for the engineer a risky ticket is handed to: what not to send, what to check.

Per kind when the model named one, per flag otherwise (a rule or the LLM set it); one line each.
"""

from __future__ import annotations

from collections.abc import Iterable

KIND_NOTES: dict[str, str] = {
    "account_takeover": (
        "possible account takeover or phishing: do not send self-service reset or login steps; verify the "
        "requester's identity out of band (a known phone number), then lock the account, end its sessions and "
        "review recent changes to bank details and admins"
    ),
    "leaked_credentials": (
        "credentials or API tokens may be exposed: revoke and rotate them first (do not just explain how to "
        "change a password); check the audit log for use since the exposure"
    ),
    "payment_fraud": (
        "money may have been paid wrongly or fraudulently: do not promise refunds, recoveries or amounts; "
        "involve payroll escalations and confirm the facts with the customer's finance owner"
    ),
    "data_breach": (
        "personal data may be exposed, or this is a data-subject / GDPR request: do not confirm or delete data "
        "from the ticket alone; involve the DPO / compliance (statutory deadlines: 72 h breach notice, one month "
        "for a data-subject request)"
    ),
    "regulatory": (
        "tax authority, inspection, penalty or filing problem: do not give tax or legal advice or promise "
        "outcomes; involve compliance and note the authority's deadline"
    ),
    "legal_threat": (
        "legal threat or claim: do not admit fault or promise compensation; involve legal before replying and "
        "preserve the records"
    ),
    "abuse": (
        "threat, abuse or a person at risk: do not argue or reply with a template; follow the abuse / "
        "safeguarding procedure, tell a team lead, and if someone may be in danger contact them or emergency help"
    ),
    "executive_escalation": (
        "executive escalation or churn risk: reply personally, involve the account manager and support lead; "
        "no template answer"
    ),
}
FLAG_NOTES: dict[str, str] = {
    "security": "security risk: do not send self-service reset steps; verify the requester's identity out of band",
    "financial": "money at stake: do not promise refunds or amounts; confirm the facts with payroll escalations",
    "regulatory": "regulatory matter: no tax or legal advice; involve compliance and note any deadline",
    "legal": "legal matter: do not admit fault or promise compensation; involve legal before replying",
    "abuse": "threat or abuse: follow the abuse / safeguarding procedure; tell a team lead",
    "escalation": "escalation: reply personally and involve the account manager",
}


def careful_notes(kinds: Iterable[str], flags: Iterable[str]) -> list[str]:
    """One line per kind, then one per flag no kind already explains."""
    from agent.graph.risk.model import KIND_FLAGS

    kinds = list(dict.fromkeys(k for k in kinds if k in KIND_NOTES))
    covered = {f for k in kinds for f in KIND_FLAGS.get(k, ())}
    lines = [KIND_NOTES[k] for k in kinds]
    lines += [FLAG_NOTES[f] for f in dict.fromkeys(flags) if f in FLAG_NOTES and f not in covered]
    return lines


def model_kinds(audit: Iterable[object]) -> list[str]:
    """The kinds the risk model flagged, from the classify node's audit event (none when it did not run)."""
    kinds: list[str] = []
    for event in audit:
        node = getattr(event, "node", None)
        detail = getattr(event, "detail", None)
        if node == "classify" and isinstance(detail, dict):
            model = detail.get("risk_model")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if isinstance(model, dict):
                found = model.get("kinds")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
                if isinstance(found, list):
                    kinds = [str(k) for k in found]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    return kinds
