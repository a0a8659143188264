"""The dashboard (/dashboard, GET /dashboard/data) in a real browser (playwright driving Debian's
chromium, headless) against the real service on loopback, over eight weeks of seeded lifecycle data
(tests/integration/dashboard_seed.py, through the real event and ticket stores): the figures shown
equal what GET /kpis answers for the period, for each week and with a filter; the plots render as
SVG with one mark per week; the recurring issues, root causes, SLA cells and eval runs show; the
page switches to Ukrainian and remembers it; on a phone nothing is wider than the screen. Every
bad query parameter of /dashboard/data is a 4xx. Screenshots: tests/artifacts/dashboard_*.png."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from agent.settings import REPO_ROOT, Settings
from tests.integration.conftest import serve_in_thread
from tests.integration.dashboard_seed import END, START, seed, write_kb
from tests.integration.test_webhooks_providers import settings_for

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.integration
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: `make browser` installs it (apt-get install chromium)"
)
ADMIN = {"authorization": "Bearer test-api-key"}
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
PERIOD = {"from": START.date().isoformat(), "to": END.date().isoformat()}
TILES = (
    "tickets_created",
    "ai_triaged_rate",
    "auto_resolution_rate",
    "durable_auto_resolution_rate",
    "handoff_rate",
    "reopen_rate",
    "first_contact_resolution_rate",
    "first_response_seconds_p50",
    "first_response_seconds_p90",
    "resolution_seconds_p50",
    "resolution_seconds_p90",
    "resolution_seconds_mean",
    "backlog",
    "csat",
    "sla_adherence_rate",
)
RUNS = {
    "b77-before": {"accuracy": 0.9012, "macro_f1": 0.8876, "ece": 0.0412, "run": {"model_version": "clf-1"}},
    "b77-after": {"accuracy": 0.9240, "macro_f1": 0.9101, "ece": 0.0305, "run": {"model_version": "clf-2"}},
}


def write_runs(runs_dir: Path) -> None:
    """Two eval runs as `triage eval triage --json` writes them (the older one first, by mtime)."""
    import os

    runs_dir.mkdir(parents=True, exist_ok=True)
    for i, (name, data) in enumerate(RUNS.items()):
        path = runs_dir / f"{name}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        os.utime(path, (1_700_000_000 + i * 3600, 1_700_000_000 + i * 3600))


def seeded_settings(root: Path, **overrides: Any) -> Settings:
    kb = write_kb(root / "kb")
    settings = settings_for(root, kb_path=kb, **overrides)
    seed(settings.db_url)
    write_runs(root / "runs")
    return settings


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, httpx.Client]]:
    settings = seeded_settings(tmp_path_factory.mktemp("dashboard"))
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield url, client


def kpis(client: httpx.Client, **params: str) -> dict[str, Any]:
    r = client.get("/kpis", params=params, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()


def _overflowing(page: Page, width: int) -> list[str]:
    """Elements whose right edge is past the viewport, and the page's own scroll width when it is
    wider than the viewport (text that overflows its box): a horizontal scroll bar on a phone."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    return ([f"the page scrolls to {wide} px"] if wide > width else []) + page.evaluate(
        """(width) => [...document.querySelectorAll("body *")]
            .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > width + 1)
            .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className.baseVal ?? el.className}: `
                         + `right edge ${el.getBoundingClientRect().right}`)""",
        width,
    )


def _tiles(page: Page) -> dict[str, tuple[str, str]]:
    """kpi -> (data-value, the figure shown)."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("#kpis .tile")].map((t) =>
              [t.dataset.kpi, [t.dataset.value, t.querySelector(".value").textContent]]))"""
    )


def _shown(key: str, value: float | None) -> str:
    """What an English page shows for a rate or a count (the same rounding as Intl.NumberFormat)."""
    if value is None:
        return "—"
    if key.endswith("_rate") or key == "csat":
        return f"{100 * value:,.1f}%"
    return f"{value:,.0f}"


