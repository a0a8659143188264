"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agent.runtime.worker import Worker
from agent.settings import Settings
from agent.storage.keys import PREFIX, KeyRefused, KeyStore, Role, role_allows
from agent.storage.tickets import TicketStore
from tools.signing import check_bearer
from tools.ticketing import Ledger, TicketingSystem


@dataclass
class Services:
    settings: Settings
    store: TicketStore
    worker: Worker | None
    ticketing: Mapping[str, TicketingSystem] = field(default_factory=dict)  # write-back, by source name
    ledger: Ledger | None = None
    keys: KeyStore | None = None  # API keys; built on the ticket store's database when not given

    def __post_init__(self) -> None:
        if self.keys is None:
            self.keys = KeyStore(self.store.engine, self.store.writing)


async def get_services(request: Request) -> Services:
    """Async on purpose: FastAPI runs a sync dependency in its thread pool (a thread hop per request)."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the name and role of the API key presented (key_id None for the bootstrap key)."""

    name: str
    role: Role
    key_id: str | None = None

    def allows(self, needed: Role) -> bool:
        """admin implies agent and webhook; agent and webhook imply nothing else."""
        return role_allows(self.role, needed)

    def audit(self) -> dict[str, Any]:
        """The `by` record of audit events."""
        return {"name": self.name, "role": self.role, "key_id": self.key_id}


BOOTSTRAP = Principal(name="bootstrap", role="admin", key_id=None)
"""The single TRIAGE_API_KEY from the environment: an admin, for setting up and for old clients."""

HOW_TO = (
    "send 'Authorization: Bearer <key>'; an admin creates keys with "
    "`triage keys create --name NAME --role webhook|agent|admin` (or uses TRIAGE_API_KEY, the bootstrap admin key)"
)


def _unauthorized(problem: str) -> HTTPException:
    return HTTPException(401, detail=f"{problem}: {HOW_TO}", headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="an API key: `triage keys create`, or TRIAGE_API_KEY")


async def authenticate(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from its bearer key: a stored key (`trk_...`) or the bootstrap TRIAGE_API_KEY. 401 otherwise.

    Async, so FastAPI does not hop to its thread pool for it: a key read within the last seconds is
    answered from memory (`KeyStore.cached`), any other goes to the database in the thread pool."""
    presented = credentials.credentials.strip() if credentials is not None else ""
    if not presented:
        raise _unauthorized("missing API key")
    bootstrap = services.settings.api_key
    if bootstrap is not None and check_bearer(f"Bearer {presented}", bootstrap.get_secret_value()):
        principal = BOOTSTRAP
    elif presented.startswith(PREFIX) and services.keys is not None:
        info = services.keys.cached(presented)
        if info is None:
            try:
                info = await run_in_threadpool(services.keys.authenticate, presented)
            except KeyRefused as exc:
                raise _unauthorized(str(exc)) from exc
        principal = Principal(name=info.name, role=info.role, key_id=info.id)
    else:
        raise _unauthorized("unknown API key")
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


async def maybe_authenticate(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller when it presents a valid key, else None (never 401): for open endpoints that show
    more to a known caller, such as /healthz."""
    try:
        return await authenticate(request, services, credentials)
    except HTTPException:
        return None


MaybePrincipalDep = Annotated[Principal | None, Depends(maybe_authenticate)]


def require_role(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that authenticates the caller (401) and refuses (403) a key whose role does not
    cover `role`. Every non-health route carries one (tests/integration/test_roles.py checks)."""

    async def check(principal: PrincipalDep) -> Principal:  # async: no thread-pool hop (it only compares)
        if not principal.allows(role):
            who = f"key {principal.name!r}" + (f" (id {principal.key_id})" if principal.key_id else "")
            raise HTTPException(
                403,
                detail=f"this endpoint needs the {role!r} role; {who} has {principal.role!r}. "
                f"Use a key with the {role!r} role{' or admin' if role != 'admin' else ''}.",
            )
        return principal

    check.__name__ = f"require_{role}"
    check.required_role = role  # type: ignore[attr-defined]  (read by the route-coverage test)
    return check


WebhookDep = Annotated[Principal, Depends(require_role("webhook"))]
AgentDep = Annotated[Principal, Depends(require_role("agent"))]
AdminDep = Annotated[Principal, Depends(require_role("admin"))]

ApiKey = AdminDep
"""Deprecated alias from the single-key days: admin. Use AgentDep / AdminDep / WebhookDep."""
