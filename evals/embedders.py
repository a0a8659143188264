"""Embedders side by side on a retrieval set: recall@1/@5 and MRR per language (dense alone and
hybrid at several dense weights), the distribution of cosine scores (what the policy's thresholds
read), and optionally the classifier's frozen-feature accuracy. No LLM, no graph: the knowledge
store's own search on the text the retrieve node searches (subject + body, redacted).

    .venv/bin/python -m evals.embedders --kb knowledge/demo --test evals/datasets/smoke.jsonl
    .venv/bin/python -m evals.embedders --kb $D/knowledge_base.csv --test $D/cases_dev.csv --weights 1
    .venv/bin/python -m evals.embedders --classifier-data evals/datasets/history.jsonl

Scores (all dense cosines of the query vector with a document's best chunk):
- ``related``: the gold document's; ``unrelated``: every other document's, for the same queries;
- ``top_right`` / ``top_wrong``: the best document's when it is / is not gold (answerable cases);
- ``top_no_answer``: the best document's for cases no document answers (gold handoff, no gold);
- ``margin_right`` / ``margin_wrong``: best minus second best, same split.
Percentiles p5/p25/p50/p75/p95, and ``auc``: the chance a gold document outscores an unrelated one
for the same query.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agent.graph.redaction import redact
from agent.graph.textutil import detect_language
from evals.resolve.data import Case, KnowledgeBase, load_cases, load_kb
from knowledge.embeddings import E5_SMALL, MINILM, Embedder, get_embedder
from knowledge.store import TITLE, KnowledgeStore

PCTS = (5, 25, 50, 75, 95)


def query_text(case: Case) -> str:
    """What the retrieve node searches: the redacted subject and body."""
    return redact(f"{case.subject}\n\n{case.body}".strip())[0]


def case_language(case: Case, text: str) -> str:
    return case.language or detect_language(text)[0]


def open_store(kb: KnowledgeBase, embedder: Embedder, data_dir: Path) -> KnowledgeStore:
    """The KB in a Chroma of its own under `data_dir` (one collection per embedder, reused while the
    KB is unchanged)."""
    store = KnowledgeStore(data_dir / "eval-embedders" / kb.digest[:16] / "chroma", embedder, "kb")
    report = store.ingest_docs(kb.docs, kb.errors, prune=True)
    if report.errors:
        raise SystemExit(f"{kb.path}: invalid documents: {report.errors[:3]}")
    return store


def rank_metrics(ranked: list[list[str]], gold: list[set[str]]) -> dict[str, float | int]:
    n = len(ranked)
    r1 = sum(bool(set(r[:1]) & g) for r, g in zip(ranked, gold, strict=True))
    r5 = sum(bool(set(r[:5]) & g) for r, g in zip(ranked, gold, strict=True))
    rr = 0.0
    for r, g in zip(ranked, gold, strict=True):
        rank = next((i for i, d in enumerate(r, 1) if d in g), None)
        rr += 1.0 / rank if rank else 0.0
    return {"cases": n, "recall_at_1": round(r1 / n, 3), "recall_at_5": round(r5 / n, 3), "mrr": round(rr / n, 3)}


def percentiles(values: Sequence[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    arr = np.asarray(values, dtype=np.float64)
    return {"n": len(values), **{f"p{p}": round(float(np.percentile(arr, p)), 3) for p in PCTS}}


def doc_cosines(store: KnowledgeStore, queries: NDArray[np.float32]) -> tuple[list[str], NDArray[np.float32]]:
    """(doc ids, (queries x docs) best body chunk cosine: `Hit.score`) over the whole collection
    (title vectors, stored for cross-lingual embedders, left out)."""
    got: Any = store.collection.get(where={"part": {"$ne": TITLE}}, include=["embeddings", "metadatas"])
    chunks = np.asarray(got["embeddings"], dtype=np.float32)
    chunks /= np.maximum(np.linalg.norm(chunks, axis=1, keepdims=True), 1e-9)
    owners = [str(m["doc_id"]) for m in got["metadatas"]]
    docs = sorted(set(owners))
    col = {d: i for i, d in enumerate(docs)}
    sims = queries @ chunks.T
    out = np.full((len(queries), len(docs)), -1.0, dtype=np.float32)
    for j, d in enumerate(owners):
        out[:, col[d]] = np.maximum(out[:, col[d]], sims[:, j])
    return docs, out


def score_distribution(docs: list[str], cos: NDArray[np.float32], cases: list[Case]) -> dict[str, Any]:
    related: list[float] = []
    unrelated: list[float] = []
    split: dict[str, list[float]] = {k: [] for k in ("top_right", "top_wrong", "top_no_answer")}
    margins: dict[str, list[float]] = {"margin_right": [], "margin_wrong": []}
    wins = pairs = 0
    for row, case in zip(cos, cases, strict=True):
        order = np.argsort(-row)
        top, second = float(row[order[0]]), float(row[order[1]]) if len(order) > 1 else -1.0
        gold = set(case.gold_doc_ids)
        if not gold or case.should_handoff:
            split["top_no_answer"].append(top)
            continue
        g = [float(row[i]) for i, d in enumerate(docs) if d in gold]
        o = [float(row[i]) for i, d in enumerate(docs) if d not in gold]
        related.append(max(g))
        unrelated.extend(o)
        wins += sum(max(g) > y for y in o)
        pairs += len(o)
        right = docs[int(order[0])] in gold
        split["top_right" if right else "top_wrong"].append(top)
        margins["margin_right" if right else "margin_wrong"].append(top - second)
    out: dict[str, Any] = {"related": percentiles(related), "unrelated": percentiles(unrelated)}
    out |= {k: percentiles(v) for k, v in split.items()} | {k: percentiles(v) for k, v in margins.items()}
    out["auc"] = round(wins / pairs, 3) if pairs else None
    return out


def measure(
    spec: str, kb: KnowledgeBase, cases: list[Case], weights: Sequence[float], data_dir: Path, threads: int | None
) -> dict[str, Any]:
    embedder = get_embedder(spec, threads)
    store = open_store(kb, embedder, data_dir)
    texts = [query_text(c) for c in cases]
    langs = [case_language(c, t) for c, t in zip(cases, texts, strict=True)]
    with_gold = [i for i, c in enumerate(cases) if c.gold_doc_ids]
    runs: dict[str, dict[str, Any]] = {}
    for mode, weight in [("dense", 1.0), *(("hybrid", w) for w in weights)]:
        ranked = [[h.doc_id for h in store.search(texts[i], k=5, mode=mode, dense_weight=weight)] for i in with_gold]
        gold = [set(cases[i].gold_doc_ids) for i in with_gold]
        by_lang: dict[str, Any] = {"all": rank_metrics(ranked, gold)}
        for lang in sorted({langs[i] for i in with_gold}):
            keep = [j for j, i in enumerate(with_gold) if langs[i] == lang]
            by_lang[lang] = rank_metrics([ranked[j] for j in keep], [gold[j] for j in keep])
        runs[mode if mode == "dense" else f"hybrid w={weight:g}"] = by_lang
    docs, cos = doc_cosines(store, embedder.encode_queries(texts))
    scores = {"all": score_distribution(docs, cos, cases)}
    for lang in sorted(set(langs)):
        keep = [i for i, x in enumerate(langs) if x == lang]
        scores[lang] = score_distribution(docs, cos[keep], [cases[i] for i in keep])
    return {"spec": spec, "identity": embedder.identity.describe(), "retrieval": runs, "scores": scores}


def classifier_features(spec: str, data: Path, threads: int | None, folds: int = 5) -> dict[str, Any]:
    """Category accuracy of a logistic regression on the frozen sentence embeddings alone (the
    trained classifier's features before fine-tuning and tf-idf), k-fold cross-validated, per language."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [redact(f"{r['subject']}\n\n{r['body']}".strip())[0] for r in rows]
    labels = np.asarray([str(r["category"]) for r in rows])
    langs = np.asarray([str(r.get("language") or detect_language(t)[0]) for r, t in zip(rows, texts, strict=True)])
    x = get_embedder(spec, threads).encode_queries(texts)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    pred = np.asarray(cross_val_predict(LogisticRegression(C=10.0, max_iter=2000), x, labels, cv=cv))
    hit = np.asarray(pred == labels, dtype=np.float64)
    out: dict[str, Any] = {"spec": spec, "rows": len(rows), "folds": folds}
    out["accuracy"] = {"all": round(float(hit.mean()), 3)}
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        out["accuracy"][f"{lang} ({int(m.sum())})"] = round(float(hit[m].mean()), 3)
    return out


def format_run(r: dict[str, Any]) -> str:
    lines = [f"== {r['identity']}"]
    for name, by_lang in r["retrieval"].items():
        cells = "; ".join(
            f"{lang} ({m['cases']}) r@1 {m['recall_at_1']:.2f} r@5 {m['recall_at_5']:.2f} MRR {m['mrr']:.2f}"
            for lang, m in by_lang.items()
        )
        lines.append(f"  {name:14} {cells}")
    for lang, dist in r["scores"].items():
        lines.append(f"  cosines, {lang} (auc {dist['auc']}):")
        for key, p in dist.items():
            if key == "auc":
                continue
            body = " ".join(f"p{q} {p[f'p{q}']:.3f}" for q in PCTS) if p["n"] else "-"
            lines.append(f"    {key:14} n={p['n']:<6} {body}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.embedders", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--kb", type=Path)
    ap.add_argument("--test", type=Path)
    ap.add_argument("--embedder", action="append", help=f"spec (repeatable; default {MINILM} and {E5_SMALL})")
    ap.add_argument("--weights", type=float, nargs="*", default=[1.0, 0.25], help="hybrid dense weights to try")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--data-dir", type=Path, help="where the eval Chroma goes (default: a temporary directory)")
    ap.add_argument("--classifier-data", type=Path, help="labelled tickets (history.jsonl): frozen-feature accuracy")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    specs: list[str] = args.embedder or [MINILM, E5_SMALL]
    out: dict[str, Any] = {"runs": [], "classifier": []}
    with tempfile.TemporaryDirectory(prefix="eval-embedders-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if args.kb and args.test:
            kb = load_kb(args.kb)
            cases = load_cases(args.test, kb, args.limit)
            out |= {"kb": str(args.kb), "test": str(args.test), "cases": len(cases)}
            for spec in specs:
                run = measure(spec, kb, cases, args.weights, data_dir, args.threads)
                out["runs"].append(run)
                print(format_run(run), flush=True)
        if args.classifier_data:
            for spec in specs:
                res = classifier_features(spec, args.classifier_data, args.threads)
                out["classifier"].append(res)
                print(f"== classifier features {spec}: {res['accuracy']} ({res['folds']}-fold CV)", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