def _check_figures(page: Page, expected: dict[str, Any]) -> None:
    tiles = _tiles(page)
    assert set(tiles) == set(TILES)
    for key in TILES:
        raw, text = tiles[key]
        want = expected[key]
        assert (float(raw) if raw != "" else None) == want, (key, raw, want)
        if "seconds" not in key:
            assert text == _shown(key, want), (key, text, want)


@needs_chromium
def test_the_dashboard_shows_what_kpis_answers(service: tuple[str, httpx.Client]) -> None:
    url, client = service
    made = client.post("/admin/keys", headers=ADMIN, json={"name": "hos", "role": "agent"})
    assert made.status_code == 201, made.text
    agent_key = made.json()["key"]
    period = kpis(client, **PERIOD)
    assert period["tickets_created"] > 50 and period["auto_resolved"] > 0 and period["sla"]["breached"] > 0
    ARTIFACTS.mkdir(exist_ok=True)
    assert CHROMIUM is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
            page = context.new_page()
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))  # a script error
            failed: list[str] = []  # what the page asked for and did not get (the wrong key's 401 aside)
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(f"{url}/dashboard/?from={PERIOD['from']}&to={PERIOD['to']}&weeks=8")
            key_box = page.get_by_label("API key")
            key_box.fill("trk_nope_wrong")
            key_box.press("Enter")
            expect(page.get_by_role("status")).to_contain_text("401")
            key_box.fill(agent_key)
            key_box.press("Enter")
            expect(page.get_by_role("status")).to_contain_text("Updated")

            # the period's KPIs are /kpis's, shown as they are rounded
            _check_figures(page, period)
            expect(page.locator("#period-line")).to_contain_text(f"from {PERIOD['from']} to {PERIOD['to']}")

            # the trend: one bar per week, each /kpis for that week; every chart is a drawn SVG
            weeks = client.get("/dashboard/data", params={**PERIOD, "weeks": 8, "topics": False}, headers=ADMIN)
            assert weeks.status_code == 200, weeks.text
            trend = weeks.json()["weeks"]
            assert [w["week"] for w in trend] == [f"2026-W{n}" for n in range(41, 49)]
            bars = page.locator("#chart-volume svg rect title").all_text_contents()
            assert len(bars) == 8
            for week, title in zip(trend, bars, strict=True):
                one = kpis(client, **{"from": week["from"], "to": week["to"]})
                assert title == f"new tickets {week['week'][5:]}: {one['tickets_created']}", title
                assert week["backlog"] == one["backlog"] and week["reopen_rate"] == one["reopen_rate"]
            for chart in ("volume", "rates", "times", "quality", "sla", "breaches"):
                svg = page.locator(f"#chart-{chart} svg")
                expect(svg).to_be_visible()
                box = svg.bounding_box()
                assert box is not None and box["height"] > 60 and box["width"] > 200, (chart, box)
                assert svg.locator("path, rect, circle").count() > 0, chart
            rates = page.locator("#chart-rates svg circle title").all_text_contents()
            auto = [t for t in rates if t.startswith("auto-resolved W48")]
            assert auto == [f"auto-resolved W48: {round(100 * trend[-1]['auto_resolution_rate'])}%"], rates

            # SLA cells, recurring issues with the spike, root causes before/after, eval runs side by side
            cells = [c for c in period["sla"]["cells"] if c["has_target"]]
            expect(page.locator("#sla-table tbody tr")).to_have_count(len(period["sla"]["cells"]))
            shown = page.locator("#chart-sla svg rect.cell").evaluate_all("(rs) => rs.map((r) => r.dataset.value)")
            assert sorted(float(v) for v in shown if v) == sorted(
                c["adherence_rate"] for c in cells if c["adherence_rate"] is not None
            ), shown
            expect(page.locator("#alerts")).to_contain_text("Spike: 12 tickets about")
            expect(page.locator("#topics-table")).to_contain_text("RCA-103")
            expect(page.locator("#topics-table")).to_contain_text("spike")
            fixed = next(c for c in period["root_causes"] if c["id"] == "RCA-101")
            expect(page.locator("#rca-table")).to_contain_text(f"{fixed['per_week_before_fix']:.1f} →")
            expect(page.locator("#rca-table")).to_contain_text(
                f"{fixed['tickets_linked_in_period']} / {fixed['tickets_linked']}"
            )
            expect(page.locator("#undone-summary")).to_contain_text(
                f"{weeks.json()['undone']['total']} auto-resolutions"
            )
            heads = page.locator("#evals-table thead th").all_text_contents()
            assert [h.split(" (")[0] for h in heads[1:]] == ["b77-after", "b77-before"], heads
            expect(page.locator("#evals-table")).to_contain_text("92.40%")
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            # a filter: the page's figures follow, and equal /kpis with the same filter
            page.get_by_label("Client tier", exact=True).select_option("enterprise")
            page.get_by_role("button", name="Apply").click()
            expect(page.locator("#period-line")).to_contain_text("Client tier enterprise")
            expect(page.get_by_role("status")).to_contain_text("Updated")
            _check_figures(page, kpis(client, **PERIOD, tier="enterprise"))
            assert "tier=enterprise" in page.url

            # a bad period is refused on the page, with the API's words for what the API refuses
            page.get_by_label("From", exact=True).fill("2026-12-10")
            page.get_by_role("button", name="Apply").click()
            expect(page.get_by_role("status")).to_contain_text("must be before")
            page.get_by_label("From", exact=True).fill(PERIOD["from"])
            page.get_by_label("Client tier", exact=True).select_option("")
            page.get_by_role("button", name="Apply").click()
            expect(page.get_by_role("status")).to_contain_text("Updated")

            # a phone: one column, nothing wider than the screen, the charts still drawn
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(300)
            assert not _overflowing(page, 390), _overflowing(page, 390)
            box = page.locator("#chart-volume svg").bounding_box()
            assert box is not None and box["width"] <= 390 and box["height"] > 60
            page.screenshot(path=str(ARTIFACTS / "dashboard_phone.png"), full_page=True)
            assert not errors, errors
            unexpected = [f for f in failed if not f.endswith("/favicon.ico")]
            assert len(unexpected) == 1 and unexpected[0].startswith("401 "), failed
        finally:
            browser.close()


