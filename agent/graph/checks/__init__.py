"""Content checks of a drafted reply: what it must pass to be sent without a human.

`content_findings(reply, cited_doc_texts, ticket_text, ...)` returns one `Finding` per rule broken
(the gate turns an auto-resolution with any finding into a suggestion). Pure functions, no I/O: the
ground_check node reads the documents and runs the searches the coverage check needs.

Rules (the `Finding.rule` names, recorded in `Decision.rules`):
- `unsupported_url`, `unsupported_email`, `unsupported_phone`, `unsupported_handle`,
  `unsupported_account_number`: a URL / bare domain, e-mail address, messenger handle, phone
  number, IBAN or card number that no cited document has. Never allowed from the ticket alone: a
  contact point only the ticket gives is exactly what an injected instruction dictates.
- `repeats_masked_value`: a redaction placeholder (`[PHONE]`, `[EMAIL]`, `[PASSWORD]`): the reply
  repeats what was masked in the ticket (the customer's own contact point or secret, or a dictated one).
- `unsupported_amount`: an amount (currency or percentage) no cited document has.
- `unsupported_date`, `unsupported_error_code`: a date / time, or an error code / identifier, that
  neither a cited document nor the customer (in a sentence of theirs that does not dictate the
  reply) gave.
- `unsupported_menu_path`: a navigation path (`Settings > Payroll > Bank files`) no cited document has.
- `echoes_prompt`: the reply repeats the prompt (fence markers, `### system`, `Ticket:`, its rules).
- `echoes_ticket`: the reply copies the ticket (8+ words in a row, or a whole sentence of 6+ words).
- `reply_language_mismatch`: the reply, read without the copied ticket and the items above (or any
  long paragraph of it), is not in the ticket's language.
- `question_not_covered`: something the ticket asks or reports is answered by no cited document
  (see `coverage`).
- `category_mismatch`: the answering (first cited) document's category is not the triaged one.
- `evidence_elsewhere`: an error code or a quoted message of the ticket ("'Account mapping missing'")
  is in another retrieved document and in no cited one (see `evidence`).
- `asks_for_secret`: the reply asks the customer to send a password, card number, one-time code...
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from agent.domain import Finding
from agent.graph.checks.coverage import DICTATION, Ask, AskSearch, asks, uncovered
from agent.graph.checks.echo import language_problems, language_text, prompt_echoes, ticket_echoes
from agent.graph.checks.evidence import evidence_elsewhere
from agent.graph.checks.extract import (
    Item,
    code_supported,
    date_supported,
    extract_all,
    normalise,
    path_supported,
    phone_key,
)
from agent.graph.textutil import detect_language

__all__ = [
    "GROUNDING_RULES",
    "RULES",
    "Ask",
    "Item",
    "asks",
    "content_findings",
    "extract_all",
    "normalise",
    "reply_language",
]

# kind -> rule; and whether an item the customer gave in the ticket may be repeated
_RULES: dict[str, tuple[str, bool]] = {
    "url": ("unsupported_url", False),
    "email": ("unsupported_email", False),
    "handle": ("unsupported_handle", False),
    "phone": ("unsupported_phone", False),
    "account": ("unsupported_account_number", False),
    "amount": ("unsupported_amount", False),
    "date": ("unsupported_date", True),
    "menu_path": ("unsupported_menu_path", False),
    "error_code": ("unsupported_error_code", True),
}
# every rule a check of the draft records: the ground_check node's two grounding rules, then these
# checks' own (in the order content_findings reports them)
RULES: tuple[str, ...] = (
    "ungrounded_draft",
    "unsupported_quote",
    *(rule for rule, _ in _RULES.values()),
    "repeats_masked_value",
    "echoes_prompt",
    "echoes_ticket",
    "reply_language_mismatch",
    "question_not_covered",
    "category_mismatch",
    "evidence_elsewhere",
    "asks_for_secret",
)
# the rules that say the draft states something its sources do not (`Draft.grounded` is False)
GROUNDING_RULES = frozenset(("ungrounded_draft", "unsupported_quote", *(r for r, _ in _RULES.values())))
GROUNDING_RULES |= {"repeats_masked_value", "echoes_prompt", "echoes_ticket"}
_WHAT = {
    "url": "a link",
    "email": "an e-mail address",
    "handle": "a messenger handle",
    "phone": "a phone number",
    "account": "an account or card number",
    "amount": "an amount",
    "date": "a date or time",
    "menu_path": "a menu path",
    "error_code": "an error code or identifier",
}

_SECRET_ASK = re.compile(
    r"\b(?:send|share|provide|give|tell|e-?mail|text|forward|reply with|respond with|dm)\b"
    r"(?:\s+(?:us|me|support|the agent|our team|to us))?[^.!?\n]{0,50}?"
    r"\b(?:password|passcode|pin(?: code)?|cvv|cvc|card number|full card|one-time "
    r"(?:code|password)|2fa code|verification code|security code|sms code|recovery codes?|login details|credentials|"
    r"seed phrase|api (?:key|token)|secret)\b"
    r"|(?:надішліть|надіслати|повідомте|вкажіть|надайте|напишіть|продиктуйте|перешліть)[^.!?\n]{0,50}?"
    r"(?:пароль|пін|cvv|номер (?:вашої )?картки|код (?:підтвердження|з смс|із смс|2fa)|коди відновлення|"
    r"логін і пароль|токен)",
    re.IGNORECASE,
)

# "never share your password", "нікому не повідомляйте пароль": a warning, not an ask
_NEGATION = re.compile(
    r"\b(?:never|not|don'?t|doesn'?t|won'?t|no one|nobody|without)\b|\b(?:ніколи|нікому|не|ні)\b", re.IGNORECASE
)


def _dictating_spans(ticket: str) -> list[tuple[int, int]]:
    """Spans (in the normalised ticket) of the sentences that dictate the reply: an identifier in
    one of them is the ticket's instruction, not something the customer told us about themselves."""
    t = normalise(ticket)
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"(?<=[.!?…])\s+|\n+|$", t):
        if DICTATION.search(t[start : m.start()]):
            spans.append((start, m.start()))
        start = m.end()
    return spans


