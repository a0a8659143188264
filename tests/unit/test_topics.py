"""Recurring issues (agent/insights/topics.py) on small synthetic tickets: TF-IDF or a fake embedder,
never the real one."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray
from typer.testing import CliRunner

from agent.insights import topics as t
from agent.insights.topics import RcaDoc, TopicsConfig, analyse, evaluate, post_alerts

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

TOPICS = {
    "payslip": ["payslip", "pdf", "blank", "apostrophe", "download", "empty", "page"],
    "sso": ["sso", "login", "loop", "safari", "redirect", "okta", "browser"],
    "bank": ["bank", "file", "rejected", "salary", "transfer", "iban", "format"],
}
FILLER = ["issue", "problem", "today", "since", "morning", "customer", "team", "urgent"]


def _tickets(per_topic: int = 30, seed: int = 7) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    for label, words in TOPICS.items():
        for _ in range(per_topic):
            picked = rng.sample(words, 4) + rng.sample(FILLER, 3)
            rng.shuffle(picked)
            texts.append(" ".join(picked))
            labels.append(label)
    return texts, labels


class FakeEmbedder:
    """Bag of words hashed into 64 dimensions: texts sharing words get close vectors."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def encode(self, texts: Sequence[str], kind: t.Kind) -> NDArray[np.float32]:
        self.calls.append((len(texts), kind))
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % 64] += 1.0
        return out


def test_clusters_recover_synthetic_topics_far_above_random_labels() -> None:
    texts, labels = _tickets()
    report = analyse(texts, labels=labels, config=TopicsConfig(clusters=3))
    assert report.k == 3
    assert report.nmi is not None and report.ari is not None
    shuffled = labels[:]
    random.Random(1).shuffle(shuffled)
    random_nmi, _ = evaluate(shuffled, report.assignments)
    assert report.nmi > 0.8 > random_nmi + 0.5
    data = report.as_dict()
    assert {"nmi", "ari", "clusters", "alerts", "candidates"} <= set(data)
    assert "assignments" not in data


def test_each_cluster_is_named_by_its_own_distinctive_words() -> None:
    texts, labels = _tickets()
    report = analyse(texts, labels=labels, config=TopicsConfig(clusters=3))
    for cluster in report.clusters:
        counts = cluster.label_counts or {}
        majority = max(counts, key=lambda k: counts[k])
        own = set(TOPICS[majority])
        assert cluster.terms, cluster
        assert set(" ".join(cluster.terms[:3]).split()) <= own, (majority, cluster.terms)
        assert not set(" ".join(cluster.terms).split()) & {"hi", "thanks", "regards"}


@pytest.mark.parametrize("mode", ["auto", "silhouette"])
def test_automatic_k_reads_no_labels(mode: str) -> None:
    texts, labels = _tickets()
    config = TopicsConfig(clusters=mode)  # type: ignore[arg-type]
    without = analyse(texts, config=config)
    relabelled = analyse(texts, labels=["x" if i % 2 else "y" for i in range(len(labels))], config=config)
    assert without.assignments == relabelled.assignments
    assert without.k >= 3
    if mode == "silhouette":
        assert without.silhouette and str(without.k) in without.silhouette  # the best of the grid
    else:
        assert without.silhouette is None and without.k == t.auto_k(len(texts)) == 5


def test_auto_k_grid_grows_with_n_and_stays_bounded() -> None:
    assert t.auto_k_grid(5) == [2]
    assert (t.auto_k(1), t.auto_k(100), t.auto_k(6000), t.auto_k(10**6)) == (1, 5, 39, 60)
    small, large = t.auto_k_grid(400), t.auto_k_grid(40_000)
    assert max(small) < max(large) <= 60
    assert all(k >= 2 for k in small)