@needs_chromium
def test_the_dashboard_speaks_ukrainian_and_remembers_it(service: tuple[str, httpx.Client]) -> None:
    url, client = service
    period = kpis(client, **PERIOD)
    assert CHROMIUM is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{url}/dashboard/?from={PERIOD['from']}&to={PERIOD['to']}&weeks=8")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            page.get_by_label("Page language").select_option("uk")
            expect(page.locator("html")).to_have_attribute("lang", "uk")
            expect(page.get_by_role("heading", level=1)).to_have_text("Панель підтримки")
            key_box = page.get_by_label("API-ключ")
            key_box.fill("test-api-key")
            key_box.press("Enter")
            expect(page.get_by_role("status")).to_contain_text("Оновлено")
            expect(page.locator("#kpis .tile[data-kpi=tickets_created] dt")).to_have_text("Нові звернення")
            expect(page.locator("#chart-volume figcaption")).to_have_text("Нові звернення та беклог")
            expect(page.locator("#chart-volume .legend")).to_contain_text("беклог")
            expect(page.locator("#sla-table thead")).to_contain_text("Рівень клієнта")
            expect(page.locator("#alerts")).to_contain_text("Сплеск: 12 звернень про «")
            expect(page.locator("#alerts")).to_contain_text("корінна причина RCA-103")
            # the same figures, in Ukrainian number format (comma decimals)
            tiles = _tiles(page)
            assert float(tiles["auto_resolution_rate"][0]) == period["auto_resolution_rate"]
            want = f"{100 * period['auto_resolution_rate']:.1f}%".replace(".", ",")
            assert tiles["auto_resolution_rate"][1] == want, tiles["auto_resolution_rate"]
            page.screenshot(path=str(ARTIFACTS / "dashboard_uk.png"), full_page=True)
            # back and forth keeps the data; a reload keeps the language
            page.reload()
            expect(page.locator("html")).to_have_attribute("lang", "uk")
            expect(page.get_by_role("status")).to_contain_text("Оновлено")
            page.get_by_label("Мова сторінки").select_option("en")
            expect(page.locator("#kpis .tile[data-kpi=tickets_created] dt")).to_have_text("New tickets")
            expect(page.locator("#chart-rates figcaption")).to_have_text(re.compile("^Auto-resolution"))
        finally:
            browser.close()


