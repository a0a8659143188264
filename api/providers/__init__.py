"""Ticketing-system webhooks: one module per sender, each turning a verified payload into ticket fields.

`parse(data, headers)` is pure (no I/O, no HTTP errors) and returns either an `Intake` (the fields
GenericTicketIn has, plus the delivery id to dedupe on) or a `Skip` (a well-formed event that does not
create a ticket, e.g. an update). A payload that does not fit raises pydantic.ValidationError or
PayloadError, both naming the offending field; api/webhooks.py answers them with 422.
Signatures and tokens are checked before parsing, in api/auth.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Intake:
    delivery_id: str
    fields: dict[str, Any]  # external_id, subject, body, requester, customer, language, product
    # ticket field -> the payload field it came from, so a 422 names what the sender controls
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    event: str
    reason: str


class PayloadError(ValueError):
    """The payload parses but cannot become a ticket; `field` is the payload field to fix."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


Parser = Callable[[dict[str, Any], Mapping[str, str]], Intake | Skip]


def blank_to_none(value: str | None) -> str | None:
    """Placeholders for missing values render as empty strings: treat them as absent."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def require_text(subject: str, body: str, field: str) -> None:
    if not subject.strip() and not body.strip():
        raise PayloadError(field, "the ticket has neither a subject nor a description")


def ticket_fields(
    external_id: str,
    subject: str,
    body: str,
    requester: str | None = None,
    customer: Mapping[str, object] | None = None,
    language: str | None = None,
    product: str | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"external_id": external_id, "subject": subject.strip(), "body": body.strip()}
    optional: dict[str, Any] = {
        "requester": blank_to_none(requester),
        "language": blank_to_none(language),
        "product": blank_to_none(product),
    }
    cust = {k: v for k, v in (customer or {}).items() if v not in (None, "")}
    if cust:
        optional["customer"] = cust
    fields.update({k: v for k, v in optional.items() if v is not None})
    return fields


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
