"""YouTrack: the Webhook Triggers app's `issueCreated` deliveries.

The app sends no delivery id and no signature (a shared token header instead, checked in
api/auth.py), so we dedupe on the issue id and the event. The external id is the readable id
(`SUP-12`): `idReadable`, else the project's short name + `numberInProject`, else `id` (YouTrack's
REST API accepts either form). The description is YouTrack Markdown, kept as is; `created` is epoch
milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from agent.domain import TicketEvent
from api.providers import Intake, Skip, lifecycle, parse_time, require_text, ticket_fields
from api.schemas import YouTrackWebhookIn

ISSUE_CREATED = "issueCreated"
SOURCES = {
    "external_id": "idReadable",
    "subject": "summary",
    "body": "description",
    "requester": "reporter",
    "created_at": "created",
    "source_ids": "id",
}


def parse(data: dict[str, Any], headers: Mapping[str, str]) -> Intake | Skip:
    kind = data.get("event")
    if isinstance(kind, str) and kind != ISSUE_CREATED:
        return Skip(kind, f"only {ISSUE_CREATED} creates a ticket")
    hook = YouTrackWebhookIn.model_validate(data)
    body = hook.description or ""
    require_text(hook.summary, body, "description")
    project = hook.project
    prefix = (project.shortName or project.key) if project else None
    readable = hook.idReadable
    if not readable and prefix and hook.numberInProject is not None:
        readable = f"{prefix}-{hook.numberInProject}"
    external_id = readable or hook.id
    reporter = hook.reporter
    requester = (reporter.email or reporter.fullName or reporter.login) if reporter else None
    customer = {"reporter_login": reporter.login if reporter else None}
    ticket = ticket_fields(
        external_id,
        hook.summary,
        body,
        requester,
        customer,
        created_at=parse_time(hook.created),
        source_ids={"issue_id": hook.id, "id_readable": readable},
    )
    return Intake(f"{hook.id}:{hook.event}", ticket, SOURCES)


# ---- lifecycle: issueUpdated / commentAdded, sent by the workflow script in the README -------------------

ISSUE_UPDATED = "issueUpdated"
COMMENT_ADDED = "commentAdded"
STATE_FIELDS = frozenset({"state", "status", "stage"})
ASSIGNEE_FIELDS = frozenset({"assignee", "assignees", "team", "group"})


def _obj(value: object) -> dict[str, Any]:
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _external_id(data: dict[str, Any]) -> str:
    """The same external id `parse` gives the created ticket: idReadable, else project + number, else id."""
    readable = lifecycle.text(data.get("idReadable"))
    project = _obj(data.get("project"))
    prefix = lifecycle.text(project.get("shortName")) or lifecycle.text(project.get("key"))
    number = lifecycle.text(data.get("numberInProject"))
    if not readable and prefix and number:
        readable = f"{prefix}-{number}"
    return lifecycle.ticket_id(readable or data.get("id"), "idReadable")


def parse_events(data: dict[str, Any], headers: Mapping[str, str], now: datetime) -> list[TicketEvent] | None:
    """YouTrack lifecycle: `issueUpdated` with `changes` [{field, from, to}] (State, Assignee,
    Priority, Satisfaction) and `commentAdded` with the `comment` (author, `isReporter`, `visibility`),
    each with `timestamp` (epoch ms) and the issue's `created`."""
    kind = data.get("event")
    if kind not in (ISSUE_UPDATED, COMMENT_ADDED):
        return None
    ext = _external_id(data)
    at = lifecycle.when(data.get("timestamp"), now)
    base = lifecycle.text(data.get("eventId")) or (
        f"{lifecycle.text(data.get('id'))}:{at[0].isoformat()}" if at[1] else None
    )
    out = lifecycle.created("youtrack", ext, data.get("created"), now)
    changes = data.get("changes")
    for item in cast(list[object], changes) if isinstance(changes, list) else []:
        change = _obj(item)
        name = (lifecycle.text(change.get("field")) or "").lower()
        to = change.get("to")
        event_id = f"{base}:{name}" if base else None
        if name in STATE_FIELDS and (status := lifecycle.status_of(to)):
            out.append(
                lifecycle.event(
                    "youtrack", ext, "status", at, event_id, status=status, previous=lifecycle.text(change.get("from"))
                )
            )
        elif name in ASSIGNEE_FIELDS:
            who = lifecycle.text(to) or lifecycle.text(_obj(to).get("login"))
            out.append(
                lifecycle.event(
                    "youtrack",
                    ext,
                    "assigned",
                    at,
                    event_id,
                    to_human=who is not None,
                    attributes={"assignee" if "assignee" in name else "group": who or ""},
                )
            )
        elif name == "priority" and (priority := lifecycle.priority_of(to)):
            out.append(lifecycle.event("youtrack", ext, "priority", at, event_id, priority=priority))
        elif name in ("satisfaction", "csat", "rating") and (rating := lifecycle.rating_of(to)):
            out.append(lifecycle.event("youtrack", ext, "satisfaction", at, event_id, rating=rating))
    if kind == COMMENT_ADDED:
        comment = _obj(data.get("comment"))
        comment_id = lifecycle.text(comment.get("id"))
        visibility = comment.get("visibility")
        public = visibility in (None, "", "public") or (isinstance(visibility, dict) and not visibility)
        customer = comment.get("isReporter") is True
        when = lifecycle.when(comment.get("created"), at[0]) if comment.get("created") is not None else at
        out.append(
            lifecycle.event(
                "youtrack", ext, "comment", when, comment_id, public=public, actor="customer" if customer else "agent"
            )
        )
    return out
