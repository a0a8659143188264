"""The whole schema: `Base.metadata` with every table of the service registered (the migrations'
environment and the drift test compare against it)."""

from __future__ import annotations

from sqlalchemy import MetaData

from agent.storage import events, keys, ledger, reviews, tickets
from agent.storage.db import Base

TABLE_MODULES = (tickets, reviews, keys, ledger, events)  # each declares its tables on Base when imported


def metadata() -> MetaData:
    return Base.metadata
