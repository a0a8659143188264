"""What the service writes for the support team, in the team's language (`settings.team_language`):
the internal notes on tickets (triage, suggestion, handoff, review) and the handoff note. Replies to
customers are not here: they follow the ticket's language.

Labels and sentences are translated; values stay as the systems know them (category `payroll`,
priority `high`, rule names, document ids), so a note can still be searched and filtered by them.
"""

from __future__ import annotations

from typing import Literal

TeamLanguage = Literal["en", "uk"]

_TEXT: dict[str, dict[TeamLanguage, str]] = {
    "triage": {
        "en": "Triage: category {category} ({category_c}), priority {priority} ({priority_c}), language "
        "{language} ({language_c}), sentiment {sentiment} ({sentiment_c}), risk {risk} ({risk_c}); decided by {by}",
        "uk": "Тріаж: категорія {category} ({category_c}), пріоритет {priority} ({priority_c}), мова "
        "{language} ({language_c}), настрій {sentiment} ({sentiment_c}), ризик {risk} ({risk_c}); визначив {by}",
    },
    "decision": {
        "en": "Decision: {action} (rules: {rules}): {reason}",
        "uk": "Рішення: {action} (правила: {rules}): {reason}",
    },
    "policy": {"en": "Policy {version}; ticket {ticket}", "uk": "Політика {version}; звернення {ticket}"},
    "none": {"en": "none", "uk": "немає"},
    "cited": {"en": "Cited:", "uk": "Цитовано:"},
    "auto_resolved": {
        "en": "AI triage auto-resolved this ticket with the public reply (grounded in the cited documents).",
        "uk": "AI-тріаж вирішив це звернення публічною відповіддю (на основі цитованих документів).",
    },
    "suggested": {
        "en": "AI triage drafted a reply for review: it was NOT sent to the customer.",
        "uk": "AI-тріаж підготував чернетку відповіді на перевірку: клієнтові її НЕ надіслано.",
    },
    "draft_header": {
        "en": "--- Draft reply: approve, edit or reject it on the triage review page (approving there sends it) ---",
        "uk": "--- Чернетка відповіді: схваліть, відредагуйте або відхиліть її на сторінці перевірки "
        "(схвалення там надсилає її) ---",
    },
    "handed_off": {"en": "AI triage handed this ticket to a human.", "uk": "AI-тріаж передав це звернення людині."},
    "approved": {
        "en": "Reply approved by {by} in triage review and sent to the customer.",
        "uk": "Відповідь схвалив(-ла) {by} на сторінці перевірки; її надіслано клієнтові.",
    },
    "edited_approved": {
        "en": "Reply edited and approved by {by} in triage review and sent to the customer.",
        "uk": "Відповідь відредагував(-ла) і схвалив(-ла) {by} на сторінці перевірки; її надіслано клієнтові.",
    },
    # the handoff node's note (agent/graph/nodes/handoff.py)
    "handoff_queue": {
        "en": "AI triage handed this ticket to queue '{queue}'.",
        "uk": "AI-тріаж передав це звернення в чергу '{queue}'.",
    },
    "why": {"en": "Why: {reason}", "uk": "Чому: {reason}"},
    "handoff_assigned": {
        "en": "AI triage handed this ticket to queue '{queue}' ({tier}), assigned to {engineer}.",
        "uk": "AI-тріаж передав це звернення в чергу '{queue}' ({tier}), відповідальний: {engineer}.",
    },
    "nobody": {
        "en": "nobody (no one on duty, no fallback on-call configured)",
        "uk": "нікого (ніхто не на зміні, резервного чергового не налаштовано)",
    },
    "ticket": {"en": "Ticket: {summary}", "uk": "Звернення: {summary}"},
    "customer": {"en": "Customer: {client} ({tier})", "uk": "Клієнт: {client} ({tier})"},
    "unknown": {"en": "unknown", "uk": "невідомий"},
    "why_not_resolved": {
        "en": "Why the AI did not resolve it: {reason}",
        "uk": "Чому AI не вирішив його: {reason}",
    },
    "routing": {"en": "Routing: {why}", "uk": "Маршрутизація: {why}"},
    "sla": {
        "en": "SLA ({tier}, {priority}): first response by {first}, resolution by {resolution}",
        "uk": "SLA ({tier}, {priority}): перша відповідь до {first}, вирішення до {resolution}",
    },
    "sla_local": {
        "en": " (first response {local} {zone} for {name})",
        "uk": " (перша відповідь {local} {zone} для {name})",
    },
    "found_triage": {
        "en": "Triage: category {category} ({confidence}), priority {priority}, language {language}, "
        "sentiment {sentiment}, risk {risk}",
        "uk": "Тріаж: категорія {category} ({confidence}), пріоритет {priority}, мова {language}, "
        "настрій {sentiment}, ризик {risk}",
    },
    "known_issue": {"en": "Known issue: {doc}", "uk": "Відома проблема: {doc}"},
    "careful": {"en": "Careful: {note}", "uk": "Обережно: {note}"},
    "closest": {"en": "Closest knowledge:", "uk": "Найближчі знання:"},
    "nothing_relevant": {"en": "- nothing relevant", "uk": "- нічого доречного"},
    "match": {"en": "match", "uk": "збіг"},
}


def note_text(key: str, lang: str = "en", **values: object) -> str:
    """The team-facing sentence `key` in `lang` (English for any other), filled with `values`."""
    entry = _TEXT[key]
    template = entry["uk"] if lang == "uk" else entry["en"]
    return template.format(**values)


def keys() -> list[str]:
    return sorted(_TEXT)