def test_the_page_is_open_and_its_data_needs_an_agent_key(service: tuple[str, httpx.Client]) -> None:
    _url, client = service
    page = client.get("/dashboard", follow_redirects=True)
    assert page.status_code == 200 and "Support dashboard" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    for asset in ("dashboard.js", "charts.js", "i18n.js", "dashboard.css"):
        r = client.get(f"/dashboard/{asset}")
        text = r.text.replace('"http://www.w3.org/2000/svg"', "")  # the SVG namespace is a name, not a load
        assert r.status_code == 200 and "http://" not in text and "https://" not in text, asset
    assert client.get("/dashboard/data").status_code == 401
    made = client.post("/admin/keys", headers=ADMIN, json={"name": "hook", "role": "webhook"})
    hook = {"authorization": f"Bearer {made.json()['key']}"}
    assert client.get("/dashboard/data", headers=hook).status_code == 403


def test_every_bad_query_parameter_is_a_4xx(service: tuple[str, httpx.Client]) -> None:
    _url, client = service
    bad: list[dict[str, str]] = [
        {"from": "2026-11-30", "to": "2026-10-01"},  # backwards
        {"from": "2026-11-30", "to": "2026-11-30"},  # empty
        {"from": "0001-01-01"},
        {"to": "9999-12-31"},
        {"to": "yesterday"},
        {"from": "2026-13-01"},
        {"weeks": "0"},
        {"weeks": "53"},
        {"weeks": "twelve"},
        {"weeks": "1e9"},
        {"weeks": "99999999999999999999999"},
        {"tier": "x" * 65},
        {"queue": "q" * 1000},
        {"topics": "maybe"},
    ]
    for params in bad:
        r = client.get("/dashboard/data", params=params, headers=ADMIN)
        assert r.status_code == 422, (params, r.status_code, r.text)
        assert r.json()["error"] == "invalid", r.text
    r = client.get("/dashboard/data?tier=%00", headers=ADMIN)
    assert r.status_code == 400, r.text
    # an unknown filter value is no error: nothing matches
    r = client.get("/dashboard/data", params={**PERIOD, "tier": "nope", "weeks": "2"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["period"]["tickets_created"] == 0


@needs_chromium
def test_an_empty_service_shows_no_data_without_errors(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, team_file=tmp_path / "no-team.yaml")  # no SLA targets either
    with serve_in_thread(settings) as url, sync_playwright() as pw:
        assert CHROMIUM is not None
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/dashboard/")
            page.get_by_label("API key").fill("test-api-key")
            page.get_by_label("API key").press("Enter")
            expect(page.get_by_role("status")).to_contain_text("Updated")
            expect(page.locator("#kpis .tile[data-kpi=tickets_created] .value")).to_have_text("0")
            expect(page.locator("#kpis .tile[data-kpi=csat] .value")).to_have_text("—")
            expect(page.locator("#chart-times .empty")).to_have_text("no data")
            expect(page.locator("#sla-summary")).to_contain_text("No SLA targets")
            expect(page.locator("#topics-summary")).to_contain_text("Too few tickets")
            expect(page.locator("#evals-summary")).to_contain_text("No eval runs")
            assert not _overflowing(page, 390), _overflowing(page, 390)
            page.screenshot(path=str(ARTIFACTS / "dashboard_empty_phone.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
