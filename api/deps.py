"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

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