def _supported(item: Item, doc_items: Sequence[Item], doc_text: str) -> bool:
    same = [i.key for i in doc_items if i.kind == item.kind]
    if item.kind == "url":
        return any(k == item.key or k.startswith(item.key + "/") for k in same)
    if item.kind == "phone":
        return len(item.key) >= 7 and item.key in {phone_key(k) for k in same}
    if item.kind == "date":
        return date_supported(item.key, set(same))
    if item.kind == "menu_path":
        return path_supported(item.key, same)
    if item.kind == "error_code":
        return code_supported(item.key, set(same), doc_text)
    return item.key in same


def item_findings(reply: str, cited_doc_texts: Sequence[str], ticket_text: str) -> tuple[list[Finding], list[Item]]:
    """Findings for the reply's URLs, e-mails, phones, amounts, dates, menu paths and codes that
    are not supported; and every item extracted (the language check leaves them out)."""
    items = extract_all(reply)
    doc_text = normalise("\n\n".join(cited_doc_texts))
    doc_items = extract_all(doc_text)
    ticket_items = extract_all(ticket_text)
    dictated = _dictating_spans(ticket_text)
    ticket_given = [i for i in ticket_items if not any(s <= i.start < e for s, e in dictated)]
    ticket_norm = normalise(ticket_text)
    missing: dict[str, list[str]] = {}
    masked: list[str] = []
    for item in items:
        if item.kind == "placeholder":
            masked.append(item.text)
            continue
        rule_from_ticket = _RULES[item.kind][1]
        if _supported(item, doc_items, doc_text):
            continue
        if rule_from_ticket and _supported(item, ticket_given, _undictated(ticket_norm, dictated)):
            continue
        missing.setdefault(item.kind, []).append(item.text)
    findings: list[Finding] = []
    for kind, (rule, from_ticket) in _RULES.items():
        if kind in missing:
            listed = ", ".join(dict.fromkeys(missing[kind]))
            source = "a cited document or the customer's own words" if from_ticket else "any cited document"
            findings.append(Finding(rule=rule, why=f"draft has {_WHAT[kind]} not found in {source}: {listed}"))
    if masked:
        listed = ", ".join(dict.fromkeys(masked))
        findings.append(
            Finding(rule="repeats_masked_value", why=f"draft repeats a value masked in the ticket: {listed}")
        )
    return findings, items


def _undictated(ticket: str, dictated: Sequence[tuple[int, int]]) -> str:
    chars = list(ticket)
    for s, e in dictated:
        for k in range(s, e):
            chars[k] = " "
    return "".join(chars)


