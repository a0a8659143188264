"""What a worker process opens from settings: the service's agent (write-back on) and the `Worker`
claiming tickets from the store, closed together.

`triage worker` runs one in its own process; the API's lifespan (api/app.py) runs the same in-process.

    store = open_database(settings.db_url)
    with open_worker(settings, store) as worker:
        worker.loop()              # or worker.start(): a started worker is stopped on exit
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agent.runtime import threads
from agent.runtime.assembly import Agent
from agent.runtime.worker import Worker
from agent.settings import Settings
from agent.storage.tickets import TicketStore


@contextmanager
def open_worker(settings: Settings, store: TicketStore) -> Iterator[Worker]:
    """A `Worker` over `store` with the service's agent: write-back to the configured ticketing systems
    (its idempotency ledger on the store's database), lease, poll interval and attempts from
    `settings`. `settings` are the run settings (with the bundled model's URL when its process runs).
    On exit the worker is stopped (a no-op unless started) and the write-back clients are closed."""
    settings = threads.apply(settings)  # this process's share of the cores (OMP_NUM_THREADS), before models load
    agent = Agent.from_settings(settings, writeback=True, engine=store.engine)
    try:
        worker = Worker(
            store,
            agent,
            lease_s=settings.worker_lease_s,
            heartbeat_s=settings.worker_heartbeat_s,
            poll_s=settings.worker_poll_s,
            max_attempts=settings.max_attempts,
        )
        try:
            yield worker
        finally:
            worker.stop()
    finally:
        agent.close()