def test_cluster_links_to_matching_rca_and_the_rest_are_candidates() -> None:
    texts, _ = _tickets()
    docs = [
        RcaDoc(id="RCA-7", title="SSO login loop in Safari", status="open", text="sso login loop safari redirect okta"),
        RcaDoc(id="RCA-9", title="Headcount report", status="fixed", text="headcount report rehired employees"),
    ]
    report = analyse(texts, rca_docs=docs, config=TopicsConfig(clusters=3))
    linked = [c for c in report.clusters if c.rca]
    assert [c.rca["id"] for c in linked if c.rca] == ["RCA-7"]
    assert "sso" in " ".join(linked[0].terms) or "login" in " ".join(linked[0].terms)
    assert linked[0].rca is not None and linked[0].rca["status"] == "open"
    assert set(report.candidates) == {c.id for c in report.clusters} - {linked[0].id}


def test_fake_embedder_tickets_as_queries_rca_as_passages() -> None:
    texts, labels = _tickets()
    emb = FakeEmbedder()
    docs = [RcaDoc(id="RCA-1", title="Blank payslip PDF", status="workaround", text="payslip pdf blank apostrophe")]
    report = analyse(
        texts, embedder=emb, embedder_spec="fake", labels=labels, rca_docs=docs, config=TopicsConfig(clusters=3)
    )
    assert emb.calls == [(len(texts), "query"), (1, "passage")]
    assert report.representation == "embedding"
    assert report.nmi is not None and report.nmi > 0.8
    assert any(c.rca and c.rca["id"] == "RCA-1" for c in report.clusters)


def _timed(texts: list[str], labels: list[str], spike: str) -> list[datetime]:
    """Every topic 3 tickets a week for 4 weeks; `spike` puts the rest of its tickets in the last week."""
    times: list[datetime] = []
    seen: dict[str, int] = {}
    for label in labels:
        i = seen.get(label, 0)
        seen[label] = i + 1
        if label == spike and i >= 12:
            times.append(NOW - timedelta(hours=3 + i))
        else:
            week = 1 + (i % 4)
            times.append(NOW - timedelta(days=7 * week + 1 + (i % 5)))
    return times


def test_spike_against_baseline_raises_one_alert_and_ranks_first() -> None:
    texts, labels = _tickets()
    times = _timed(texts, labels, spike="bank")
    report = analyse(texts, labels=labels, times=times, now=NOW, config=TopicsConfig(clusters=3))
    assert len(report.alerts) == 1
    alert = report.alerts[0]
    spiking = next(c for c in report.clusters if c.id == alert["cluster"])
    counts = spiking.label_counts or {}
    assert max(counts, key=lambda k: counts[k]) == "bank"
    assert alert["last_week"] >= 15 and alert["baseline_weekly"] < 5
    assert report.candidates[0] == spiking.id
    assert all(c.last_week == 0 for c in report.clusters if c.id != spiking.id)


def test_no_alert_without_a_spike() -> None:
    texts, _ = _tickets()
    flat = [NOW - timedelta(days=1 + (i % 34)) for i in range(len(texts))]
    report = analyse(texts, times=flat, now=NOW, config=TopicsConfig(clusters=3))
    assert report.alerts == []
    assert all(c.last_week is not None for c in report.clusters)


def test_growth_counts_last_week_against_the_baseline_weeks() -> None:
    times = [NOW - timedelta(days=1)] * 6 + [NOW - timedelta(days=10)] * 4 + [NOW - timedelta(days=60)]
    last, weekly, growth = t.growth_of(times, NOW, baseline_weeks=4)
    assert (last, weekly) == (6, 1.0)
    assert growth == pytest.approx(7 / 2)


def test_post_alerts_failures_are_logged_never_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused(*_a: Any, **_k: Any) -> httpx.Response:
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(httpx, "post", refused)
    assert post_alerts("http://127.0.0.1:9/hook", [{"cluster": 1}]) is False
    assert "alert webhook" in caplog.text

    sent: list[dict[str, Any]] = []

    def answer(url: str, json: dict[str, Any], timeout: float) -> httpx.Response:
        sent.append({"url": url, "json": json, "timeout": timeout})
        return httpx.Response(500 if "bad" in url else 204, request=httpx.Request("POST", url))

    monkeypatch.setattr(httpx, "post", answer)
    assert post_alerts("http://hooks.test/bad", [{"cluster": 1}]) is False
    assert post_alerts("http://hooks.test/ok", [{"cluster": 2}], timeout_s=2.5) is True
    assert sent[-1] == {"url": "http://hooks.test/ok", "json": {"alerts": [{"cluster": 2}]}, "timeout": 2.5}
    assert post_alerts("http://hooks.test/ok", []) is True and len(sent) == 2


