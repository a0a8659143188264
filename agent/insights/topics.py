"""Recurring issues -> root causes: cluster tickets, name each cluster, link it to the RCA document it
matches or propose it as a new root-cause candidate, and raise an alert when one cluster spikes.

The pipeline (`analyse`):

1. **Vectors** (`represent`): TF-IDF (words and bigrams, sublinear tf) reduced by truncated SVD to
   ``svd_dims`` and L2-normalised; with an embedder (knowledge.embeddings, ``encode(texts, "query")``)
   its normalised vectors are concatenated to the SVD ones, each block weighted so both count
   (``embed_weight``). No embedder: TF-IDF only (what the unit tests run).
2. **Clusters** (`cluster_vectors`): k-means (scikit-learn) on the vectors; more clusters than the
   topics a person would name (over-clustering keeps each cluster purer, and a root cause is narrow).
   ``clusters="auto"`` picks k without any label: ``sqrt(N / 4)`` (2..60; 39 for 6,000 tickets);
   ``clusters="silhouette"`` takes the best silhouette (cosine) over a grid around it, on a
   sample (on the IT tickets the silhouette keeps rising with k, so it lands on the grid's top).
   Optional self-training rounds (a linear classifier on the TF-IDF re-assigns every ticket) are
   off by default: no gain measured.
3. **Names** (`cluster_terms`): class-based TF-IDF (c-TF-IDF, BERTopic's weighting): a term's
   frequency in the cluster times ``log(1 + mean words per cluster / term frequency overall)``; the top
   terms name the cluster.
4. **Root causes** (`link_rca`): each RCA document (front matter ``type: rca``, knowledge/ingest.py)
   is compared with each cluster: cosine of the cluster centroid with the document's embedding
   (passage side) when there is an embedder, else TF-IDF cosine of the cluster's text with the
   document's. At or above ``link_threshold`` the cluster is linked to the document (its id, title
   and status open/workaround/fixed); below, it is a new root-cause candidate.
5. **Growth and alerts** (`growth_of`, `spike_alerts`): with ticket times, ``last_week`` counts the
   cluster's tickets in the 7 days up to ``now`` and ``baseline_weekly`` the mean per week over the
   ``baseline_weeks`` weeks before; ``growth = (last_week + 1) / (baseline_weekly + 1)``. Candidates
   are ranked by ``score = size * growth``. A cluster whose last week has at least ``spike_min``
   tickets and ``growth >= spike_ratio`` raises an alert (an incident forming across many tickets);
   `post_alerts` sends them to a webhook (a failure is logged, never raised).

With labels (`evaluate`) the report carries ``nmi`` and ``ari`` (sklearn.metrics); the labels are
never used to pick k or fit anything.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger("triage.topics")

Kind = Literal["query", "passage"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Sparse = Any  # a scipy.sparse CSR matrix (its stubs are too loose to check through)

MAX_CHARS = 512  # the embedder reads ~128 tokens anyway; TF-IDF gets the same text
WEEK = timedelta(days=7)


class TextEmbedder(Protocol):
    """What the clustering needs of knowledge.embeddings.Embedder (a fake in tests)."""

    def encode(self, texts: Sequence[str], kind: Kind) -> NDArray[np.float32]: ...


@dataclass(frozen=True)
class TopicsConfig:
    clusters: int | Literal["auto", "silhouette"] = "auto"
    svd_dims: int = 100
    embed_weight: float = 1.5  # weight of the embedding block against the TF-IDF-SVD block
    self_train_rounds: int = 0  # measured on the IT tickets' dev half: no gain, so off by default
    top_terms: int = 6
    examples: int = 3
    link_threshold: float | None = None  # None: per representation (LINK_THRESHOLDS)
    baseline_weeks: int = 4
    spike_ratio: float = 3.0
    spike_min: int = 5
    random_state: int = 0


# cosine at which a cluster counts as the RCA document's pattern: MiniLM cosines spread widely, e5's
# are compressed (unrelated texts score ~0.75), TF-IDF cosines are low for short texts
LINK_THRESHOLDS: dict[str, float] = {"tfidf": 0.12, "minilm": 0.5, "e5": 0.86, "embedding": 0.5}


@dataclass
class RcaDoc:
    id: str
    title: str
    status: str
    text: str


@dataclass
class Cluster:
    id: int
    size: int
    terms: list[str]
    examples: list[str]
    rca: dict[str, Any] | None = None  # {"id", "title", "status", "score"} when linked
    best_rca: dict[str, Any] | None = None  # the closest document, linked or not
    candidate: bool = True  # no RCA document matches: a new root-cause candidate
    last_week: int | None = None
    baseline_weekly: float | None = None
    growth: float = 1.0
    score: float = 0.0
    label_counts: dict[str, int] | None = None


@dataclass
class TopicsReport:
    n_tickets: int
    k: int
    representation: str
    seconds: float
    clusters: list[Cluster]
    candidates: list[int] = field(default_factory=list[int])  # cluster ids, best first
    alerts: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    silhouette: dict[str, float] | None = None  # k -> score when k was chosen automatically
    nmi: float | None = None
    ari: float | None = None
    assignments: list[int] = field(default_factory=list[int])

    def as_dict(self, with_assignments: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not with_assignments:
            data.pop("assignments")
        return data


# ---- vectors -----------------------------------------------------------------------------------
def tfidf_matrix(texts: Sequence[str]) -> tuple[Sparse, list[str]]:
    """Sublinear TF-IDF over words and bigrams (terms in fewer than 2 tickets or more than half
    dropped; relaxed for tiny inputs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    min_df = 2 if n >= 20 else 1
    max_df = 0.5 if n >= 20 else 1.0
    vec = TfidfVectorizer(min_df=min_df, max_df=max_df, sublinear_tf=True, ngram_range=(1, 2), max_features=50_000)
    matrix: Any = vec.fit_transform([t[:MAX_CHARS] for t in texts])
    return matrix.tocsr(), [str(t) for t in vec.get_feature_names_out()]


def _normalise(x: FloatArray) -> FloatArray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def represent(tfidf: Sparse, embeddings: NDArray[np.floating[Any]] | None, config: TopicsConfig) -> FloatArray:
    """The vectors k-means clusters: normalised TF-IDF-SVD, and the normalised embeddings next to it."""
    from sklearn.decomposition import TruncatedSVD

    dims = max(1, min(config.svd_dims, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
    blocks: list[FloatArray] = []
    if dims >= 1 and tfidf.shape[1] > 1:
        svd = TruncatedSVD(dims, random_state=config.random_state)
        blocks.append(_normalise(np.asarray(svd.fit_transform(tfidf), dtype=np.float64)))
    if embeddings is not None:
        blocks.append(config.embed_weight * _normalise(np.asarray(embeddings, dtype=np.float64)))
    if not blocks:
        return np.zeros((tfidf.shape[0], 1))
    return np.hstack(blocks)


# ---- clusters ----------------------------------------------------------------------------------
def auto_k(n: int) -> int:
    """k for `clusters="auto"`: sqrt(N / 4) within 2..60 (and at most N)."""
    return max(1, min(n, max(2, min(60, round(math.sqrt(n / 4))))))


def auto_k_grid(n: int) -> list[int]:
    """The k tried by `clusters="silhouette"`: around sqrt(N / 4), never more than N / 5 or 60."""
    if n < 10:
        return [max(1, min(2, n))]
    centre = math.sqrt(n / 4)
    top = max(2, min(60, n // 5))
    grid = sorted({max(2, min(top, round(centre * f))) for f in (0.5, 0.75, 1.0, 1.5)})
    return grid


def _kmeans(x: FloatArray, k: int, seed: int) -> IntArray:
    from sklearn.cluster import KMeans

    model = KMeans(k, n_init=3, random_state=seed)  # pyright: ignore[reportArgumentType]
    return np.asarray(model.fit_predict(x), dtype=np.int64)


def choose_k(x: FloatArray, seed: int = 0, sample: int = 3000) -> tuple[int, dict[str, float]]:
    """k with the best silhouette (cosine) over `auto_k_grid`, on at most `sample` rows: no labels."""
    from sklearn.metrics import silhouette_score

    n = x.shape[0]
    grid = auto_k_grid(n)
    if len(grid) == 1:
        return grid[0], {}
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=min(n, sample), replace=False)
    scores: dict[str, float] = {}
    for k in grid:
        labels = _kmeans(x[idx], k, seed)
        if len(set(labels.tolist())) < 2:
            continue
        scores[str(k)] = float(silhouette_score(x[idx], labels, metric="cosine"))
    if not scores:
        return grid[0], {}
    best = max(scores, key=lambda s: scores[s])
    return int(best), scores


def self_train(tfidf: Sparse, labels: IntArray, rounds: int, seed: int = 0) -> IntArray:
    """Re-assign every ticket by a linear classifier fitted on the current clusters, `rounds` times
    (stops early once nothing moves). Clusters that lose every ticket disappear."""
    from sklearn.linear_model import SGDClassifier

    current = labels
    for _ in range(rounds):
        if len(set(current.tolist())) < 2:
            break
        clf = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=20, tol=None, random_state=seed)  # pyright: ignore[reportArgumentType]
        clf.fit(tfidf, current)
        new = np.asarray(clf.predict(tfidf), dtype=np.int64)
        if np.array_equal(new, current):
            break
        current = new
    return current


def _relabel(labels: IntArray) -> IntArray:
    """Cluster ids 0..k-1 by decreasing size."""
    counts = Counter(labels.tolist())
    order = {c: i for i, (c, _) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}
    return np.array([order[c] for c in labels.tolist()], dtype=np.int64)


def cluster_vectors(x: FloatArray, tfidf: Sparse, config: TopicsConfig) -> tuple[IntArray, dict[str, float] | None]:
    """(cluster of each row, silhouette per k tried when k was chosen automatically)."""
    n = x.shape[0]
    scores: dict[str, float] | None = None
    if config.clusters == "silhouette":
        k, scores = choose_k(x, config.random_state)
    elif config.clusters == "auto":
        k = auto_k(n)
    else:
        k = config.clusters
    k = max(1, min(k, n))
    labels = np.zeros(n, dtype=np.int64) if k == 1 else _kmeans(x, k, config.random_state)
    if config.self_train_rounds > 0 and k > 1:
        labels = self_train(tfidf, labels, config.self_train_rounds, config.random_state)
    return _relabel(labels), scores


# ---- names -------------------------------------------------------------------------------------
def cluster_terms(tfidf_counts: Sparse, vocabulary: list[str], labels: IntArray, top: int) -> dict[int, list[str]]:
    """c-TF-IDF: each cluster's top terms, from a term-count matrix (rows = tickets)."""
    from scipy.sparse import csr_matrix as sparse

    ks = sorted(set(labels.tolist()))
    onehot = sparse((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(max(ks) + 1, len(labels)))
    per_cluster = np.asarray((onehot @ tfidf_counts).todense(), dtype=np.float64)  # clusters x terms
    tf = per_cluster / np.maximum(per_cluster.sum(axis=1, keepdims=True), 1e-12)
    freq = per_cluster.sum(axis=0)
    avg = per_cluster.sum() / max(1, len(ks))
    idf = np.log1p(avg / np.maximum(freq, 1e-12))
    weights = tf * idf
    names: dict[int, list[str]] = {}
    for c in ks:
        order = np.argsort(-weights[c])[:top]
        names[c] = [vocabulary[i] for i in order if weights[c, i] > 0]
    return names


# words every ticket's greeting or sign-off has: never a name for a cluster
GREETINGS = frozenset(
    {
        *("hi", "hello", "dear", "thanks", "thank", "regards", "best", "kind", "kindly", "cheers", "please"),
        *("pls", "team", "guys", "colleagues", "sir", "madam", "morning", "afternoon", "sent"),
    }
)


def count_matrix(texts: Sequence[str]) -> tuple[Sparse, list[str]]:
    """Word counts for c-TF-IDF (unigrams and bigrams in at least 2 tickets; English stop words and
    greetings dropped)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    min_df = 2 if len(texts) >= 20 else 1
    stop = sorted(ENGLISH_STOP_WORDS | GREETINGS)
    vec = CountVectorizer(min_df=min_df, ngram_range=(1, 2), stop_words=stop, max_features=50_000)
    matrix: Any
    try:
        matrix = vec.fit_transform([t[:MAX_CHARS] for t in texts])
    except ValueError:  # nothing left after stop words
        vec = CountVectorizer(min_df=1)
        matrix = vec.fit_transform([t[:MAX_CHARS] for t in texts])
    return matrix.tocsr(), [str(t) for t in vec.get_feature_names_out()]


# ---- root causes -------------------------------------------------------------------------------
_SECTION = re.compile(r"^##\s+(.+)$", re.MULTILINE)


def load_rca_docs(root: Path) -> list[RcaDoc]:
    """The RCA documents (type rca) under `root`: title and the Symptoms section (what tickets say),
    else the whole body. Unparseable files are skipped with a warning."""
    from knowledge.ingest import load_docs

    docs, errors = load_docs(root)
    for err in errors:
        log.warning("skipped %s", err)
    out: list[RcaDoc] = []
    for doc in docs:
        if doc.meta.type != "rca":
            continue
        body = doc.body
        parts = _SECTION.split(body)
        symptoms = ""
        for i in range(1, len(parts) - 1, 2):
            if parts[i].strip().lower().startswith("symptom"):
                symptoms = parts[i + 1]
        text = f"{doc.meta.title}\n{symptoms or body}"
        out.append(RcaDoc(id=doc.meta.id, title=doc.meta.title, status=str(doc.meta.status), text=text))
    return out


def link_rca(
    cluster_texts: dict[int, list[str]],
    centroids: dict[int, FloatArray] | None,
    docs: Sequence[RcaDoc],
    embedder: TextEmbedder | None,
) -> dict[int, tuple[RcaDoc, float] | None]:
    """Each cluster's closest RCA document and its cosine (None without documents): embedding
    cosines with an embedder and centroids, else TF-IDF cosines of the clusters' texts."""
    if not docs:
        return dict.fromkeys(cluster_texts)
    ids = sorted(cluster_texts)
    if embedder is not None and centroids is not None:
        doc_vecs = _normalise(np.asarray(embedder.encode([d.text[:2000] for d in docs], "passage"), dtype=np.float64))
        cl = _normalise(np.vstack([centroids[c] for c in ids]))
        sims = cl @ doc_vecs.T
    else:
        from sklearn.feature_extraction.text import TfidfVectorizer

        joined = [" ".join(cluster_texts[c]) for c in ids]
        vec = TfidfVectorizer(sublinear_tf=True, stop_words="english")
        m: Any = vec.fit_transform(joined + [d.text for d in docs])
        a = m[: len(ids)]
        b = m[len(ids) :]
        sims = np.asarray((a @ b.T).todense(), dtype=np.float64)
    out: dict[int, tuple[RcaDoc, float] | None] = {}
    for row, c in enumerate(ids):
        j = int(np.argmax(sims[row]))
        out[c] = (docs[j], float(sims[row, j]))
    return out


# ---- growth and alerts -------------------------------------------------------------------------
def growth_of(times: Sequence[datetime | None], now: datetime, baseline_weeks: int) -> tuple[int, float, float]:
    """(tickets in the last 7 days, mean tickets per week over the `baseline_weeks` before, growth)."""
    last = 0
    base = 0
    start_base = now - WEEK * (1 + baseline_weeks)
    for t in times:
        if t is None or t > now:
            continue
        if t > now - WEEK:
            last += 1
        elif t > start_base:
            base += 1
    weekly = base / max(1, baseline_weeks)
    return last, weekly, (last + 1) / (weekly + 1)


def spike_alerts(clusters: Sequence[Cluster], config: TopicsConfig, now: datetime) -> list[dict[str, Any]]:
    """One alert per cluster whose last week is a spike against its baseline weeks."""
    alerts: list[dict[str, Any]] = []
    for c in clusters:
        if c.last_week is None or c.baseline_weekly is None:
            continue
        if c.last_week >= config.spike_min and c.growth >= config.spike_ratio:
            alerts.append(
                {
                    "kind": "topic_spike",
                    "cluster": c.id,
                    "terms": c.terms,
                    "last_week": c.last_week,
                    "baseline_weekly": round(c.baseline_weekly, 2),
                    "growth": round(c.growth, 2),
                    "rca": c.rca["id"] if c.rca else None,
                    "examples": c.examples,
                    "at": now.isoformat(),
                    "message": f"{c.last_week} tickets about {', '.join(c.terms[:3]) or 'one topic'} in the last "
                    f"7 days against {c.baseline_weekly:.1f} a week before ({c.growth:.1f}x)",
                }
            )
    return alerts


def post_alerts(url: str, alerts: Sequence[dict[str, Any]], timeout_s: float = 5.0) -> bool:
    """POST ``{"alerts": [...]}`` as JSON to `url`; True when it answered 2xx. Never raises: a failure
    (refused, timed out, non-2xx) is logged."""
    import httpx

    if not alerts:
        return True
    try:
        response = httpx.post(url, json={"alerts": list(alerts)}, timeout=timeout_s)
    except httpx.HTTPError as exc:
        log.warning("alert webhook %s failed: %s", url, exc)
        return False
    if response.is_success:
        return True
    log.warning("alert webhook %s answered %s", url, response.status_code)
    return False


# ---- the pipeline ------------------------------------------------------------------------------
def representation_name(has_vectors: bool, spec: str | None) -> str:
    """tfidf, or which embedder the vectors came from (minilm, e5, embedding)."""
    if not has_vectors:
        return "tfidf"
    if spec and "e5" in spec:
        return "e5"
    if spec and "minilm" in spec.lower():
        return "minilm"
    return "embedding"


def analyse(
    texts: Sequence[str],
    *,
    embedder: TextEmbedder | None = None,
    embedder_spec: str | None = None,
    embeddings: NDArray[np.floating[Any]] | None = None,
    times: Sequence[datetime | None] | None = None,
    now: datetime | None = None,
    rca_docs: Sequence[RcaDoc] = (),
    labels: Sequence[str] | None = None,
    config: TopicsConfig | None = None,
) -> TopicsReport:
    """Cluster `texts`, name, link, rank and alert (module doc). `embeddings` (precomputed, one row per
    text) skips the embedder's encoding of the tickets; the embedder still embeds the RCA documents."""
    config = config or TopicsConfig()
    started = time.perf_counter()
    texts = [t or "" for t in texts]
    n = len(texts)
    if n == 0:
        return TopicsReport(0, 0, representation_name(embedder is not None, embedder_spec), 0.0, [])
    tfidf, _ = tfidf_matrix(texts)
    vectors = embeddings
    if vectors is None and embedder is not None:
        vectors = embedder.encode([t[:MAX_CHARS] for t in texts], "query")
    x = represent(tfidf, vectors, config)
    assigned, silhouette = cluster_vectors(x, tfidf, config)

    counts, vocab = count_matrix(texts)
    names = cluster_terms(counts, vocab, assigned, config.top_terms)
    ids = sorted(set(assigned.tolist()))
    members = {c: np.flatnonzero(assigned == c) for c in ids}
    centroids: dict[int, FloatArray] | None = None
    if vectors is not None:
        emb = _normalise(np.asarray(vectors, dtype=np.float64))
        centroids = {c: emb[members[c]].mean(axis=0) for c in ids}
    rep = representation_name(vectors is not None, embedder_spec)
    # the documents are embedded only by the embedder the tickets were: else TF-IDF compares them
    by_embedding = embedder is not None and centroids is not None
    threshold = config.link_threshold
    if threshold is None:
        threshold = LINK_THRESHOLDS[rep if by_embedding else "tfidf"]
    links = link_rca(
        {c: [texts[int(i)] for i in members[c][:200]] for c in ids},
        centroids if by_embedding else None,
        rca_docs,
        embedder if by_embedding else None,
    )

    now = now or datetime.now().astimezone()
    clusters: list[Cluster] = []
    for c in ids:
        idx = members[c]
        central = _central_examples(x, idx, config.examples)
        cl = Cluster(id=c, size=len(idx), terms=names.get(c, []), examples=[texts[i][:200] for i in central])
        best = links.get(c)
        if best is not None:
            doc, score = best
            info = {"id": doc.id, "title": doc.title, "status": doc.status, "score": round(score, 4)}
            cl.best_rca = info
            if score >= threshold:
                cl.rca = info
                cl.candidate = False
        if times is not None:
            last, weekly, growth = growth_of([times[int(i)] for i in idx], now, config.baseline_weeks)
            cl.last_week, cl.baseline_weekly, cl.growth = last, weekly, growth
        cl.score = round(cl.size * cl.growth, 3)
        if labels is not None:
            cl.label_counts = dict(Counter(labels[int(i)] for i in idx).most_common(5))
        clusters.append(cl)

    candidates = [c.id for c in sorted(clusters, key=lambda c: (-c.score, -c.size, c.id)) if c.candidate]
    alerts = spike_alerts(clusters, config, now) if times is not None else []
    report = TopicsReport(
        n_tickets=n,
        k=len(ids),
        representation=rep,
        seconds=0.0,
        clusters=clusters,
        candidates=candidates,
        alerts=alerts,
        silhouette=silhouette,
        assignments=assigned.tolist(),
    )
    if labels is not None:
        report.nmi, report.ari = evaluate(labels, assigned)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _central_examples(x: FloatArray, idx: IntArray, n: int) -> list[int]:
    """The `n` members closest to their cluster's centroid."""
    if len(idx) == 0:
        return []
    sub = x[idx]
    centre = sub.mean(axis=0)
    order = np.argsort(np.linalg.norm(sub - centre, axis=1))[:n]
    return [int(idx[i]) for i in order]


def evaluate(labels: Sequence[str], assigned: Sequence[int] | IntArray) -> tuple[float, float]:
    """(NMI, ARI) of the clusters against the labels."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    truth = list(labels)
    pred = list(np.asarray(assigned).tolist())
    return round(float(normalized_mutual_info_score(truth, pred)), 4), round(float(adjusted_rand_score(truth, pred)), 4)


# ---- the service's own tickets -----------------------------------------------------------------
@dataclass
class StoredTicket:
    id: str
    text: str  # subject and body as the agent read them: PII masked (agent/graph/redaction)
    at: datetime  # created in its own system, else when our intake stored it
    category: str | None = None  # the triage's category, when it was triaged


def recent_tickets(store: Any, days: int, now: datetime | None = None) -> list[StoredTicket]:
    """Tickets the service stored in the last `days` days (agent.storage.tickets.TicketStore), their
    text redacted the way the graph's redact node does before any model sees it."""
    from sqlalchemy import select

    from agent.domain import TicketResult
    from agent.graph.redaction import redact
    from agent.storage.tickets import TicketRow

    now = now or datetime.now().astimezone()
    since = now - timedelta(days=days)
    out: list[StoredTicket] = []
    with store.session() as s:
        rows = s.scalars(select(TicketRow).where(TicketRow.created_at >= since).order_by(TicketRow.created_at))
        for row in rows:
            payload: dict[str, Any] = row.payload or {}
            raw = f"{payload.get('subject') or ''}\n\n{payload.get('body') or ''}".strip()
            text, _ = redact(raw)
            at = _time(payload.get("created_at")) or _time(row.created_at) or now
            category: str | None = None
            try:
                result = TicketResult.stored(row.result)
                category = result.triage.category.value if result else None
            except ValueError:  # an old or partial result (pydantic's ValidationError): the text matters here
                category = None
            out.append(StoredTicket(id=row.id, text=text, at=at, category=category))
    return [t for t in out if t.at >= since]


def _time(value: object) -> datetime | None:
    from datetime import UTC

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            got = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return got if got.tzinfo else got.replace(tzinfo=UTC)
    return None
