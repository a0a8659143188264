"""Datasets for the auto-resolution eval: a knowledge base plus test cases with gold answers.

`load_kb(path)` reads a knowledge base in any of these shapes (sniffed from the file, not its name):
- a directory (or one file) of our markdown docs with front matter (`knowledge/demo`);
- JSONL with `id` or `filename`, `text` and optional `title`, `category`, `language`
  (WixQA `kb_corpus.jsonl`, TechQA `kb_corpus.jsonl`);
- CSV with `kb_id, kb_question, kb_answer` (RuTube FAQ): one doc per FAQ entry;
- CSV with `instruction, intent, response` (Bitext): one doc per intent, its reference response.

`load_cases(path, kb)` reads test cases:
- our ticket JSONL (`subject`, `body`, `gold.outcome`, `gold.doc_ids`: `evals/datasets/smoke.jsonl`);
- JSONL with `question` plus `article_ids` (WixQA) or `contexts[].filename` and `is_impossible`
  (TechQA), or the generic `gold_doc_ids` / `answerable` / `intent`;
- CSV with `user_question, kb_question` (RuTube cases; gold = the FAQ entries with that question);
- CSV with `instruction, intent` (Bitext; gold = the intent's doc).
Every problem raises `ResolveDataError` naming the file, the line and what to fix.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.graph.textutil import detect_language
from knowledge.ingest import Doc, DocError, DocMeta, load_docs

csv.field_size_limit(10_000_000)

_SAFE_ID = re.compile(r"[^A-Za-z0-9_.\-]+")


class ResolveDataError(ValueError):
    """A knowledge base or test file the eval cannot use; says where and why."""


@dataclass
class Case:
    """One test ticket and what a right answer looks like."""

    id: str
    subject: str
    body: str
    gold_doc_ids: list[str] = field(default_factory=list)
    answerable: bool = True
    # our own sets say what should happen (auto_resolve | suggest | handoff); others leave it None
    gold_outcome: str | None = None
    intent: str | None = None
    language: str | None = None
    reference_answer: str | None = None

    @property
    def should_handoff(self) -> bool:
        """Unanswerable or out of scope: the right outcome is a human."""
        return not self.answerable or self.gold_outcome == "handoff"


@dataclass
class KnowledgeBase:
    path: Path
    docs: list[Doc]
    errors: list[DocError] = field(default_factory=list)
    kind: str = "markdown"

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for d in sorted(self.docs, key=lambda d: d.meta.id):
            h.update(f"{d.meta.id}:{d.content_hash}\n".encode())
        return h.hexdigest()

    @property
    def categories(self) -> list[str]:
        return sorted({d.meta.category for d in self.docs})

    def ids_by_title(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for d in self.docs:
            out.setdefault(_norm_title(d.meta.title), []).append(d.meta.id)
        return out


def _norm_title(t: str) -> str:
    return re.sub(r"\s+", " ", t.replace("\u200b", "")).strip().lower()


def safe_id(raw: str) -> str:
    """A document id our store accepts (letters, digits, '.', '_', '-')."""
    s = _SAFE_ID.sub("-", raw.strip()).strip("-._")
    return s or hashlib.sha256(raw.encode()).hexdigest()[:12]


def corpus_language(texts: list[str]) -> str:
    """The language of a corpus from a sample of it: a short Cyrillic text alone cannot tell
    Russian from Ukrainian, a few dozen together can."""
    return detect_language(" ".join(texts[:200]))[0]


def _doc(
    doc_id: str,
    title: str,
    text: str,
    source: str,
    category: str = "general",
    language: str | None = None,
    corpus: str = "en",
) -> Doc:
    lang, conf = detect_language(text)
    lang = language or (corpus if conf <= 0.55 or lang == "other" else lang)
    meta = DocMeta(
        id=doc_id,
        title=title.strip()[:300] or doc_id,
        type="kb",
        product="general",
        category=category or "general",
        language=lang if lang in ("en", "uk", "ru") else "en",
        auto_resolvable=True,
    )
    digest = hashlib.sha256(f"{meta.model_dump_json()}\n{text}".encode()).hexdigest()
    return Doc(meta=meta, body=text.strip(), path=source, content_hash=digest)


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ResolveDataError(f"{path}:{n}: not valid JSON: {exc}") from exc
            if not isinstance(row, dict):
                raise ResolveDataError(f"{path}:{n}: each line must be a JSON object")
            yield n, row


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _title_and_text(text: str) -> tuple[str, str]:
    """TechQA texts start 'Title: ...'; WixQA texts start with the title line."""
    first = text.strip().partition("\n")[0]
    title = first.removeprefix("Title:").strip()
    title = re.sub(r"\s+-\s+United States$", "", title)
    return title, text


def load_kb(path: Path) -> KnowledgeBase:
    if not path.exists():
        raise ResolveDataError(f"{path} does not exist; pass a knowledge directory or a JSONL/CSV file")
    if path.is_dir() or path.suffix == ".md":
        docs, errors = load_docs(path)
        if not docs:
            raise ResolveDataError(f"{path}: no markdown documents with front matter found")
        return KnowledgeBase(path, docs, errors, "markdown")
    if path.suffix == ".jsonl":
        docs: list[Doc] = []
        seen: set[str] = set()
        rows = list(_jsonl(path))
        corpus = corpus_language([str(r.get("text") or "") for _, r in rows])
        for n, row in rows:
            raw_id = row.get("id") or row.get("doc_id") or row.get("filename")
            text = row.get("text")
            if not raw_id or not isinstance(text, str) or not text.strip():
                raise ResolveDataError(f"{path}:{n}: a KB line needs 'id' (or 'filename') and a non-empty 'text'")
            doc_id = safe_id(str(raw_id))
            if doc_id in seen:
                raise ResolveDataError(f"{path}:{n}: duplicate document id {doc_id!r}")
            seen.add(doc_id)
            title = str(row.get("title") or "") or _title_and_text(text)[0]
            docs.append(
                _doc(
                    doc_id,
                    title,
                    text,
                    f"{path}:{n}",
                    str(row.get("category") or "general"),
                    row.get("language"),
                    corpus,
                )
            )
        if not docs:
            raise ResolveDataError(f"{path}: no documents")
        return KnowledgeBase(path, docs, [], "jsonl")
    if path.suffix == ".csv":
        cols, rows = _csv(path)
        if {"kb_id", "kb_question", "kb_answer"} <= set(cols):  # RuTube FAQ
            corpus = corpus_language([f"{r['kb_question']} {r['kb_answer']}" for r in rows])
            docs = [
                _doc(
                    f"FAQ-{safe_id(r['kb_id'])}",
                    r["kb_question"],
                    f"{r['kb_question']}\n\n{r['kb_answer']}",
                    f"{path}:{i + 2}",
                    r.get("class_1") or "general",
                    corpus=corpus,
                )
                for i, r in enumerate(rows)
                if r["kb_answer"].strip()
            ]
            return KnowledgeBase(path, docs, [], "faq_csv")
        if {"instruction", "intent", "response"} <= set(cols):  # Bitext: a reference response per intent
            by_intent: dict[str, dict[str, str]] = {}
            for r in rows:
                by_intent.setdefault(r["intent"], r)
            docs = [
                _doc(
                    safe_id(intent),
                    intent.replace("_", " "),
                    r["response"],
                    f"{path}:intent={intent}",
                    (r.get("category") or "general").lower(),
                    "en",
                )
                for intent, r in sorted(by_intent.items())
            ]
            return KnowledgeBase(path, docs, [], "intent_csv")
        raise ResolveDataError(
            f"{path}: unknown CSV knowledge base (columns {', '.join(cols)}); expected kb_id,kb_question,kb_answer "
            "or instruction,intent,response"
        )
    raise ResolveDataError(f"{path}: unknown knowledge base format; use a directory of .md docs, .jsonl or .csv")


def _split_question(q: str) -> tuple[str, str]:
    first, _, rest = q.strip().partition("\n")
    if rest.strip() and len(first) <= 200:
        return first.strip(), rest.strip()
    return "", q.strip()


def load_cases(path: Path, kb: KnowledgeBase, limit: int | None = None) -> list[Case]:
    if not path.is_file():
        raise ResolveDataError(f"{path} does not exist or is not a file")
    known = {d.meta.id for d in kb.docs}
    cases: list[Case] = []
    if path.suffix == ".jsonl":
        for n, row in _jsonl(path):
            cases.append(_case_from_json(path, n, row))
            if limit is not None and len(cases) >= limit:
                break
    elif path.suffix == ".csv":
        cols, rows = _csv(path)
        if {"user_question", "kb_question"} <= set(cols):
            by_title = kb.ids_by_title()
            for i, r in enumerate(rows):
                gold = by_title.get(_norm_title(r["kb_question"]), [])
                cases.append(
                    Case(
                        id=f"case-{r.get('case_id') or i + 2}",
                        subject="",
                        body=r["user_question"].replace("\u200b", "").strip(),
                        gold_doc_ids=gold,
                        answerable=bool(gold),
                        intent=r.get("class_2") or None,
                        reference_answer=r.get("agent_answer") or r.get("kb_answer") or None,
                    )
                )
                if limit is not None and len(cases) >= limit:
                    break
        elif {"instruction", "intent"} <= set(cols):
            for i, r in enumerate(rows):
                cases.append(
                    Case(
                        id=f"row-{i + 2}",
                        subject="",
                        body=r["instruction"].strip(),
                        gold_doc_ids=[safe_id(r["intent"])],
                        intent=r["intent"],
                        reference_answer=r.get("response") or None,
                    )
                )
                if limit is not None and len(cases) >= limit:
                    break
        else:
            raise ResolveDataError(
                f"{path}: unknown CSV test set (columns {', '.join(cols)}); expected user_question,kb_question "
                "or instruction,intent"
            )
    else:
        raise ResolveDataError(f"{path}: unknown test set format; use .jsonl or .csv")
    if not cases:
        raise ResolveDataError(f"{path}: no test cases")
    for c in cases:
        unknown = [d for d in c.gold_doc_ids if d not in known]
        if unknown and len(unknown) == len(c.gold_doc_ids) and c.answerable:
            raise ResolveDataError(
                f"{path}: case {c.id}: gold document(s) {', '.join(unknown[:3])} are not in the knowledge base "
                f"{kb.path}; is this the right --kb?"
            )
        c.gold_doc_ids = with_translations([d for d in c.gold_doc_ids if d in known], kb.docs)
    return cases


def translation_groups(docs: list[Doc]) -> dict[str, str]:
    """doc id -> the id of the document it translates (front matter `translation_of`), or its own id."""
    out: dict[str, str] = {}
    for d in docs:
        original = getattr(d.meta, "translation_of", None) or _front_matter_field(d.path, "translation_of")
        out[d.meta.id] = str(original) if original else d.meta.id
    return out


def _front_matter_field(path: str, name: str) -> object:
    """A front matter field of a markdown document that `DocMeta` does not keep (None otherwise)."""
    p = Path(path)
    if p.suffix != ".md" or not p.is_file():
        return None
    m = re.match(r"---\n(.*?)\n---", p.read_text(encoding="utf-8").replace("\r\n", "\n"), re.S)
    try:
        data = yaml.safe_load(m.group(1)) if m else None
    except yaml.YAMLError:
        return None
    return data.get(name) if isinstance(data, dict) else None


def with_translations(gold: list[str], docs: list[Doc]) -> list[str]:
    """`gold` plus every translation of a gold document (and the original a gold translation
    translates): the same article in the ticket's own language answers it as well."""
    groups = translation_groups(docs)
    wanted = {groups.get(g, g) for g in gold}
    return [*gold, *sorted(d for d, g in groups.items() if g in wanted and d not in gold)]


