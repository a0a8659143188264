"""YouTrack: the Webhook Triggers app's `issueCreated` deliveries.

The app sends no delivery id and no signature (a shared token header instead, checked in
api/auth.py), so we dedupe on the issue id and the event. The external id is the readable id
(`SUP-12`): `idReadable`, else the project's short name + `numberInProject`, else `id` (YouTrack's
REST API accepts either form).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.providers import Intake, Skip, require_text, ticket_fields
from api.schemas import YouTrackWebhookIn

ISSUE_CREATED = "issueCreated"
SOURCES = {"external_id": "idReadable", "subject": "summary", "body": "description", "requester": "reporter"}


def parse(data: dict[str, Any], headers: Mapping[str, str]) -> Intake | Skip:
    kind = data.get("event")
    if isinstance(kind, str) and kind != ISSUE_CREATED:
        return Skip(kind, f"only {ISSUE_CREATED} creates a ticket")
    hook = YouTrackWebhookIn.model_validate(data)
    body = hook.description or ""
    require_text(hook.summary, body, "description")
    project = hook.project
    prefix = (project.shortName or project.key) if project else None
    if hook.idReadable:
        external_id = hook.idReadable
    elif prefix and hook.numberInProject is not None:
        external_id = f"{prefix}-{hook.numberInProject}"
    else:
        external_id = hook.id
    reporter = hook.reporter
    requester = (reporter.email or reporter.fullName or reporter.login) if reporter else None
    customer = {"reporter_login": reporter.login if reporter else None}
    return Intake(
        f"{hook.id}:{hook.event}", ticket_fields(external_id, hook.summary, body, requester, customer), SOURCES
    )
