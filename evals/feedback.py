"""`triage export-feedback`: support agents' verdicts on suggested replies, as data to learn from.

Two files:
- an eval dataset in our ticket JSONL format (what `triage eval resolve --test` and `triage eval
  smoke` read): the ticket, the gold outcome the verdict implies, the cited docs, and the draft and
  final text side by side.
    approve (sent as drafted)   -> gold outcome auto_resolve, gold docs = the cited ones
    edit (a human changed it)   -> gold outcome suggest, gold docs = the cited ones
    reject                      -> gold outcome handoff, no gold docs
    an auto-resolution that did not stay resolved (reopened, reassigned to a human, or rated bad
    afterwards; from the lifecycle events) -> gold outcome suggest, no gold docs: the reply it sent
    did not resolve the ticket, so `triage tune` and the answerability model count it as a wrong
    auto-resolution to avoid
- labelled history for `triage train --data` (subject, body, category, priority, sentiment): only
  tickets whose category a human confirmed (approved or edited), or corrected (`category` in the
  verdict). A rejection without a correction says the reply was wrong, not what the category is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.domain import TicketResult

if TYPE_CHECKING:
    from agent.storage.tickets import TicketStore

OUTCOME = {"approve": "auto_resolve", "edit": "suggest", "reject": "handoff"}


def eval_row(review: dict[str, Any]) -> dict[str, Any]:
    ticket: dict[str, Any] = review["ticket"]
    result = TicketResult.stored(review["result"])
    triage = result.triage if result else None
    action = review["action"]
    category = review.get("category") or (triage.category.value if triage else None)
    return {
        "id": ticket.get("external_id") or review["ticket_id"],
        "subject": ticket.get("subject", ""),
        "body": ticket.get("body", ""),
        "language": (triage.language.value if triage else None) or ticket.get("language"),
        "product": ticket.get("product"),
        "requester": ticket.get("requester"),
        "customer": ticket.get("customer") or {},
        "gold": {
            "category": category,
            "priority": triage.priority.value if triage else None,
            "outcome": OUTCOME[action],
            "doc_ids": list(result.reply.citations) if result and result.reply and action != "reject" else [],
            "risk": list(triage.risk.value) if triage else [],
        },
        "draft": review.get("draft_text"),
        "final": review.get("final_text"),
        "review": {
            "action": action,
            "reason": review.get("reason"),
            "by": review.get("reviewer"),
            "at": review["created_at"].isoformat() if isinstance(review["created_at"], datetime) else None,
            "category_corrected": bool(review.get("category")),
            "policy_version": result.policy_version if result else None,
            "ticket_id": review["ticket_id"],
        },
    }


def history_row(review: dict[str, Any]) -> dict[str, Any] | None:
    result = TicketResult.stored(review["result"])
    triage = result.triage if result else None
    category = review.get("category") or (triage.category.value if triage and review["action"] != "reject" else None)
    if not category:
        return None
    ticket: dict[str, Any] = review["ticket"]
    return {
        "id": ticket.get("external_id") or review["ticket_id"],
        "subject": ticket.get("subject", ""),
        "body": ticket.get("body", ""),
        "language": triage.language.value if triage else None,
        "category": category,
        "priority": triage.priority.value if triage else None,
        "sentiment": triage.sentiment.value if triage else None,
    }


def undone_row(stored: dict[str, Any], lifecycle: dict[str, Any]) -> dict[str, Any] | None:
    """An eval row for an auto-resolution that did not stay resolved (None: it did, or it was not
    ours). `stored`: the ticket store's record (`TicketStore.get`); `lifecycle`: its lifecycle row."""
    result = TicketResult.stored(stored.get("result"))
    if result is None or result.decision.action != "auto_resolve":
        return None
    why = (
        "reopened"
        if lifecycle.get("reopens")
        else "reassigned_to_human"
        if lifecycle.get("auto_undone_s") is not None
        else "rated_bad"
        if lifecycle.get("csat") == "bad"
        else None
    )
    if why is None:
        return None
    ticket: dict[str, Any] = stored.get("ticket") or {}
    triage = result.triage
    return {
        "id": ticket.get("external_id") or stored.get("id"),
        "subject": ticket.get("subject", ""),
        "body": ticket.get("body", ""),
        "language": triage.language.value if triage else ticket.get("language"),
        "product": ticket.get("product"),
        "requester": ticket.get("requester"),
        "customer": ticket.get("customer") or {},
        "gold": {
            "category": triage.category.value if triage else None,
            "priority": triage.priority.value if triage else None,
            "outcome": "suggest",  # a human should have looked before it was sent
            "doc_ids": [],  # what it cited did not resolve it
            "risk": list(triage.risk.value) if triage else [],
        },
        "draft": result.reply.text if result.reply else None,
        "final": None,
        "review": {
            "action": why,
            "by": "lifecycle",
            "cited": list(result.reply.citations) if result.reply else [],
            "policy_version": result.policy_version,
            "ticket_id": stored.get("id"),
        },
    }


def export_feedback(
    reviews: list[dict[str, Any]],
    out: Path,
    history: Path | None = None,
    since: datetime | None = None,
    undone: list[dict[str, Any]] | None = None,
) -> tuple[int, int]:
    """Write the eval dataset (and the history file); returns (eval rows, history rows). `undone`:
    eval rows of auto-resolutions that did not stay resolved (`undone_row`), written after the verdicts."""
    chosen = [r for r in reviews if since is None or r["created_at"] >= since]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for r in chosen:
            fh.write(json.dumps(eval_row(r), ensure_ascii=False) + "\n")
        for row in undone or []:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_hist = 0
    if history is not None:
        history.parent.mkdir(parents=True, exist_ok=True)
        with history.open("w", encoding="utf-8") as fh:
            for r in chosen:
                row = history_row(r)
                if row is not None:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    n_hist += 1
    return len(chosen) + len(undone or []), n_hist


def undone_auto_resolutions(store: TicketStore, since: datetime | None = None) -> list[dict[str, Any]]:
    """Eval rows (`undone_row`) for every auto-resolution in the store's lifecycle table that was
    reopened, reassigned to a human or rated bad (created on or after `since`)."""
    from agent.storage.events import EventStore

    rows: list[dict[str, Any]] = []
    for life in EventStore(store).iter_lifecycles():
        if life.get("action") != "auto_resolve" or not life.get("ticket_id"):
            continue
        created = life.get("created_at")
        if since is not None and created is not None and _aware(created) < since:
            continue
        stored = store.get(str(life["ticket_id"]))
        row = undone_row(stored, life) if stored is not None else None
        if row is not None:
            rows.append(row)
    return rows


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
