"""What the providers' lifecycle parsers share: ticket updates -> `TicketEvent`s (agent/domain.py).

Each provider module has `parse_events(data, headers, now)`: None when the payload is no lifecycle
event we read (the route answers 200 `ignored`, as before), else the events it carries (possibly
several: a Jira changelog changes status and assignee at once; every event that carries the ticket's
created time adds a `created` event, so a ticket first seen through an update still knows when it
was created). Like `parse`, it is pure and raises PayloadError naming the field when the ticket id is
missing or unusable; everything else it reads leniently (an unreadable time becomes our receipt,
`time_known` false; an unknown status name is kept as `previous` text and maps to open).

The rule body (`rule_events`) is the JSON body the README tells a Zendesk trigger, a Freshdesk
automation rule or a YouTrack workflow to send for an update:

    {"event": "status_changed" | "comment_added" | "reply_sent" | "customer_replied" | "note_added"
              | "assigned" | "priority_changed" | "satisfaction_rated" | "ticket_updated",
     "ticket_id": "...", "time": "...", "event_id": "...", "created_at": "...",
     "status": "...", "previous_status": "...", "priority": "...", "public": true,
     "author": "agent" | "customer", "assignee": "...", "group": "...", "rating": "..."}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agent.domain import EventActor, LifecycleKind, LifecycleStatus, Priority, TicketEvent
from api.providers import PayloadError, parse_time

MAX_TEXT = 255

# status names as the four systems (and their common workflows) write them, lowercased
STATUS_NAMES: dict[str, LifecycleStatus] = {
    "new": "new",
    "to do": "new",
    "todo": "new",
    "backlog": "new",
    "submitted": "new",
    "open": "open",
    "reopened": "open",
    "in progress": "open",
    "waiting for support": "open",
    "escalated": "open",
    "work in progress": "open",
    "investigating": "open",
    "to be discussed": "open",
    "pending": "pending",
    "waiting for customer": "pending",
    "waiting on customer": "pending",
    "wait for reply": "pending",
    "awaiting customer": "pending",
    "waiting for reply": "pending",
    "hold": "on_hold",
    "on-hold": "on_hold",
    "on hold": "on_hold",
    "waiting on third party": "on_hold",
    "waiting for third party": "on_hold",
    "on_hold": "on_hold",
    "solved": "solved",
    "resolved": "solved",
    "done": "solved",
    "fixed": "solved",
    "verified": "solved",
    "completed": "solved",
    "answered": "solved",
    "canceled": "closed",
    "cancelled": "closed",
    "closed": "closed",
    "won't fix": "closed",
    "won't do": "closed",
    "duplicate": "closed",
    "obsolete": "closed",
    "can't reproduce": "closed",
    "incomplete": "closed",
    "declined": "closed",
    "archived": "closed",
}
_PRIORITY: dict[str, Priority] = {
    "lowest": "low",
    "low": "low",
    "minor": "low",
    "trivial": "low",
    "p4": "low",
    "p5": "low",
    "1": "low",
    "normal": "normal",
    "medium": "normal",
    "major": "normal",
    "p3": "normal",
    "2": "normal",
    "high": "high",
    "critical": "high",
    "p2": "high",
    "3": "high",
    "highest": "urgent",
    "urgent": "urgent",
    "blocker": "urgent",
    "show-stopper": "urgent",
    "p1": "urgent",
    "emergency": "urgent",
    "4": "urgent",
}
_GOOD = frozenset({"good", "satisfied", "happy", "very happy", "extremely happy", "great", "positive", "yes"})
_BAD = frozenset(
    {
        "bad",
        "unsatisfied",
        "dissatisfied",
        "unhappy",
        "very unhappy",
        "extremely unhappy",
        "negative",
        "no",
        "neutral",
        "poor",
    }
)


def _id_text(value: object) -> object:
    # ids come as JSON numbers or strings depending on the sender; booleans and objects stay unusable
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    return value.strip() if isinstance(value, str) else value


def text(value: object, limit: int = MAX_TEXT) -> str | None:
    """A short text we read (ids, names): None unless non-empty; numbers become their digits."""
    value = _id_text(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


def ticket_id(value: object, field: str) -> str:
    """The ticket id an event is attached by: required, at most 255 characters."""
    got = _id_text(value)
    if not isinstance(got, str) or not got:
        raise PayloadError(field, "the ticket id is missing (a text or a number is needed)")
    if len(got) > MAX_TEXT:
        raise PayloadError(field, f"the ticket id is {len(got)} characters long; at most {MAX_TEXT} are accepted")
    return got


def status_of(name: object) -> LifecycleStatus | None:
    value = text(name)
    if value is None:
        return None
    key = " ".join(value.lower().replace("_", " ").split())
    return STATUS_NAMES.get(key) or STATUS_NAMES.get(key.replace(" ", "_")) or "open"


def priority_of(name: object) -> Priority | None:
    value = text(name)
    return _PRIORITY.get(value.lower().strip()) if value else None


def rating_of(value: object) -> Literal["good", "bad"] | None:
    """good / bad from Zendesk (good, bad; offered = no rating yet), five-point scales (4-5 good),
    Freshdesk's scale (103, 102, 101 happy; 100 neutral; -101..-103 unhappy) and plain words."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        word = text(value)
        if word is None:
            return None
        word = " ".join(word.lower().split())
        if word in _GOOD:
            return "good"
        if word in _BAD:
            return "bad"
        m = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?:\s*/\s*(\d+))?", word)
        if m is None:
            return None
        number = float(m.group(1))
        if m.group(2):  # "4/5"
            scale = float(m.group(2))
            return ("good" if number / scale >= 0.8 else "bad") if scale > 0 else None
    if number >= 100 or number <= -100:  # Freshdesk
        return "good" if number > 100 else "bad"
    if 1 <= number <= 5:
        return "good" if number >= 4 else "bad"
    return None


