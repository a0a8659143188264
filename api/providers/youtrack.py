"""YouTrack: the Webhook Triggers app's `issueCreated` deliveries.

The app sends no delivery id and no signature (a shared token header instead, checked in
api/auth.py), so we dedupe on the issue id and the event. The external id is the readable id
(`SUP-12`): `idReadable`, else the project's short name + `numberInProject`, else `id` (YouTrack's
REST API accepts either form). The description is YouTrack Markdown, kept as is; `created` is epoch
milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.providers import Intake, Skip, parse_time, require_text, ticket_fields
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