def _case_from_json(path: Path, n: int, row: dict[str, Any]) -> Case:
    rid = str(row.get("id") or row.get("external_id") or n)
    if "subject" in row and "body" in row:  # our ticket format
        gold = row.get("gold") or {}
        outcome = gold.get("outcome")
        docs = [safe_id(str(d)) for d in gold.get("doc_ids") or row.get("gold_doc_ids") or []]
        return Case(
            id=rid,
            subject=str(row["subject"]),
            body=str(row["body"]),
            gold_doc_ids=docs,
            answerable=bool(docs) and outcome != "handoff" if outcome else bool(row.get("answerable", bool(docs))),
            gold_outcome=outcome,
            intent=gold.get("category"),
            language=row.get("language"),
        )
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ResolveDataError(f"{path}:{n}: a test line needs 'question' (or 'subject' and 'body')")
    if "article_ids" in row:  # WixQA
        docs = [safe_id(str(d)) for d in row["article_ids"]]
    elif "contexts" in row:  # TechQA
        docs = [safe_id(str(c.get("filename") or c.get("id"))) for c in row["contexts"] or [] if isinstance(c, dict)]
    else:
        docs = [safe_id(str(d)) for d in row.get("gold_doc_ids") or []]
    answerable = not bool(row["is_impossible"]) if "is_impossible" in row else bool(row.get("answerable", bool(docs)))
    subject, body = _split_question(question)
    answer = row.get("answer")
    return Case(
        id=rid,
        subject=subject,
        body=body,
        gold_doc_ids=docs if answerable else [],
        answerable=answerable and bool(docs),
        intent=row.get("intent"),
        language=row.get("language"),
        reference_answer=answer if isinstance(answer, str) and answer != "-" else None,
    )
