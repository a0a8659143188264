"""Signature and token checks for every webhook sender, and API-key checks; all constant-time.

Standard Webhooks (generic), Zendesk (base64 HMAC of timestamp + body, with a freshness window),
Jira (`X-Hub-Signature: sha256=<hex>`), and shared tokens (Freshdesk, YouTrack), which have no
signature scheme. Each raises SignatureError saying what is wrong and how to fix it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime


class SignatureError(ValueError):
    """The delivery's signature headers are missing, malformed, stale or do not match."""


def decode_secret(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("TRIAGE_WEBHOOK_SECRET must be 'whsec_' followed by base64") from exc


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value a Standard Webhooks sender would send."""
    key = decode_secret(secret)
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify_standard(
    secret: str, headers: Mapping[str, str], body: bytes, tolerance_s: int = 300, now: float | None = None
) -> str:
    """Check webhook-id/-timestamp/-signature; return the webhook id (the dedupe key)."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    missing = [n for n, v in (("webhook-id", msg_id), ("webhook-timestamp", ts), ("webhook-signature", sigs)) if not v]
    if missing:
        raise SignatureError(f"missing header(s): {', '.join(missing)}")
    assert msg_id and ts and sigs
    try:
        timestamp = int(ts) if len(ts.strip()) <= 20 else None  # more digits than any epoch second
    except ValueError:
        timestamp = None
    if timestamp is None:
        raise SignatureError("webhook-timestamp must be integer seconds since the epoch")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError(f"webhook-timestamp is outside the ±{tolerance_s}s window (stale or from the future)")
    expected = sign_standard(secret, msg_id, timestamp, body).split(",", 1)[1]
    for candidate in sigs.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return msg_id
    raise SignatureError("no webhook-signature matches the body (check the secret)")


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _parse_timestamp(value: str) -> float:
    """Epoch seconds from an ISO 8601 time (Zendesk sends `2024-04-17T17:18:10Z`) or integer seconds."""
    text = value.strip()
    unreadable = SignatureError(
        f"X-Zendesk-Webhook-Signature-Timestamp {value[:64]!r} is neither ISO 8601 nor epoch seconds"
    )
    if text.lstrip("-").isdigit():
        if len(text) > 20:  # more digits than any epoch second; float() would make it inf
            raise unreadable
        try:
            return float(text)
        except ValueError as exc:  # isdigit() says yes to '²' and other non-ASCII digits float() refuses
            raise unreadable from exc
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise unreadable from exc
    if parsed.tzinfo is None:
        raise SignatureError("X-Zendesk-Webhook-Signature-Timestamp has no time zone")
    return parsed.timestamp()


def sign_zendesk(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Zendesk-Webhook-Signature` value: base64(HMAC-SHA256(secret, timestamp + body))."""
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify_zendesk(
    secret: str, headers: Mapping[str, str], body: bytes, tolerance_s: int = 300, now: float | None = None
) -> None:
    """Check X-Zendesk-Webhook-Signature against the body and a fresh signature timestamp."""
    h = _lower(headers)
    sig = h.get("x-zendesk-webhook-signature")
    ts = h.get("x-zendesk-webhook-signature-timestamp")
    names = (("X-Zendesk-Webhook-Signature", sig), ("X-Zendesk-Webhook-Signature-Timestamp", ts))
    missing = [n for n, v in names if not v]
    if missing:
        raise SignatureError(f"missing header(s): {', '.join(missing)} (is this a Zendesk webhook?)")
    assert sig and ts
    current = time.time() if now is None else now
    if abs(current - _parse_timestamp(ts)) > tolerance_s:
        raise SignatureError(
            f"X-Zendesk-Webhook-Signature-Timestamp is outside the ±{tolerance_s}s window (stale or from the future; "
            "check the clocks, or raise TRIAGE_ZENDESK_TOLERANCE_S)"
        )
    expected = sign_zendesk(secret, ts, body)
    if not hmac.compare_digest(sig.strip().encode(), expected.encode()):
        raise SignatureError(
            "X-Zendesk-Webhook-Signature does not match the body (check TRIAGE_ZENDESK_WEBHOOK_SECRET "
            "against the webhook's signing secret)"
        )


def sign_hub(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` value Jira sends: `sha256=` + hex HMAC-SHA256(secret, raw body)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_hub(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Check Jira's `X-Hub-Signature: sha256=<hex>` (WebSub style) over the raw body."""
    sig = _lower(headers).get("x-hub-signature")
    if not sig:
        raise SignatureError(
            "missing header X-Hub-Signature: set the Secret in the Jira webhook to TRIAGE_JIRA_WEBHOOK_SECRET"
        )
    method, _, value = sig.strip().partition("=")
    if method.lower() != "sha256" or not value:
        raise SignatureError("X-Hub-Signature must be 'sha256=<hex digest>'")
    expected = sign_hub(secret, body).split("=", 1)[1]
    if not hmac.compare_digest(value.lower().encode(), expected.encode()):
        raise SignatureError("X-Hub-Signature does not match the body (check TRIAGE_JIRA_WEBHOOK_SECRET)")


def check_token(
    headers: Mapping[str, str], header_name: str, token: str, allow_basic: bool = False, env_name: str = "the token"
) -> None:
    """A shared token in `header_name` (or, with allow_basic, HTTP basic auth whose password, or whose
    user name with any password, is the token: Freshdesk's API-key style sends `token:X`)."""
    h = _lower(headers)
    presented = h.get(header_name.lower())
    if presented is not None:
        if hmac.compare_digest(presented.strip().encode(), token.encode()):
            return
        raise SignatureError(f"{header_name} does not match {env_name}")
    auth = h.get("authorization", "")
    if allow_basic and auth.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("Authorization: Basic credentials are not valid base64 'user:password'") from exc
        by_password = hmac.compare_digest(password.encode(), token.encode())
        by_user = hmac.compare_digest(user.encode(), token.encode())
        if by_password or by_user:
            return
        raise SignatureError(f"basic-auth credentials do not match {env_name}")
    alternative = " or HTTP basic auth" if allow_basic else ""
    raise SignatureError(f"missing header {header_name}{alternative} carrying {env_name}")


def check_bearer(header: str | None, api_key: str) -> bool:
    if not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), api_key.encode())