def when(value: object, now: datetime) -> tuple[datetime, bool]:
    """The event's time as the system gave it (any form parse_time reads, nanoseconds included), or
    our receipt time with False when it gave none we can read."""
    got = parse_time(value)
    return (got, True) if got is not None else (now, False)


def event(
    source: str,
    external_id: str,
    kind: LifecycleKind,
    at: tuple[datetime, bool],
    event_id: str | None,
    **fields: Any,
) -> TicketEvent:
    attributes = {k: v[:MAX_TEXT] for k, v in (fields.pop("attributes", None) or {}).items() if v}
    return TicketEvent(
        source=source,
        external_id=external_id,
        kind=kind,
        at=at[0],
        time_known=at[1],
        event_id=event_id,
        attributes=attributes,
        **fields,
    )


def created(source: str, external_id: str, value: object, now: datetime) -> list[TicketEvent]:
    """The ticket's created time when the payload carries it (as a `created` event), else nothing."""
    got = parse_time(value)
    if got is None:
        return []
    return [event(source, external_id, "created", (got, True), f"created:{external_id}", actor="system")]


def created_from_fields(source: str, ticket_id_: str, fields: Mapping[str, Any], now: datetime) -> TicketEvent:
    """The `created` event of a ticket our intake just stored (its own created time, else our receipt)."""
    external_id = str(fields["external_id"])
    given = fields.get("created_at")
    tier = (fields.get("customer") or {}).get("tier")
    attributes = {"ticket_id": ticket_id_, **({"tier": str(tier)} if tier else {})}
    # keyed by our ticket id (the system's own events use `created:<external id>`), so the link to our
    # ticket is stored even when an update carrying the created time came first
    if isinstance(given, datetime):
        return event(
            source,
            external_id,
            "created",
            (given, True),
            f"intake:{ticket_id_}",
            actor="system",
            attributes=attributes,
        )
    return event(
        source,
        external_id,
        "created",
        (now, False),
        f"intake:{ticket_id_}",
        actor="system",
        attributes=attributes,
    )


# ---- the rule body (Zendesk triggers, Freshdesk rules, YouTrack workflows, anything else) -----------------

STATUS_EVENTS = frozenset({"status_changed", "ticket_solved", "ticket_closed", "ticket_reopened", "ticket_pending"})
COMMENT_EVENTS = frozenset({"comment_added", "reply_sent", "customer_replied", "note_added", "agent_replied"})
ASSIGN_EVENTS = frozenset({"assigned", "agent_assigned", "group_assigned", "reassigned", "assignee_changed"})
PRIORITY_EVENTS = frozenset({"priority_changed"})
RATING_EVENTS = frozenset({"satisfaction_rated", "feedback_received", "satisfaction_changed", "csat"})
RULE_EVENTS = STATUS_EVENTS | COMMENT_EVENTS | ASSIGN_EVENTS | PRIORITY_EVENTS | RATING_EVENTS | {"ticket_updated"}


def rule_name(value: object) -> str | None:
    name = text(value)
    return name.lower().replace(".", "_").replace("-", "_") if name else None


