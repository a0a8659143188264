"""Signature verification (Standard Webhooks) and API-key checks; both constant-time."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping


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
        timestamp = int(ts)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp must be integer seconds since the epoch") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError(f"webhook-timestamp is outside the ±{tolerance_s}s window (stale or from the future)")
    expected = sign_standard(secret, msg_id, timestamp, body).split(",", 1)[1]
    for candidate in sigs.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return msg_id
    raise SignatureError("no webhook-signature matches the body (check the secret)")


def check_bearer(header: str | None, api_key: str) -> bool:
    if not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), api_key.encode())
