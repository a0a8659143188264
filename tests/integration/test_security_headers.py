"""Security headers over real HTTP (the real app on loopback): the review page's CSP, framing and
sniffing rules, the headers every response carries, and, in headless chromium, that the page works
under its CSP with no violation while an injected inline script is refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from agent.settings import Settings
from tests.conftest import make_settings
from tests.integration.conftest import serve_in_thread
from tests.integration.test_roles import make_key

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium")
REVIEW_FILES = ("/review/", "/review/index.html", "/review/review.js", "/review/review.css")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'triage.db'}", worker_enabled=False)


@pytest.fixture
def service(settings: Settings) -> Iterator[tuple[str, httpx.Client]]:
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield url, client


def csp_directives(value: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in value.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def test_review_page_files_carry_csp_frame_sniff_and_referrer_headers(service: tuple[str, httpx.Client]) -> None:
    _, client = service
    for path in REVIEW_FILES:
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        csp = csp_directives(r.headers["content-security-policy"])
        assert csp["default-src"] == ["'none'"]
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]  # no unsafe-inline, no eval
        assert csp["connect-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
        assert csp["base-uri"] == ["'none'"]
    # a missing file of the page is the API's JSON 404, never sniffed as script
    missing = client.get("/review/nope.js")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert missing.headers["x-content-type-options"] == "nosniff"


def test_every_response_says_nosniff_and_no_referrer(service: tuple[str, httpx.Client]) -> None:
    _, client = service
    responses = [
        client.get("/healthz"),
        client.get("/review", follow_redirects=False),  # the redirect to /review/
        client.get("/tickets/nope", headers={"authorization": "Bearer test-api-key"}),  # 404
        client.get("/tickets/nope"),  # 401
        client.post("/webhooks/generic", content=b"{}"),  # 401 (unsigned)
        client.get("/healthz", headers={"x-padding": "p" * 20_000}),  # 431 (over the 16 KiB default)
        client.get("/openapi.json"),
    ]
    assert [r.status_code for r in responses] == [200, 307, 404, 401, 401, 431, 200]
    for r in responses:
        assert r.headers["x-content-type-options"] == "nosniff", r.request.url
        assert r.headers["referrer-policy"] == "no-referrer", r.request.url
    # the CSP is the review page's: the API docs (Swagger UI, inline script) are not under it
    assert "content-security-policy" not in responses[0].headers


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: `make test` installs it")
def test_the_review_page_runs_under_its_csp_and_refuses_inline_script(service: tuple[str, httpx.Client]) -> None:
    url, client = service
    agent_key = make_key(client, "agent", "csp-check")["key"]
    assert CHROMIUM is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            console: list[str] = []
            page.on("console", lambda msg: console.append(msg.text))
            page.add_init_script(
                "window.__violations = [];"
                "document.addEventListener('securitypolicyviolation',"
                " (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            page.goto(f"{url}/review/")
            key_box = page.get_by_label("API key")
            expect(key_box).to_be_focused()  # review.js ran: it focuses the key box
            key_box.fill(agent_key)
            key_box.press("Enter")
            expect(page.get_by_text("No suggestions are waiting for review.")).to_be_visible()  # fetch ran
            assert page.evaluate("window.__violations") == [], console
            assert not [m for m in console if "Content Security Policy" in m], console

            # the policy is enforced: an inline script is refused (an allowed one runs as it is appended)
            # and the refusal reported
            outcome = page.evaluate(
                """() => new Promise((resolve) => {
                    document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective));
                    const s = document.createElement('script');
                    s.textContent = 'window.__ran = 1';
                    document.head.appendChild(s);
                    if (window.__ran === 1) resolve('the inline script ran');
                })"""
            )
            assert outcome.startswith("script-src"), outcome
        finally:
            browser.close()
