"""The agents' review page in a real browser (playwright driving Debian's chromium, headless) against
the real service on loopback: sign in with an agent key, work through the queue with the keyboard
(open, read a cited doc, approve, edit, reject), see the API's errors (401 wrong key, 409 reviewed
elsewhere), and check the verdicts through the API. `make test` installs chromium where missing;
without it this test is skipped (never `playwright install`: that downloads a browser)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from agent.settings import REPO_ROOT, Settings
from tests.integration.conftest import post_ticket, serve_in_thread, wait_finished
from tests.integration.test_reviews import SECRET, SSO

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.integration
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: `make test` installs it (apt-get install chromium)"
)
ADMIN = {"authorization": "Bearer test-api-key"}  # the bootstrap key of make_settings
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
EDITED = "Hi, set the Audience in Okta to https://sso.payflow.example/fernhill and test again. Olena"
REASON = "needs an SSO engineer: the customer wants SCIM too"


@pytest.fixture
def service(demo_settings: Settings) -> Iterator[tuple[str, httpx.Client]]:
    with serve_in_thread(demo_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield url, client


def _suggestions(client: httpx.Client, n: int) -> list[str]:
    """n SSO tickets, each parked for review (the `none` LLM and the demo KB draft it for a human)."""
    ids = []
    for i in range(1, n + 1):
        r = post_ticket(client, SECRET, {**SSO, "external_id": f"P-{i}"})
        assert r.status_code == 202, r.text
        ids.append(r.json()["ticket_id"])
    for ticket_id in ids:
        got = wait_finished(client, ticket_id, "test-api-key")
        assert got["status"] == "awaiting_review", got["decision"]
    return ids


def _wait_status(client: httpx.Client, ticket_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    got: dict[str, Any] = {}
    while time.monotonic() < deadline:
        got = client.get(f"/tickets/{ticket_id}", headers=ADMIN).json()
        if got["status"] not in ("received", "processing", "awaiting_review"):
            return got
        time.sleep(0.1)
    raise AssertionError(f"{ticket_id} still {got.get('status')} after {timeout}s")


def _overflowing(page: Page, width: int) -> list[str]:
    """Elements whose right edge is past the viewport (a horizontal scroll bar on a phone)."""
    return page.evaluate(
        """(width) => [...document.querySelectorAll("body *")]
            .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > width + 1)
            .map((el) => `${el.tagName.toLowerCase()}#${el.id}: right edge ${el.getBoundingClientRect().right}`)""",
        width,
    )


def _check_accessible_names(page: Page) -> None:
    """Every button and text box in the accessibility tree has a name (playwright's aria snapshot
    prints a nameless one as a bare `- button` / `- textbox`), and the main controls are found by
    role and label, which fails when a name or label is missing."""
    tree = page.locator("body").aria_snapshot()
    nameless = [
        line for line in tree.splitlines() if re.fullmatch(r"\s*- (button|textbox|combobox|link|dialog)(:.*)?", line)
    ]
    assert not nameless, f"controls without an accessible name:\n{nameless}\n{tree}"
    for name in ("Approve", "Send edited", "Reject…", "Sign out", "Refresh"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
    expect(page.get_by_label("Draft reply")).to_be_visible()
    for label in ("Queue", "Category", "Language", "Priority"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()


@needs_chromium
def test_agent_works_through_the_queue_with_the_keyboard(service: tuple[str, httpx.Client]) -> None:
    url, client = service
    made = client.post("/admin/keys", headers=ADMIN, json={"name": "anna", "role": "agent"})
    assert made.status_code == 201, made.text
    agent_key = made.json()["key"]
    first, second, third, fourth = _suggestions(client, 4)
    drafts = {t: client.get(f"/reviews/{t}", headers=ADMIN).json()["draft"] for t in (first, second)}
    ARTIFACTS.mkdir(exist_ok=True)

    assert CHROMIUM is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(15_000)
            status = page.get_by_role("status")

            # GET /review redirects to the page; a wrong key gets the API's 401 explanation
            page.goto(f"{url}/review")
            key_box = page.get_by_label("API key")
            expect(key_box).to_be_focused()
            assert key_box.get_attribute("type") == "password"
            key_box.fill("trk_nope_wrong")
            key_box.press("Enter")
            expect(status).to_contain_text("401")
            expect(status).to_contain_text("triage keys create")
            expect(key_box).to_be_visible()

            key_box.fill(agent_key)
            key_box.press("Enter")
            queue = page.get_by_role("list", name="Pending suggestions, oldest first")
            expect(queue.get_by_role("button")).to_have_count(4)
            expect(page.locator("#queue-count")).to_have_text("(4)")

            # j/k move in the queue, o opens; the ticket shows text, triage as percentages, decision
            page.keyboard.press("j")
            page.keyboard.press("k")
            page.keyboard.press("o")
            expect(page.locator("#ticket-meta")).to_contain_text("P-1")
            expect(page.get_by_role("heading", name=SSO["subject"])).to_be_focused()
            expect(page.locator("#ticket-body")).to_contain_text("PF-1021 SAML assertion invalid")
            expect(page.locator("#triage-rows")).to_contain_text(re.compile(r"account_access\s*\d{1,3}%"))
            expect(page.locator("#decision-reason")).to_contain_text("needs staff action")
            expect(page.locator("#decision-facts")).to_contain_text("doc_not_auto_resolvable")
            expect(page.get_by_label("Draft reply")).to_have_value(drafts[first])
            _check_accessible_names(page)

            # a cited document opens in a dialog with its text, and Esc closes it
            page.get_by_role("button", name=re.compile(r"^KB-003")).first.click()
            dialog = page.get_by_role("dialog", name=re.compile("KB-003"))
            expect(dialog).to_be_visible()
            expect(dialog.locator("#doc-text")).to_contain_text("Audience")
            page.screenshot(path=str(ARTIFACTS / "review_page_doc.png"))
            page.keyboard.press("Escape")
            expect(dialog).to_be_hidden()
            page.get_by_role("heading", name=SSO["subject"]).focus()
            page.screenshot(path=str(ARTIFACTS / "review_page.png"), full_page=True)

            # narrow screens: one column, nothing wider than the viewport
            page.set_viewport_size({"width": 390, "height": 800})
            assert not _overflowing(page, 390)
            page.screenshot(path=str(ARTIFACTS / "review_page_narrow.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 800})

            # ? shows the shortcuts; Esc closes them
            page.keyboard.press("?")
            help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
            expect(help_box).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "review_page_help.png"))
            page.keyboard.press("Escape")
            expect(help_box).to_be_hidden()

            # a: approve as is; the status says so and the next ticket opens
            page.keyboard.press("a")
            expect(status).to_contain_text("Approved P-1")
            expect(page.locator("#ticket-meta")).to_contain_text("P-2")
            expect(queue.get_by_role("button")).to_have_count(3)

            # e: edit the draft (letters typed there are text, not shortcuts), Ctrl+Enter sends it
            page.keyboard.press("e")
            draft = page.get_by_label("Draft reply")
            expect(draft).to_be_focused()
            expect(draft).to_have_value(drafts[second])  # the "e" did not land in it
            page.keyboard.press("Control+a")
            page.keyboard.type(EDITED)
            expect(draft).to_have_value(EDITED)
            expect(page.locator("#ticket-meta")).to_contain_text("P-2")  # no "a", "r" or "j" fired
            page.keyboard.press("Control+Enter")
            expect(status).to_contain_text("Sent your edit for P-2")
            expect(page.locator("#ticket-meta")).to_contain_text("P-3")

            # r: reject, the reason box takes the focus; the rejection is sent with the reason
            page.keyboard.press("r")
            reason = page.get_by_label("Why reject?")
            expect(reason).to_be_focused()
            page.keyboard.type(REASON)
            page.screenshot(path=str(ARTIFACTS / "review_page_reject.png"))
            page.get_by_role("button", name="Reject and hand off").click()
            expect(status).to_contain_text("Rejected and handed off P-3")
            expect(page.locator("#ticket-meta")).to_contain_text("P-4")

            # reviewed elsewhere in the meantime: the page shows the API's 409 and drops it from the queue
            assert client.post(f"/reviews/{fourth}", headers=ADMIN, json={"action": "approve"}).status_code == 202
            page.keyboard.press("a")
            expect(status).to_contain_text("409")
            expect(status).to_contain_text("already reviewed")
            expect(page.get_by_text("No suggestions are waiting for review.")).to_be_visible()
            expect(page.get_by_role("button", name="Approve", exact=True)).to_be_disabled()
            expect(page.locator("#draft-info")).to_contain_text("already reviewed: approve by bootstrap")
            page.set_viewport_size({"width": 390, "height": 800})
            assert not _overflowing(page, 390)
            page.screenshot(path=str(ARTIFACTS / "review_page_409.png"))

            # sign out forgets the key
            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_label("API key")).to_be_visible()
            assert page.evaluate("sessionStorage.length") == 0
        finally:
            browser.close()

    approved, edited, rejected = (_wait_status(client, t) for t in (first, second, third))
    assert approved["status"] == "done" and approved["reply"]["text"] == drafts[first]
    assert approved["review"]["action"] == "approve" and approved["review"]["by"] == "anna"
    assert edited["status"] == "done" and edited["reply"]["text"] == EDITED
    assert edited["review"]["action"] == "edit" and edited["review"]["by"] == "anna"
    assert rejected["status"] == "handed_off" and REASON in rejected["decision"]["reason"]
    assert rejected["review"]["action"] == "reject"
    assert _wait_status(client, fourth)["review"]["by"] == "bootstrap"


def test_page_is_served_without_a_key(service: tuple[str, httpx.Client]) -> None:
    """The page itself is open (it asks for the key); its API calls are not."""
    _url, client = service
    page = client.get("/review", follow_redirects=True)
    assert page.status_code == 200 and "Review suggested replies" in page.text
    assert client.get("/review/review.js").status_code == 200
    assert client.get("/review/review.css").status_code == 200
    assert client.get("/reviews").status_code == 401


@needs_chromium
def test_the_page_speaks_ukrainian_and_remembers_it_per_browser(service: tuple[str, httpx.Client]) -> None:
    url, client = service
    (ticket_id,) = _suggestions(client, 1)
    assert CHROMIUM is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(locale="en-US")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{url}/review")
            expect(page.locator("html")).to_have_attribute("lang", "en")  # a first visit follows the browser
            page.get_by_label("Page language").select_option("uk")
            expect(page.locator("html")).to_have_attribute("lang", "uk")
            expect(page.get_by_role("heading", level=1)).to_have_text("Перевірка запропонованих відповідей")
            key_box = page.get_by_label("API-ключ")
            key_box.fill("test-api-key")
            key_box.press("Enter")
            expect(page.get_by_role("status")).to_contain_text("Ви увійшли")
            queue = page.get_by_role("list", name="Пропозиції, що очікують, від найстаріших")
            expect(queue.get_by_role("button")).to_have_count(1)
            page.keyboard.press("o")
            for name in ("Схвалити", "Надіслати змінене", "Відхилити…", "Вийти", "Оновити"):
                expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
            expect(page.get_by_label("Чернетка відповіді")).to_be_visible()
            expect(page.locator("#triage-rows th").first).to_have_text("категорія")  # what the script wrote
            # the ticket's own text is data: never translated
            expect(page.locator("#ticket-body")).to_contain_text(SSO["body"][:30])
            # switching the language while editing keeps the edit
            page.get_by_label("Чернетка відповіді").fill("my unsent edit")
            page.get_by_label("Мова сторінки").select_option("en")
            expect(page.get_by_label("Draft reply")).to_have_value("my unsent edit")
            expect(page.get_by_role("button", name="Restore the draft")).to_be_visible()
            page.get_by_role("button", name="Restore the draft").click()
            page.get_by_label("Page language").select_option("uk")
            page.screenshot(path=str(ARTIFACTS / "review-page-uk.png"), full_page=True)

            # remembered by this browser: a reload (and a new tab) comes back in Ukrainian
            page.reload()
            expect(page.locator("html")).to_have_attribute("lang", "uk")
            other = context.new_page()
            other.goto(f"{url}/review")
            expect(other.locator("html")).to_have_attribute("lang", "uk")
            expect(other.get_by_role("heading", level=1)).to_have_text("Перевірка запропонованих відповідей")

            # and back: the English the page was written in, not a stale copy
            page.get_by_label("Мова сторінки").select_option("en")
            expect(page.get_by_role("heading", level=1)).to_have_text("Review suggested replies")
            expect(page.locator("#ticket-none")).to_contain_text("Choose a ticket in the queue")
            page.get_by_role("list", name="Pending suggestions, oldest first").get_by_role("button").first.click()
            expect(page.get_by_role("button", name="Approve", exact=True)).to_be_visible()
            expect(page.locator("#triage-rows th").first).to_have_text("category")
            assert client.get(f"/reviews/{ticket_id}", headers=ADMIN).json()["status"] == "awaiting_review"
        finally:
            browser.close()
