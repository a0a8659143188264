"""Masking of secrets and personal identifiers before any model (embedder, classifier, LLM) sees a ticket.

`redact(text) -> (masked, counts)`: every value found is replaced by its kind's placeholder
(`[PASSWORD]`, `[API_KEY]`, `[TOKEN]`, `[JWT]`, `[PRIVATE_KEY]`, `[PASSPORT]`, `[ID_CARD]`, `[DOB]`,
`[RNOKPP]`, `[EDRPOU]`, `[IBAN]`, `[CARD]`, `[EMAIL]`, `[PHONE]`); `counts` says how many of each
kind (never which values). Idempotent: masking masked text changes nothing and counts nothing.
The redact node (agent/graph/nodes/redact.py) masks `subject + body` once; every later node, prompt,
search and the eval's judge get that text, and the audit keeps only the kinds and counts.

The order is most specific first, so a broad rule never claims what a narrow one knows better: whole
private-key blocks and JWTs, passwords in URLs, keys by their vendor's shape (AWS, Stripe, OpenAI,
Google, GitHub, Slack, ...), header tokens, passwords, PINs and labelled secrets (`api key: ...`,
`token=...`, `secret <long random value>`), then e-mails, IBANs (mod 97, any case and spacing), cards
(Luhn), long random-looking strings, the Ukrainian tax and company codes (before phones, which would
otherwise swallow them), passports and ID cards, dates of birth, and phone numbers last. Cue-anchored
rules (a 9-digit ID card, an 8-digit ЄДРПОУ, a date of birth) need their cue within the same
sentence; numbers labelled as an employee, order, invoice, ticket or run number, or a company's VAT
number, are never taken for personal ones; dates without a birth cue, versions, error codes, ticket
ids and the words of a URL are left as they are.

Still sent: names, postal addresses, company names, logins and user names, employee ids, order and
invoice numbers, amounts, and whatever else the customer writes in words.
"""

from __future__ import annotations

from agent.graph.redaction.engine import KINDS, PLACEHOLDER, Rule, apply, placeholder
from agent.graph.redaction.identifiers import (
    CARD,
    CVV,
    DOB,
    EDRPOU,
    EDRPOU_WEAK,
    EMAIL,
    IBAN,
    IDS,
    PHONE,
    RNOKPP,
    RNOKPP_BARE,
    UNZR,
)
from agent.graph.redaction.secrets import HIGH_ENTROPY, SECRET_RULES

RULES: tuple[Rule, ...] = (
    *SECRET_RULES,
    EMAIL,
    IBAN,
    UNZR,  # 8+5 digits: a card number by Luhn one time in ten
    CARD,
    CVV,
    HIGH_ENTROPY,
    RNOKPP,
    EDRPOU,
    EDRPOU_WEAK,
    RNOKPP_BARE,
    *IDS,
    *DOB,
    PHONE,
)


def redact(text: str) -> tuple[str, dict[str, int]]:
    """`text` with every secret and identifier replaced by its kind's placeholder, and how many of
    each kind were masked (kinds with none left out)."""
    return apply(text, RULES)


__all__ = ["KINDS", "PLACEHOLDER", "RULES", "placeholder", "redact"]