def rule_events(
    data: Mapping[str, Any], source: str, now: datetime, id_field: str = "ticket_id"
) -> list[TicketEvent] | None:
    """The events of a rule body (module doc); None when `event` names none we read."""
    name = rule_name(data.get("event"))
    if name not in RULE_EVENTS:
        return None
    ext = ticket_id(data.get(id_field), id_field)
    at = when(data.get("time") or data.get("updated_at"), now)
    given_id = text(data.get("event_id"))
    out = created(source, ext, data.get("created_at"), now)

    def add(kind: LifecycleKind, **fields: Any) -> None:
        out.append(event(source, ext, kind, at, f"{given_id}:{kind}" if given_id else None, **fields))

    status = status_of(data.get("status"))
    forced = {
        "ticket_solved": "solved",
        "ticket_closed": "closed",
        "ticket_reopened": "open",
        "ticket_pending": "pending",
    }
    if name in forced:
        status = cast(LifecycleStatus, forced[name])
    if (name in STATUS_EVENTS or name == "ticket_updated") and status is not None:
        add(
            "status",
            status=status,
            previous=text(data.get("previous_status")) or text(data.get("status")),
            actor=_actor(data.get("author")),
        )
    if (name in PRIORITY_EVENTS or name == "ticket_updated") and (prio := priority_of(data.get("priority"))):
        add("priority", priority=prio)
    if name in COMMENT_EVENTS:
        author = {"customer_replied": "customer", "reply_sent": "agent", "agent_replied": "agent"}.get(name)
        public = data.get("public")
        is_public = (name != "note_added") if not isinstance(public, bool) else public
        add("comment", public=is_public, actor=_actor(data.get("author")) or author or "agent")
    if name in ASSIGN_EVENTS:
        assignee, group = text(data.get("assignee")), text(data.get("group"))
        add(
            "assigned",
            to_human=bool(assignee or group),
            previous=text(data.get("previous")),
            attributes={"assignee": assignee or "", "group": group or ""},
        )
    if name in RATING_EVENTS and (rating := rating_of(data.get("rating"))):
        add("satisfaction", rating=rating)
    return out


def _actor(value: object) -> EventActor | None:
    name = (text(value) or "").lower()
    if name in ("agent", "staff", "support", "admin"):
        return "agent"
    if name in ("customer", "requester", "end-user", "end_user", "reporter", "contact"):
        return "customer"
    return None


# ---- the generic endpoint: our own event shape (Standard Webhooks) ---------------------------------------


def _in_range(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not 1970 <= value.year <= 2200:  # checked first: converting year 1 or 9999 can overflow
        raise ValueError("the year must be between 1970 and 2200")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ShortText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class GenericEventIn(BaseModel):
    """A lifecycle event sent to /webhooks/generic: the TicketEvent fields (agent/domain.py) but the
    source; `at` is ISO 8601 (no zone = UTC), default our receipt; `event_id` defaults to the delivery's
    webhook-id (with the position for a list in `events`)."""

    model_config = ConfigDict(extra="ignore")
    external_id: ShortText
    kind: Literal["created", "status", "comment", "assigned", "priority", "satisfaction"]
    at: Annotated[datetime | None, AfterValidator(_in_range)] = None
    event_id: ShortText | None = None
    actor: EventActor | None = None
    status: LifecycleStatus | None = None
    previous: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    public: bool | None = None
    to_human: bool | None = None
    priority: Priority | None = None
    rating: Literal["good", "bad"] | None = None
    attributes: dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[str, Field(max_length=MAX_TEXT)]] = (
        Field(default_factory=dict[str, str], max_length=16)
    )


class GenericEventsIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    events: list[GenericEventIn] = Field(min_length=1, max_length=500)


def is_generic_event(data: Mapping[str, Any]) -> bool:
    return "kind" in data or ("events" in data and "subject" not in data)


def generic_events(data: dict[str, Any], delivery_id: str, now: datetime) -> list[TicketEvent]:
    """The events of a generic delivery: one event object, or {"events": [...]}. Raises ValidationError."""
    items = GenericEventsIn.model_validate(data).events if "kind" not in data else [GenericEventIn.model_validate(data)]
    out: list[TicketEvent] = []
    for i, item in enumerate(items):
        fields = item.model_dump(exclude={"at", "event_id"})
        default_id = delivery_id if len(items) == 1 else f"{delivery_id}:{i}"
        out.append(
            TicketEvent(
                source="generic",
                at=item.at or now,
                time_known=item.at is not None,
                event_id=item.event_id or default_id,
                **fields,
            )
        )
    return out
