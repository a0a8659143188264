"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request

from agent.settings import Settings
from agent.tickets import TicketStore
from agent.worker import Worker
from api.auth import check_bearer
from tools.ticketing import Ledger, TicketingSystem


@dataclass
class Services:
    settings: Settings
    store: TicketStore
    worker: Worker | None
    ticketing: Mapping[str, TicketingSystem] = field(default_factory=dict)  # write-back, by source name
    ledger: Ledger | None = None


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


Role = Literal["webhook", "agent", "admin"]
ROLE_RANK: dict[str, int] = {"webhook": 0, "agent": 1, "admin": 2}
"""admin implies agent; webhook implies nothing else (intake only)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the name and role of the API key presented (key_id None for the bootstrap key)."""

    name: str
    role: Role
    key_id: str | None = None

    def allows(self, needed: Role) -> bool:
        if self.role == "webhook" or needed == "webhook":
            return self.role == needed or self.role == "admin"
        return ROLE_RANK[self.role] >= ROLE_RANK[needed]

    def audit(self) -> dict[str, str | None]:
        """The `by` record for audit events."""
        return {"name": self.name, "role": self.role, "key_id": self.key_id}


BOOTSTRAP = Principal(name="bootstrap", role="admin", key_id=None)


def authenticate(request: Request, services: ServicesDep) -> Principal:
    key = services.settings.api_key
    if key is None:
        raise HTTPException(503, detail="TRIAGE_API_KEY is not configured on the server; run `triage init`")
    if not check_bearer(request.headers.get("authorization"), key.get_secret_value()):
        raise HTTPException(
            401,
            detail="missing or wrong API key: send 'Authorization: Bearer <key>' "
            "(an admin creates keys with `triage keys create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return BOOTSTRAP


def require_role(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that authenticates the caller and refuses (403) a key whose role does not cover `role`."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.allows(role):
            raise HTTPException(
                403,
                detail=f"this endpoint needs the {role!r} role; key {principal.name!r} has {principal.role!r}",
            )
        return principal

    check.__name__ = f"require_{role}"
    return check


WebhookDep = Annotated[Principal, Depends(require_role("webhook"))]
AgentDep = Annotated[Principal, Depends(require_role("agent"))]
AdminDep = Annotated[Principal, Depends(require_role("admin"))]


def require_api_key(request: Request, services: ServicesDep) -> None:
    key = services.settings.api_key
    if key is None:
        raise HTTPException(503, detail="TRIAGE_API_KEY is not configured on the server; run `triage init`")
    if not check_bearer(request.headers.get("authorization"), key.get_secret_value()):
        raise HTTPException(
            401,
            detail="missing or wrong API key: send 'Authorization: Bearer <TRIAGE_API_KEY>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


ApiKey = Annotated[None, Depends(require_api_key)]
