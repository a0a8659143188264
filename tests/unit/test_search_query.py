"""What of a ticket is searched (`agent.graph.search_query`): no greeting, signature or masks, nothing else lost."""

from __future__ import annotations

import pytest

from agent.domain import Customer, Ticket
from agent.graph.redaction import redact
from agent.graph.search_query import search_query
from agent.settings import Settings
from knowledge.testing import InMemoryRetriever
from tests.unit.conftest import offline_agent

CLEANED = [
    # a Ukrainian sign-off line and the name and phone after it (smoke S021's shape)
    (
        "Не можу увійти\n\nДобрий день! Забула пароль від PayFlow. Як його відновити?\nДякую.\n"
        "Ірина Ковальчук, бухгалтер\nТОВ «Агроінвест Поділля», тел. [PHONE]",
        "Не можу увійти\n\nЗабула пароль від PayFlow. Як його відновити?",
    ),
    # a sign-off with the name on its line, then a bare phone
    (
        "Звільнення\n\nДобрий день, працівник звільняється 28 листопада. Як оформити?\nДякую, Марія, HR\n[PHONE]",
        "Звільнення\n\nпрацівник звільняється 28 листопада. Як оформити?",
    ),
    # an English signature block under "Thanks,"
    (
        "Payslip not received\n\nHi, one employee never got her payslip. Can you resend it?\n\nThanks,\n"
        "Olena Marsh | HR Officer | Acme Ltd\n[PHONE]",
        "Payslip not received\n\none employee never got her payslip. Can you resend it?",
    ),
    # a signature without a sign-off: contact and name lines at the end
    (
        "Login alert\n\nWe got a 'New sign-in' alert from Brazil. Is our account compromised?\nCall me: [PHONE]\n"
        "Tom Reilly, Northwind",
        "Login alert\n\nWe got a 'New sign-in' alert from Brazil. Is our account compromised?",
    ),
    (
        "Stuck run\n\nPay run PR-7 is stuck on Calculating.\n\nTom Reilly\nFinance Director, Northwind\n"
        "mob +44 7700 900123",
        "Stuck run\n\nPay run PR-7 is stuck on Calculating.",
    ),
    (
        "2FA\n\nMy authenticator app did not move to the new phone. How do I get back in\n- Mark",
        "2FA\n\nMy authenticator app did not move to the new phone. How do I get back in",
    ),
    # a sign-off closing the last sentence on the same line
    (
        "Xero\n\nHi there, getting PF-4201 on the journal sync. Maybe related? Thanks, Priya",
        "Xero\n\ngetting PF-4201 on the journal sync. Maybe related?",
    ),
    # masks anywhere: the placeholder's name is not a word of the ticket
    (
        "Refund\n\nWe were charged twice on card [CARD] for invoice INV-7. Please refund the duplicate.",
        "Refund\n\nWe were charged twice on card for invoice INV-7. Please refund the duplicate.",
    ),
]

KEPT = [
    # thanks that is part of a sentence, a question after a sign-off word, a short last line that asks
    "Payslips\n\nThanks for fixing the export yesterday.\nNow the payslips are blank. What changed?",
    "Roles\n\nHow do I add a manager?\nThanks, but where is the Roles tab? It is not in Settings",
    "Overtime\n\nHow do we set overtime to 1.5x after 40 hours\nfor hourly staff only",
    "Best practice for year-end\n\nWhat is the best order of steps for closing the tax year?",
    "Hi",  # too little left to search: the whole text is searched
]


@pytest.mark.parametrize(("text", "want"), CLEANED)
def test_greeting_signature_and_masks_are_not_searched(text: str, want: str) -> None:
    assert search_query(text) == want


@pytest.mark.parametrize("text", KEPT)
def test_what_the_ticket_asks_is_kept(text: str) -> None:
    assert search_query(text) == text


def test_a_long_text_after_a_sign_off_is_not_a_signature() -> None:
    text = (
        "Export\n\nThe payroll export is missing two columns.\nThanks,\nAlso the bank file we upload every Friday "
        "now has the wrong date format in every row since the update"
    )
    assert search_query(text) == text


def test_the_retrieve_node_searches_without_the_signature_and_the_masks(
    settings: Settings, kb: InMemoryRetriever
) -> None:
    ticket = Ticket(
        id="t-s",
        external_id="Z-s",
        subject="Payslip not received",
        body="Hi, one of our employees never got her March payslip by email, can you resend it?\n\nThanks,\n"
        "Olena Marsh | HR Officer | Acme Ltd\n+380 67 123 4567",
        customer=Customer(name="Acme", tier="premium"),
    )
    state = offline_agent(settings, kb).run(ticket)
    first = kb.searches[0].query
    assert "[PHONE]" in state["text"] and "Olena" in state["text"]  # the ticket itself keeps them
    assert "PHONE" not in first and "Olena" not in first and not first.split("\n\n")[1].startswith("Hi")
    assert "never got her March payslip" in first
    assert redact(ticket.body)[0].count("[PHONE]") == 1
