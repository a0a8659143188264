"""Test doubles for the ticketing adapters: one fake server per system, each a real HTTP app on
loopback that checks paths, auth and bodies as the real API does (machinery in `common`).

    from tools.ticketing.testing import FakeZendesk
    with FakeZendesk() as zd:
        zd.seed("123")
        zd.adapter().add_note("123", "hi")      # the real Zendesk adapter, pointed at the fake
"""

from __future__ import annotations

from tools.ticketing.testing.common import FAST_RETRY, FakeServer, Fault, Recorded
from tools.ticketing.testing.freshdesk import FakeFreshdesk
from tools.ticketing.testing.jira import FakeJira
from tools.ticketing.testing.youtrack import FakeYouTrack
from tools.ticketing.testing.zendesk import FakeZendesk

__all__ = [
    "FAKES",
    "FAST_RETRY",
    "FakeFreshdesk",
    "FakeJira",
    "FakeServer",
    "FakeYouTrack",
    "FakeZendesk",
    "Fault",
    "Recorded",
]

FAKES: dict[str, type[FakeServer]] = {
    "zendesk": FakeZendesk,
    "jira": FakeJira,
    "freshdesk": FakeFreshdesk,
    "youtrack": FakeYouTrack,
}
