"""A lease kept alive while its holder works: a background thread renews it on the ticket store.

Used by the worker (a ticket being run through the graph) and by a write-back retry, so a long
piece of work is never taken over while its holder is alive, and a dead holder's lease runs out
within one lease length.
"""

from __future__ import annotations

import logging
import threading

from agent.storage.tickets import TicketStore

log = logging.getLogger("triage.lease")


class Heartbeat:
    """Renews a worker's lease on one ticket every `every_s` seconds in a background thread, until
    stopped; `lost` is set when a renewal finds the lease is no longer the worker's.

        with Heartbeat(store, ticket_id, worker_id, lease_s, every_s) as beat:
            ...                          # long work; beat.lost.is_set() says the lease is gone
    """

    def __init__(self, store: TicketStore, ticket_id: str, owner: str, lease_s: float, every_s: float) -> None:
        self.store, self.ticket_id, self.owner = store, ticket_id, owner
        self.lease_s, self.every_s = lease_s, every_s
        self.lost = threading.Event()
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{ticket_id[:8]}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                held = self.store.renew(self.ticket_id, self.owner, self.lease_s)
            except Exception as exc:  # noqa: BLE001 - a database hiccup: try again at the next beat
                log.warning("ticket %s: lease renewal failed (%s); retrying", self.ticket_id, exc)
                continue
            if not held:
                log.warning("ticket %s: lease lost (another worker owns it now)", self.ticket_id)
                self.lost.set()
                return
            self.renewals += 1

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.every_s + 5)
