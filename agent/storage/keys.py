"""API keys with roles, stored hashed, in the ticket store's database (table `api_keys`).

A key reads `trk_<id>_<secret>`: `id` is 12 hex characters, not secret (it names the key in lists,
logs and audit records, and finds its row); `secret` is 32 random bytes, urlsafe base64. The full
key is shown once, when it is created; the table keeps only its SHA-256.

Why a plain SHA-256 and not bcrypt/argon2: those slow hashes protect low-entropy, human-chosen
passwords against guessing. A key here carries 256 random bits, so a stolen hash cannot be inverted
by guessing at any speed, and a fast hash keeps the check (done on every request) cheap.

Roles: `webhook` (intake only), `agent` (reviews, tickets, SLA, on-duty), `admin` (everything).
admin implies agent and webhook; agent does not imply webhook, webhook implies nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import DateTime, String, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from agent.storage.db import Base, ensure_migrated

Role = Literal["webhook", "agent", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
PREFIX = "trk_"
KEY_RE = re.compile(r"^trk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LAST_USED_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often per key
# how long this process answers a live key from memory (`KeyStore.cached`) before reading its row again:
# a key revoked through this KeyStore is refused at once, one revoked by another process (`triage keys
# revoke`, another API process) within this many seconds
KEY_CACHE_SECONDS = 5.0

_IMPLIES: dict[Role, frozenset[Role]] = {
    "webhook": frozenset({"webhook"}),
    "agent": frozenset({"agent"}),
    "admin": frozenset(ROLES),
}


def role_allows(held: Role, needed: Role) -> bool:
    """Whether a key with role `held` may call an endpoint that needs `needed` (admin implies all)."""
    return needed in _IMPLIES[held]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# compared against when the id is unknown, so a miss costs the same hash + compare as a hit
_DUMMY_HASH = hash_key(PREFIX + "0" * 12 + "_" + "0" * 43)


def new_key() -> tuple[str, str]:
    """A fresh (key id, full key)."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def _now() -> datetime:
    return datetime.now(UTC)


class KeyStoreError(ValueError):
    """A key could not be created or revoked as asked (you misused it); the message says how to fix it."""