def echo_findings(
    reply: str, cited_doc_texts: Sequence[str], ticket_text: str, prompt_texts: Sequence[str]
) -> tuple[list[Finding], list[tuple[int, int]]]:
    """`echoes_prompt` / `echoes_ticket` findings, and the echoed spans of the reply."""
    findings: list[Finding] = []
    prompt = prompt_echoes(reply, prompt_texts, cited_doc_texts)
    if prompt:
        findings.append(Finding(rule="echoes_prompt", why="draft repeats the prompt: " + "; ".join(prompt)))
    spans = ticket_echoes(reply, ticket_text, cited_doc_texts)
    if spans:
        t = normalise(reply)
        sample = " ".join(t[spans[0][0] : spans[0][1]].split())[:80]
        findings.append(Finding(rule="echoes_ticket", why=f"draft copies the ticket: '{sample}'"))
    return findings, spans


def coverage_findings(
    ticket_text: str,
    cited_ids: Sequence[str],
    cited_doc_texts: Sequence[str],
    top_docs: Mapping[str, Sequence[str]],
    searches: Mapping[str, AskSearch] | None = None,
    answer_category: str | None = None,
) -> list[Finding]:
    missing = uncovered(asks(ticket_text), cited_ids, cited_doc_texts, top_docs, searches, answer_category)
    if not missing:
        return []
    listed = "; ".join(f"{a.kind} '{a.text[:70]}' (words covered {share:.0%})" for a, share in missing[:3])
    return [
        Finding(
            rule="question_not_covered", why=f"draft leaves what the ticket asks unanswered by its sources: {listed}"
        )
    ]


def reply_language(reply: str, cited_doc_texts: Sequence[str], ticket_text: str) -> str:
    """The reply's own language: read without the ticket text it copies and without its items."""
    spans = ticket_echoes(reply, ticket_text, cited_doc_texts)
    return detect_language(language_text(reply, spans, extract_all(reply)))[0]


def content_findings(
    reply: str,
    cited_doc_texts: Sequence[str],
    ticket_text: str,
    *,
    language: str,
    prompt_texts: Sequence[str] = (),
    cited_ids: Sequence[str] = (),
    top_docs: Mapping[str, Sequence[str]] | None = None,
    searches: Mapping[str, AskSearch] | None = None,
    answer_category: str | None = None,
    triaged_category: str | None = None,
    other_doc_texts: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every content rule the reply breaks (see the module docstring), in a fixed order.

    `cited_doc_texts`: the whole texts of the documents the reply cites (and that were retrieved);
    `ticket_text`: the (redacted) ticket every model saw; `language`: the ticket's, the reply's must
    equal it; `prompt_texts`: the prompt's own text, if an LLM wrote the reply; `top_docs`: for each
    ask of the ticket (`asks`), the first documents a search for it returned, best first; `searches`: the
    further searches of an ask that search did not cover (`AskSearch`: with the ticket's subject, alone,
    whether both rankings put one document first, the category its first two results share);
    `answer_category`: the first cited document's category, `triaged_category`: the ticket's;
    `other_doc_texts`: the whole texts of the other retrieved documents, by id (`evidence_elsewhere`).
    """
    findings, items = item_findings(reply, cited_doc_texts, ticket_text)
    echoes, spans = echo_findings(reply, cited_doc_texts, ticket_text, prompt_texts)
    findings += echoes
    problems = language_problems(language_text(reply, spans, items), language)
    if problems:
        findings.append(Finding(rule="reply_language_mismatch", why=f"draft {problems[0]}"))
    findings += coverage_findings(ticket_text, cited_ids, cited_doc_texts, top_docs or {}, searches, answer_category)
    if triaged_category is not None and answer_category != triaged_category:
        findings.append(
            Finding(
                rule="category_mismatch",
                why=f"draft answers with a '{answer_category}' document but the ticket was triaged as "
                f"'{triaged_category}'",
            )
        )
    elsewhere = evidence_elsewhere(ticket_text, cited_doc_texts, other_doc_texts or {})
    if elsewhere:
        said = "; ".join(f"'{e}' is in {d}" for e, d in elsewhere[:3])
        findings.append(
            Finding(
                rule="evidence_elsewhere",
                why=f"the ticket quotes what another article documents and the cited ones do not ({said})",
            )
        )
    doc_norm = normalise("\n".join(cited_doc_texts)).casefold()
    reply_norm = normalise(reply)
    for m in _SECRET_ASK.finditer(reply_norm):
        sentence = re.split(r"[.!?\n]", reply_norm[: m.start()])[-1] + m.group(0)
        if m.group(0).casefold() not in doc_norm and not _NEGATION.search(sentence):
            findings.append(
                Finding(rule="asks_for_secret", why=f"draft asks the customer for a secret: '{m.group(0)}'")
            )
            break
    return findings
