"""Jira Cloud / Jira Service Management: `jira:issue_created` webhooks.

The description is wiki-markup text (REST v2 webhooks) or an Atlassian Document Format object
(REST v3, automation); both become plain text. The dedupe key is the X-Atlassian-Webhook-Identifier
header, which stays the same across Jira's retries (they can come ~30 min later); without it
(e.g. an automation "Send web request"), the issue id and the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.providers import Intake, Skip, header, require_text, ticket_fields
from api.schemas import JiraWebhookIn
from tools.ticketing.adf import adf_to_text

ISSUE_CREATED = "jira:issue_created"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
SOURCES = {
    "external_id": "issue.key",
    "subject": "issue.fields.summary",
    "body": "issue.fields.description",
    "requester": "issue.fields.reporter",
}


def parse(data: dict[str, Any], headers: Mapping[str, str]) -> Intake | Skip:
    kind = data.get("webhookEvent")
    if isinstance(kind, str) and kind != ISSUE_CREATED:
        return Skip(kind, f"only {ISSUE_CREATED} creates a ticket")
    hook = JiraWebhookIn.model_validate(data)
    issue = hook.issue
    fields = issue.fields
    description = fields.description
    body = adf_to_text(description) if isinstance(description, dict) else (description or "")
    require_text(fields.summary, body, "issue.fields.description")
    reporter = fields.reporter
    requester = (reporter.emailAddress or reporter.displayName) if reporter else None
    customer = {"reporter_account_id": reporter.accountId if reporter else None}
    delivery = (header(headers, DELIVERY_HEADER) or "").strip() or f"{issue.id or issue.key}:{hook.webhookEvent}"
    return Intake(delivery, ticket_fields(issue.key, fields.summary, body, requester, customer), SOURCES)