class KeyRefused(LookupError):
    """A presented key is not a live key: `reason` is malformed, unknown (or wrong secret) or revoked."""

    def __init__(self, message: str, reason: Literal["malformed", "unknown", "revoked"]) -> None:
        super().__init__(message)
        self.reason = reason


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed: everything but the secret."""

    id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> KeyInfo:
        return cls(
            id=row.id,
            name=row.name,
            role=row.role,  # type: ignore[arg-type]
            created_at=_aware(row.created_at) or row.created_at,
            created_by=row.created_by,
            last_used_at=_aware(row.last_used_at),
            revoked_at=_aware(row.revoked_at),
            revoked_by=row.revoked_by,
        )


@dataclass(frozen=True)
class CreatedKey:
    info: KeyInfo
    key: str  # the only time the full key exists outside the caller's hands


class KeyStore:
    """The `api_keys` table on an engine (the ticket store's). `writing` serialises writes the way the
    ticket store does on SQLite (pass `TicketStore.writing`); by default a plain transaction."""

    def __init__(self, engine: Engine, writing: Callable[[], AbstractContextManager[Session]] | None = None) -> None:
        self.engine = engine
        ensure_migrated(engine)  # the table comes from the migrations (a no-op on the ticket store's engine)
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._writing = writing or self._session.begin
        self._recent: dict[str, datetime] = {}  # key id -> last time we wrote last_used_at
        self._recent_lock = threading.Lock()
        # key id -> (its stored hash, its info, until when: time.monotonic()); live keys only
        self._live: dict[str, tuple[str, KeyInfo, float]] = {}
        self._revocations = 0  # a read that began before a revocation here is not cached

    def _read(self) -> AbstractContextManager[Session]:
        return self._session.begin()

    # ---- management -------------------------------------------------------------------------------
    def create(self, name: str, role: str, created_by: str) -> CreatedKey:
        name = name.strip()
        if not name:
            raise KeyStoreError("a key needs a name (who or what uses it, e.g. --name anna or --name zendesk)")
        if len(name) > 100:
            raise KeyStoreError("a key name is at most 100 characters")
        if role not in ROLES:
            raise KeyStoreError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        key_id, key = new_key()
        row = ApiKeyRow(
            id=key_id,
            name=name,
            role=role,
            key_hash=hash_key(key),
            created_at=_now(),
            created_by=created_by[:120],
        )
        with self._writing() as s:
            s.add(row)
        return CreatedKey(KeyInfo.of(row), key)

    def list(self, include_revoked: bool = True) -> list[KeyInfo]:
        with self._read() as s:
            query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
            if not include_revoked:
                query = query.where(ApiKeyRow.revoked_at.is_(None))
            return [KeyInfo.of(r) for r in s.scalars(query)]

    def get(self, key_id: str) -> KeyInfo | None:
        with self._read() as s:
            row = s.get(ApiKeyRow, key_id)
            return KeyInfo.of(row) if row is not None else None

    def revoke(self, key_id: str, revoked_by: str) -> KeyInfo:
        """Revoke a key (idempotent: revoking a revoked key changes nothing). Unknown id: KeyError_."""
        with self._writing() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise KeyStoreError(f"no API key with id {key_id!r}; `triage keys list` shows the ids")
            if row.revoked_at is None:
                row.revoked_at = _now()
                row.revoked_by = revoked_by[:120]
            info = KeyInfo.of(row)
        self._revocations += 1
        self._live.pop(key_id, None)  # refused from now on in this process (after the commit)
        return info

    # ---- checking ---------------------------------------------------------------------------------
    def authenticate(self, presented: str) -> KeyInfo:
        """The live key `presented` is; else KeyRefused (malformed, unknown or wrong secret, revoked).

        Found by its id; the hash is compared in constant time, and an unknown id is compared against
        a dummy hash, so timing tells nothing about the secret. Only a caller holding the real secret
        learns that its key was revoked."""
        m = KEY_RE.match(presented)
        key_id = m.group(1) if m else ""
        revocations = self._revocations
        with self._read() as s:
            row = s.get(ApiKeyRow, key_id) if key_id else None
            stored = row.key_hash if row is not None else _DUMMY_HASH
            matches = hmac.compare_digest(hash_key(presented).encode(), stored.encode())
            info = KeyInfo.of(row) if row is not None and matches else None
        if info is not None and info.revoked_at is None and revocations == self._revocations:
            self._live[key_id] = (stored, info, time.monotonic() + KEY_CACHE_SECONDS)
        if m is None:
            raise KeyRefused("not an API key of this service (they look like trk_<id>_<secret>)", "malformed")
        if info is None:
            raise KeyRefused(f"unknown API key (id {key_id}) or wrong secret", "unknown")
        if info.revoked_at is not None:
            raise KeyRefused(
                f"API key {key_id} ({info.name}) was revoked at {info.revoked_at:%Y-%m-%d %H:%M} UTC; ask an admin "
                "for a new one (`triage keys create`)",
                "revoked",
            )
        self._touch(info)
        return info

    def cached(self, presented: str) -> KeyInfo | None:
        """`authenticate` answered from memory, without the database: the key's info when `presented`
        is a live key this process read within KEY_CACHE_SECONDS (hash compared in constant time, as
        there) and its last_used_at needs no write now; else None (call `authenticate`, which decides
        and refreshes this). Never raises: a refusal is always `authenticate`'s, from the database."""
        m = KEY_RE.match(presented)
        entry = self._live.get(m.group(1)) if m else None
        if entry is None:
            return None
        stored, info, until = entry
        if time.monotonic() >= until or not hmac.compare_digest(hash_key(presented).encode(), stored.encode()):
            return None
        last = self._recent.get(info.id) or info.last_used_at
        if last is None or _now() - last >= LAST_USED_EVERY:
            return None  # due a last_used_at write: `authenticate` does it
        return info

    def _touch(self, info: KeyInfo) -> None:
        """Record use, at most once a minute per key (and not at all when the row says it is recent)."""
        now = _now()
        with self._recent_lock:
            last = self._recent.get(info.id) or info.last_used_at
            if last is not None and now - last < LAST_USED_EVERY:
                return
            self._recent[info.id] = now
        with self._writing() as s:
            s.execute(update(ApiKeyRow).where(ApiKeyRow.id == info.id).values(last_used_at=now))