def test_cli_topics_on_a_csv_writes_json_and_posts_the_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app

    texts, labels = _tickets()
    times = _timed(texts, labels, spike="payslip")
    csv_path = tmp_path / "tickets.csv"
    lines = ["text,topic,created"] + [f"{x},{y},{z.isoformat()}" for x, y, z in zip(texts, labels, times, strict=True)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    posted: list[tuple[str, list[dict[str, Any]]]] = []
    monkeypatch.setattr(t, "post_alerts", lambda url, alerts, timeout_s=5.0: posted.append((url, list(alerts))) or True)
    out = tmp_path / "topics.json"
    args = ["topics", "--data", str(csv_path), "--text-column", "text", "--label-column", "topic"]
    args += ["--time-column", "created", "--clusters", "3", "--embedder", "none", "--json", str(out)]
    args += ["--now", NOW.isoformat(), "--webhook-url", "http://hooks.test/x", "--rca", str(tmp_path / "none")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["nmi"] > 0.8 and data["k"] == 3
    assert len(data["alerts"]) == 1 and data["webhook"]["delivered"] is True
    assert (
        posted and posted[0][0] == "http://hooks.test/x" and posted[0][1][0]["cluster"] == data["alerts"][0]["cluster"]
    )
    assert "ALERT" in result.output


def test_cli_refuses_bad_input(tmp_path: Path) -> None:
    from api.cli import app

    csv_path = tmp_path / "t.csv"
    csv_path.write_text("a,b\nx,y\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["topics"]).exit_code == 2
    missing = runner.invoke(app, ["topics", "--data", str(csv_path), "--text-column", "text", "--embedder", "none"])
    assert missing.exit_code == 2 and "no column text" in missing.output
    bad_k = runner.invoke(app, ["topics", "--data", str(csv_path), "--text-column", "a", "--clusters", "many"])
    assert bad_k.exit_code == 2


def test_recent_tickets_reads_the_store_redacted(tmp_path: Path) -> None:
    from agent.storage.tickets import TicketStore

    store = TicketStore(f"sqlite:///{tmp_path / 't.db'}")
    store.create_or_get(
        "generic", "d1", {"external_id": "1", "subject": "Payslip blank", "body": "mail me at ann@example.com"}
    )
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    store.create_or_get(
        "generic", "d2", {"external_id": "2", "subject": "SSO loop", "body": "safari", "created_at": old}
    )
    got = t.recent_tickets(store, days=30)
    assert sorted(x.text.split("\n")[0] for x in got) == ["Payslip blank", "SSO loop"]
    assert all("ann@example.com" not in x.text for x in got)
    sso = next(x for x in got if x.text.startswith("SSO"))
    assert abs((sso.at - datetime.fromisoformat(old)).total_seconds()) < 1
    assert t.recent_tickets(store, days=1, now=datetime.now(UTC) + timedelta(days=10)) == []


def test_cli_recent_days_clusters_the_stored_tickets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.settings import get_settings
    from agent.storage.tickets import open_database
    from api.cli import app

    url = f"sqlite:///{tmp_path / 'triage.db'}"
    store = open_database(url)
    texts, _ = _tickets(per_topic=10)
    recent = datetime.now(UTC) - timedelta(days=2)
    for i, text in enumerate(texts):
        store.create_or_get(
            "generic", f"d{i}", {"external_id": str(i), "subject": text, "body": "", "created_at": recent.isoformat()}
        )
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    monkeypatch.delenv("TRIAGE_ALERT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    try:
        out = tmp_path / "recent.json"
        args = ["topics", "--recent-days", "30", "--clusters", "3", "--embedder", "none", "--json", str(out)]
        result = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["n_tickets"] == len(texts) and data["k"] == 3
    assert sorted(c["last_week"] for c in data["clusters"]) == [10, 10, 10]
    assert data["alerts"] and data["webhook"] is None  # all new this week; no URL configured
