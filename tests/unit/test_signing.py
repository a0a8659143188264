import time

import pytest

from tools.signing import SignatureError, check_bearer, sign_standard, verify_standard

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def headers(msg_id: str, ts: int, sig: str) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def test_standard_webhooks_reference_vector() -> None:
    # The example from the Standard Webhooks specification.
    body = b'{"test": 2432232314}'
    sig = sign_standard(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_any_matching_signature_and_returns_id() -> None:
    body = b'{"a":1}'
    now = int(time.time())
    good = sign_standard(SECRET, "msg_1", now, body)
    assert verify_standard(SECRET, headers("msg_1", now, f"v1,bogus {good}"), body) == "msg_1"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), "no webhook-signature matches"),
        (lambda h, b: (h, b + b" "), "no webhook-signature matches"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing header"),
        (lambda h, b: ({**h, "webhook-timestamp": "yesterday"}, b), "integer seconds"),
    ],
)
def test_verify_rejects(mutate, message) -> None:  # type: ignore[no-untyped-def]
    body = b'{"a":1}'
    now = int(time.time())
    h, b = mutate(headers("msg_1", now, sign_standard(SECRET, "msg_1", now, body)), body)
    with pytest.raises(SignatureError, match=message):
        verify_standard(SECRET, h, b)


def test_stale_and_future_timestamps_are_rejected() -> None:
    body = b"{}"
    for ts in (int(time.time()) - 301, int(time.time()) + 301):
        with pytest.raises(SignatureError, match="window"):
            verify_standard(SECRET, headers("m", ts, sign_standard(SECRET, "m", ts, body)), body)


def test_bearer() -> None:
    assert check_bearer("Bearer k1", "k1")
    assert not check_bearer("Bearer k2", "k1")
    assert not check_bearer(None, "k1")
    assert not check_bearer("k1", "k1")


def test_settings_reject_a_malformed_webhook_secret() -> None:
    from pydantic import ValidationError

    from agent.settings import Settings

    with pytest.raises(ValidationError, match="whsec_"):
        Settings(_env_file=None, webhook_secret="plain-text-secret")  # type: ignore[call-arg]
    assert Settings(_env_file=None, webhook_secret=SECRET).webhook_secret is not None  # type: ignore[call-arg]
