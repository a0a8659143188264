"""Ticketing-system webhooks: one module per sender, each turning a verified payload into ticket fields.

`parse(data, headers)` is pure (no I/O, no HTTP errors) and returns either an `Intake` (the fields
GenericTicketIn has, plus the delivery id to dedupe on) or a `Skip` (a well-formed event that does not
create a ticket, e.g. an update). A payload that does not fit raises pydantic.ValidationError or
PayloadError, both naming the offending field; api/webhooks.py answers them with 422. Only fields the
service reads are validated (api/schemas.py); a created time that cannot be read, or is absurd, is
dropped (`parse_time`) and the ticket accepted without it.
Signatures and tokens are checked before parsing, in api/auth.py.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from api.schemas import MAX_YEAR, MIN_YEAR


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
    created_at: datetime | None = None,
    source_ids: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"external_id": external_id, "subject": subject.strip(), "body": body.strip()}
    optional: dict[str, Any] = {
        "requester": blank_to_none(requester),
        "language": blank_to_none(language),
        "product": blank_to_none(product),
        "created_at": created_at,
    }
    cust = {k: v for k, v in (customer or {}).items() if v not in (None, "")}
    if cust:
        optional["customer"] = cust
    ids = {k: v for k, v in (source_ids or {}).items() if v}
    if ids:
        optional["source_ids"] = ids
    fields.update({k: v for k, v in optional.items() if v is not None})
    return fields


# ---- created times -----------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOOSE_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:([T ])(\d{1,2}):(\d{2})(.*))?$")
_TZ_SUFFIX = re.compile(r"\s*(?:(?:UTC|GMT)?\s*([+-]\d{2}):?(\d{2})|UTC|GMT|Z)$", re.IGNORECASE)
# placeholder renderings: Freshdesk "Wed, 8 Jan, 2025 at 10:12 AM", Zendesk "January 8, 2025 10:12";
# day/month orders with slashes are ambiguous (US or European) and not guessed
_FORMATS = (
    *(
        f"{date} {time}".strip()
        for date in ("%a %d %b %Y", "%d %b %Y", "%a %d %B %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%a %b %d %Y")
        for time in ("%I:%M %p", "%I:%M:%S %p", "%H:%M", "%H:%M:%S", "")
    ),
    *("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y"),  # day-first with dots is unambiguous
)


def parse_time(value: object) -> datetime | None:
    """A ticket's created time as the sender wrote it, read leniently, or None.

    Accepts epoch numbers (seconds, or milliseconds when above 1e11, as YouTrack sends), ISO 8601 as
    Zendesk and Jira write it ("2025-01-08T10:12:07Z", "2025-01-08T10:12:07.000+0000",
    "2018-1-11 13:08:04"), RFC 2822, and the placeholder renderings of Freshdesk ("Wed, 8 Jan, 2025
    at 10:12 AM") and Zendesk ("January 8, 2025 10:12"). A time without a zone is taken as UTC.
    Anything else, and any time outside the years MIN_YEAR..MAX_YEAR, is None: never an exception."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if re.fullmatch(r"-?\d{1,20}(?:\.\d+)?", text):
        return _from_epoch(float(text))
    for parse in (_iso, _rfc2822, _formatted):
        try:
            when = parse(text)
        except (ValueError, OverflowError, TypeError, IndexError):
            when = None
        if when is not None:
            return _plausible(when)
    return None


def _from_epoch(number: float) -> datetime | None:
    if not math.isfinite(number):
        return None
    seconds = number / 1000 if abs(number) >= 1e11 else number
    if not -1e11 < seconds < 1e11:  # far outside MIN_YEAR..MAX_YEAR: no arithmetic on it
        return None
    return _plausible(_EPOCH + timedelta(seconds=seconds))


def _plausible(when: datetime) -> datetime | None:
    if not MIN_YEAR <= when.year <= MAX_YEAR:  # checked first: converting year 1 or 9999 can overflow
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _iso(text: str) -> datetime | None:
    m = _LOOSE_ISO.match(text)
    if m is None:
        return None
    year, month, day, sep, hour, minute, rest = m.groups()
    padded = f"{year}-{int(month):02d}-{int(day):02d}"
    if sep:
        padded += f"T{int(hour):02d}:{minute}{rest}"
    return datetime.fromisoformat(padded)


def _rfc2822(text: str) -> datetime | None:
    if "," not in text[:5] and not re.match(r"\d{1,2} [A-Za-z]{3} \d{4} \d", text):
        return None
    return email.utils.parsedate_to_datetime(text)


def _formatted(text: str) -> datetime | None:
    text = " ".join(text.replace(",", " ").replace(" at ", " ").split())
    offset = timedelta(0)
    if m := _TZ_SUFFIX.search(text):
        if m.group(1):
            sign = -1 if m.group(1).startswith("-") else 1
            offset = sign * timedelta(hours=int(m.group(1)[1:]), minutes=int(m.group(2)))
        text = text[: m.start()].strip()
    for fmt in _FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (naive - offset).replace(tzinfo=UTC)
    return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
