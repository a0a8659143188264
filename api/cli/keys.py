"""`triage keys create | list | revoke`: API keys with roles, stored hashed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail

if TYPE_CHECKING:
    from agent.storage.keys import KeyStore

app = typer.Typer(help="API keys with roles (webhook, agent, admin), stored hashed.", no_args_is_help=True)


def _key_store() -> KeyStore:
    """The key store on the service's database, sharing the ticket store's write lock (as the API's)."""
    from agent.storage import open_database
    from agent.storage.keys import KeyStore

    store = open_database(get_settings().db_url)
    return KeyStore(store.engine, store.writing)


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="who or what uses the key: a person, or a sending system")],
    role: Annotated[str, typer.Option(help="webhook (intake only), agent (reviews, tickets, SLA), admin (all)")],
) -> None:
    """Create a key and print it once (only its hash is stored: copy it now)."""
    from agent.storage.keys import KeyStoreError

    try:
        created = _key_store().create(name, role, _cli_actor())
    except KeyStoreError as exc:
        fail(str(exc))
    typer.echo(created.key)
    typer.secho(
        f"created key {created.info.id} for {created.info.name!r} with role {created.info.role}; "
        "it is shown only now. Send it as 'Authorization: Bearer <key>'.",
        err=True,
    )


@app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="include revoked keys")] = False,
) -> None:
    """Keys (id, name, role, created, last used, revoked); never the secrets."""
    keys = _key_store().list(include_revoked=all_keys)
    if not keys:
        typer.echo("no API keys (create one: triage keys create --name NAME --role agent)")
        return

    def when(dt: datetime | None) -> str:
        return dt.strftime("%Y-%m-%d %H:%M") if dt is not None else "-"

    typer.echo(f"{'ID':<12}  {'ROLE':<7}  {'NAME':<24}  {'CREATED':<16}  {'LAST USED':<16}  {'REVOKED':<16}  BY")
    for k in keys:
        typer.echo(
            f"{k.id:<12}  {k.role:<7}  {k.name[:24]:<24}  {when(k.created_at):<16}  {when(k.last_used_at):<16}  "
            f"{when(k.revoked_at):<16}  {k.created_by}"
        )


@app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (triage keys list)")]) -> None:
    """Revoke a key: refused from its next request on."""
    from agent.storage.keys import KeyStoreError

    try:
        info = _key_store().revoke(key_id, _cli_actor())
    except KeyStoreError as exc:
        fail(str(exc))
    typer.echo(f"revoked key {info.id} ({info.name}, {info.role}) at {info.revoked_at:%Y-%m-%d %H:%M} UTC")
