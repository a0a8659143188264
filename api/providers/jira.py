"""Jira Cloud / Jira Service Management / Jira Server and Data Center: `jira:issue_created` webhooks.

Webhooks, Cloud and Server alike, carry the description as wiki markup (`*bold*`, `{code}`, tables,
`[~user]` mentions), rendered to text by tools.ticketing.wiki; an Atlassian Document Format object
(REST v3 answers, automation bodies built from them) is rendered by tools.ticketing.adf. The dedupe
key is the X-Atlassian-Webhook-Identifier header, which stays the same across Jira's retries (they
can come ~30 min later); without it (Server, or an automation "Send web request"), the issue id and
the event. Everything else in the body (`timestamp`, `user`, `changelog`, ...) is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from agent.domain import LifecycleStatus, TicketEvent
from api.providers import Intake, Skip, header, lifecycle, parse_time, require_text, ticket_fields
from api.schemas import JiraWebhookIn
from tools.ticketing.adf import adf_to_text
from tools.ticketing.wiki import wiki_to_text

ISSUE_CREATED = "jira:issue_created"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
SOURCES = {
    "external_id": "issue.key",
    "subject": "issue.fields.summary",
    "body": "issue.fields.description",
    "requester": "issue.fields.reporter",
    "created_at": "issue.fields.created",
    "source_ids": "issue.id",
}


def parse(data: dict[str, Any], headers: Mapping[str, str]) -> Intake | Skip:
    kind = data.get("webhookEvent")
    if isinstance(kind, str) and kind != ISSUE_CREATED:
        return Skip(kind, f"only {ISSUE_CREATED} creates a ticket")
    hook = JiraWebhookIn.model_validate(data)
    issue = hook.issue
    fields = issue.fields
    description = fields.description
    body = adf_to_text(description) if isinstance(description, dict) else wiki_to_text(description)
    require_text(fields.summary, body, "issue.fields.description")
    reporter = fields.reporter
    requester = (reporter.emailAddress or reporter.displayName or reporter.name) if reporter else None
    if reporter and reporter.accountId:
        customer = {"reporter_account_id": reporter.accountId}
    else:  # Server / Data Center users have a name, no accountId
        customer = {"reporter_name": reporter.name if reporter else None}
    delivery = (header(headers, DELIVERY_HEADER) or "").strip() or f"{issue.id or issue.key}:{hook.webhookEvent}"
    ticket = ticket_fields(
        issue.key,
        fields.summary,
        body,
        requester,
        customer,
        created_at=parse_time(fields.created),
        source_ids={"issue_id": issue.id, "issue_key": issue.key},
    )
    return Intake(delivery, ticket, SOURCES)


# ---- lifecycle: jira:issue_updated (its changelog) and comment_created -----------------------------------

ISSUE_UPDATED = "jira:issue_updated"
COMMENT_CREATED = "comment_created"
_CATEGORY: dict[str, LifecycleStatus] = {"new": "new", "indeterminate": "open", "done": "solved"}
SATISFACTION_FIELDS = frozenset({"satisfaction", "satisfaction rating", "customer satisfaction", "request feedback"})


def _obj(value: object) -> dict[str, Any]:
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def parse_events(data: dict[str, Any], headers: Mapping[str, str], now: datetime) -> list[TicketEvent] | None:
    """Jira lifecycle: a `jira:issue_updated` changelog's status, assignee, priority and
    satisfaction items, and comments (`comment_created`, or `issue_commented` updates) with their
    visibility (JSM `jsdPublic`) and author (the reporter or a JSM customer account is the customer).
    Statuses map by name (Done, Resolved, Waiting for customer, ...), else by the status category."""
    kind = data.get("webhookEvent")
    if kind not in (ISSUE_UPDATED, COMMENT_CREATED):
        return None
    issue = _obj(data.get("issue"))
    fields = _obj(issue.get("fields"))
    ext = lifecycle.ticket_id(issue.get("key"), "issue.key")
    at = lifecycle.when(data.get("timestamp") or fields.get("updated"), now)
    out = lifecycle.created("jira", ext, fields.get("created"), now)
    changelog = _obj(data.get("changelog"))
    change_id = lifecycle.text(changelog.get("id"))
    items = changelog.get("items")
    current = _obj(fields.get("status"))
    for item in cast(list[object], items) if isinstance(items, list) else []:
        entry = _obj(item)
        name = (lifecycle.text(entry.get("field")) or "").lower()
        event_id = f"changelog:{change_id}:{name}" if change_id else None
        to_text = lifecycle.text(entry.get("toString"))
        if name == "status":
            status = lifecycle.status_of(to_text)
            category = lifecycle.text(_obj(current.get("statusCategory")).get("key"))
            same = lifecycle.text(entry.get("to")) == lifecycle.text(current.get("id"))
            if to_text and to_text.lower() not in _KNOWN and same and category in _CATEGORY:
                status = _CATEGORY[category]
            if status is not None:
                out.append(
                    lifecycle.event(
                        "jira",
                        ext,
                        "status",
                        at,
                        event_id,
                        status=status,
                        previous=lifecycle.text(entry.get("fromString")),
                    )
                )
        elif name == "assignee":
            to = lifecycle.text(entry.get("to")) or to_text
            out.append(
                lifecycle.event(
                    "jira",
                    ext,
                    "assigned",
                    at,
                    event_id,
                    to_human=to is not None,
                    previous=lifecycle.text(entry.get("fromString")),
                    attributes={"assignee": to or ""},
                )
            )
        elif name == "priority" and (priority := lifecycle.priority_of(to_text)):
            out.append(lifecycle.event("jira", ext, "priority", at, event_id, priority=priority))
        elif name in SATISFACTION_FIELDS and (rating := lifecycle.rating_of(to_text or entry.get("to"))):
            out.append(lifecycle.event("jira", ext, "satisfaction", at, event_id, rating=rating))
    comment = _obj(data.get("comment"))
    if comment:
        author = _obj(comment.get("author"))
        reporter = _obj(fields.get("reporter"))
        who = lifecycle.text(author.get("accountId")) or lifecycle.text(author.get("name"))
        by_reporter = who is not None and who in (
            lifecycle.text(reporter.get("accountId")),
            lifecycle.text(reporter.get("name")),
        )
        customer = by_reporter or lifecycle.text(author.get("accountType")) == "customer"
        public = comment.get("jsdPublic")
        if not isinstance(public, bool):
            public = not _obj(comment.get("visibility"))
        comment_id = lifecycle.text(comment.get("id"))
        out.append(
            lifecycle.event(
                "jira",
                ext,
                "comment",
                lifecycle.when(comment.get("created"), at[0]) if comment.get("created") else at,
                f"comment:{comment_id}" if comment_id else None,
                public=public,
                actor="customer" if customer else "agent",
            )
        )
    return out


_KNOWN = frozenset(lifecycle.STATUS_NAMES)
