"""API keys: format, hashed storage, lookup by id, constant-time comparison, revocation, roles."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import agent.storage.keys as keystore
from agent.storage.keys import KEY_RE, ROLES, KeyRefused, KeyStore, KeyStoreError, hash_key, new_key, role_allows
from api.deps import BOOTSTRAP, Principal


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(create_engine(f"sqlite:///{tmp_path / 'keys.db'}"))


def test_keys_are_random_high_entropy_and_carry_a_public_id() -> None:
    seen = {new_key() for _ in range(50)}
    assert len({k for _, k in seen}) == 50
    for key_id, key in seen:
        m = KEY_RE.match(key)
        assert m and m.group(1) == key_id and key.startswith(f"trk_{key_id}_")
        assert len(m.group(2)) == 43  # 32 random bytes, urlsafe base64 without padding


def test_only_the_sha256_is_stored(keys: KeyStore) -> None:
    created = keys.create("anna", "agent", "cli:test")
    with keys.engine.connect() as conn:
        rows = conn.execute(text("select * from api_keys")).mappings().all()
    assert len(rows) == 1
    row = dict(rows[0])
    assert row["key_hash"] == hashlib.sha256(created.key.encode()).hexdigest() == hash_key(created.key)
    secret = created.key.rsplit("_", 1)[1]
    assert not any(secret in str(v) for v in row.values())
    assert row["id"] == created.info.id and row["created_by"] == "cli:test" and row["role"] == "agent"


def test_lookup_finds_the_key_and_its_role(keys: KeyStore) -> None:
    a = keys.create("anna", "agent", "t")
    w = keys.create("zendesk", "webhook", "t")
    assert keys.authenticate(a.key).name == "anna"
    got = keys.authenticate(w.key)
    assert (got.id, got.role) == (w.info.id, "webhook")


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), "unknown"),  # right id, wrong secret
        (lambda k: "trk_" + "f" * 12 + k[16:], "unknown"),  # unknown id
        (lambda k: k + "x", "malformed"),
        (lambda _k: "not-a-key", "malformed"),
        (lambda _k: "", "malformed"),
    ],
)
def test_wrong_keys_are_refused_with_a_reason(keys: KeyStore, mangle, reason: str) -> None:  # type: ignore[no-untyped-def]
    created = keys.create("anna", "agent", "t")
    with pytest.raises(KeyRefused) as err:
        keys.authenticate(mangle(created.key))
    assert err.value.reason == reason


def test_every_lookup_takes_the_constant_time_compare(keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hit, wrong secret, unknown id and malformed key all hash and compare_digest exactly once."""
    created = keys.create("anna", "agent", "t")
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keystore.hmac, "compare_digest", spy)
    for presented in (created.key, created.key[:-2] + "zz", "trk_" + "0" * 12 + created.key[16:], "junk"):
        calls.clear()
        with contextlib.suppress(KeyRefused):
            keys.authenticate(presented)
        assert len(calls) == 1, presented
        assert len(calls[0][0]) == len(calls[0][1]) == 64  # hex digests: equal length, no early exit


def test_revoked_keys_are_refused_and_revoking_is_idempotent(keys: KeyStore) -> None:
    created = keys.create("anna", "agent", "t")
    keys.authenticate(created.key)
    first = keys.revoke(created.info.id, "admin-1")
    assert first.revoked_at is not None and first.revoked_by == "admin-1"
    with pytest.raises(KeyRefused, match="revoked") as err:
        keys.authenticate(created.key)
    assert err.value.reason == "revoked"
    again = keys.revoke(created.info.id, "admin-2")
    assert again.revoked_at == first.revoked_at and again.revoked_by == "admin-1"
    # a wrong secret for a revoked id does not learn that it was revoked
    with pytest.raises(KeyRefused) as err2:
        keys.authenticate(created.key[:-2] + "zz")
    assert err2.value.reason == "unknown"
    assert [k.id for k in keys.list(include_revoked=False)] == []
    assert [k.id for k in keys.list()] == [created.info.id]


def test_revoking_an_unknown_id_says_how_to_find_ids(keys: KeyStore) -> None:
    with pytest.raises(KeyStoreError, match="triage keys list"):
        keys.revoke("nope", "t")


@pytest.mark.parametrize(("name", "role", "message"), [("", "agent", "needs a name"), ("x", "root", "unknown role")])
def test_create_refuses_bad_input(keys: KeyStore, name: str, role: str, message: str) -> None:
    with pytest.raises(KeyStoreError, match=message):
        keys.create(name, role, "t")


def test_last_used_is_recorded_but_not_on_every_request(keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    created = keys.create("anna", "agent", "t")
    assert keys.get(created.info.id).last_used_at is None  # type: ignore[union-attr]
    keys.authenticate(created.key)
    first = keys.get(created.info.id).last_used_at  # type: ignore[union-attr]
    assert first is not None
    keys.authenticate(created.key)
    assert keys.get(created.info.id).last_used_at == first  # type: ignore[union-attr]  (within a minute: no write)
    monkeypatch.setattr(keystore, "LAST_USED_EVERY", timedelta(0))
    keys.authenticate(created.key)
    assert keys.get(created.info.id).last_used_at > first  # type: ignore[operator,union-attr]


def test_role_implication() -> None:
    table = {(held, needed): role_allows(held, needed) for held in ROLES for needed in ROLES}
    assert table == {
        ("webhook", "webhook"): True,
        ("webhook", "agent"): False,
        ("webhook", "admin"): False,
        ("agent", "webhook"): False,
        ("agent", "agent"): True,
        ("agent", "admin"): False,
        ("admin", "webhook"): True,
        ("admin", "agent"): True,
        ("admin", "admin"): True,
    }
    assert Principal("anna", "agent", "abc").allows("agent") and not Principal("anna", "agent").allows("admin")
    assert BOOTSTRAP.role == "admin" and BOOTSTRAP.key_id is None
    assert Principal("anna", "agent", "abc").audit() == {"name": "anna", "role": "agent", "key_id": "abc"}
