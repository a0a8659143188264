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
from typing import Any

from api.providers import Intake, Skip, header, parse_time, require_text, ticket_fields
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
