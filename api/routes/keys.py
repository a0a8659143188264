"""Key management over HTTP (admin only): create (the key is in the answer, once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from agent.storage.keys import KeyInfo, KeyStore, KeyStoreError, Role
from api.deps import AdminDep, Principal, ServicesDep

router = APIRouter(prefix="/admin/keys", tags=["admin"])


class KeyIn(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f]+$",  # printable: a NUL is refused by PostgreSQL, control characters mislead logs
        description="who or what uses the key (a person, a system)",
    )
    role: Role


class KeyOut(BaseModel):
    id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, info: KeyInfo) -> KeyOut:
        return cls.model_validate(info, from_attributes=True)


class CreatedKeyOut(KeyOut):
    key: str = Field(description="the API key; shown only in this answer, store it now")


def actor(who: Principal) -> str:
    """How `created_by` / `revoked_by` name a caller."""
    return f"{who.name} (key {who.key_id})" if who.key_id else who.name


def _keys(services: ServicesDep) -> KeyStore:
    if services.keys is None:  # pragma: no cover (Services always builds one)
        raise HTTPException(503, detail="the key store is not set up on this server")
    return services.keys


@router.post("", status_code=201, response_model=CreatedKeyOut)
async def create_key(body: KeyIn, services: ServicesDep, who: AdminDep) -> CreatedKeyOut:
    """A new key with a role (webhook: intake only; agent: reviews, tickets, SLA; admin: everything)."""
    try:
        created = await run_in_threadpool(_keys(services).create, body.name, body.role, actor(who))
    except KeyStoreError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    return CreatedKeyOut(**KeyOut.of(created.info).model_dump(), key=created.key)


@router.get("", response_model=list[KeyOut])
async def list_keys(
    services: ServicesDep,
    _who: AdminDep,
    include_revoked: Annotated[bool, Query(description="list revoked keys too")] = True,
) -> list[KeyOut]:
    """Every key, oldest first, without secrets."""
    return [KeyOut.of(k) for k in await run_in_threadpool(_keys(services).list, include_revoked)]


@router.delete("/{key_id}", response_model=KeyOut, responses={404: {"description": "no key with this id"}})
async def revoke_key(key_id: str, services: ServicesDep, who: AdminDep) -> KeyOut:
    """Revoke a key: it is refused (401) from the next request on. Revoking twice changes nothing."""
    try:
        return KeyOut.of(await run_in_threadpool(_keys(services).revoke, key_id, actor(who)))
    except KeyStoreError as exc:
        raise HTTPException(404, detail=str(exc)) from exc
