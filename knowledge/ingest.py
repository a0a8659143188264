"""Markdown documents with YAML front matter -> validated docs -> chunks.

Front matter fields: id, title, type (kb|rca), product, category, language, auto_resolvable,
action, status (rca docs: open|workaround|fixed), translation_of (a translation's original; the
translation's id is `<original>.<language>`). Chunks follow `## ` sections, merged or split to
stay near `chunk_chars`; every chunk carries the title so it embeds with its context.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError, field_validator, model_validator

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)


class DocError(ValueError):
    """A document that cannot be ingested, with the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DocMeta(BaseModel):
    id: str
    title: str
    type: Literal["kb", "rca"]
    product: str = "general"
    category: str = "other"
    language: str = "en"
    auto_resolvable: bool = False
    action: str = "none"
    status: Literal["open", "workaround", "fixed"] | None = None
    # a translation of another document: its id is `<that id>.<language>` (KB-009.uk translates KB-009);
    # search returns the article once, under the original's id, whichever version matched
    translation_of: str | None = None

    @field_validator("id")
    @classmethod
    def _id_safe(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", v):
            raise ValueError("id must be letters, digits, '.', '_' or '-'")
        return v

    @model_validator(mode="after")
    def _translation_id(self) -> DocMeta:
        if self.translation_of and self.id != f"{self.translation_of}.{self.language}":
            raise ValueError(f"a translation's id is '<original id>.<language>': {self.translation_of}.{self.language}")
        return self


class Doc(BaseModel):
    meta: DocMeta
    body: str
    path: str
    content_hash: str


class Chunk(BaseModel):
    id: str
    doc_id: str
    text: str
    index: int


def parse_doc(path: Path) -> Doc:
    raw = path.read_text(encoding="utf-8")
    m = _FRONT.match(raw.replace("\r\n", "\n"))
    if not m:
        raise DocError(path, "no YAML front matter (the file must start with '---' and a closing '---')")
    try:
        data = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocError(path, f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DocError(path, "front matter must be a mapping of field: value")
    try:
        meta = DocMeta.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise DocError(path, f"front matter: {fields}") from exc
    if meta.type == "rca" and meta.status is None:
        raise DocError(path, "rca documents need a status: open, workaround or fixed")
    body = m.group(2).strip()
    if not body:
        raise DocError(path, "document has no body")
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return Doc(meta=meta, body=body, path=str(path), content_hash=digest)


def find_docs(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")
    return sorted(p for p in root.rglob("*.md") if p.name.lower() != "readme.md")


def load_docs(root: Path) -> tuple[list[Doc], list[DocError]]:
    docs: list[Doc] = []
    errors: list[DocError] = []
    seen: dict[str, str] = {}
    for path in find_docs(root):
        try:
            doc = parse_doc(path)
        except DocError as err:
            errors.append(err)
            continue
        if doc.meta.id in seen:
            errors.append(DocError(path, f"duplicate id {doc.meta.id!r} (also in {seen[doc.meta.id]})"))
            continue
        seen[doc.meta.id] = str(path)
        docs.append(doc)
    return docs, errors


def _sections(body: str) -> Iterable[str]:
    parts = re.split(r"(?m)^(?=##\s)", body)
    return (p.strip() for p in parts if p.strip())


def _split_long(text: str, limit: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", text):
        if current and len(current) + len(para) + 2 > limit:
            out.append(current)
            current = ""
        if len(para) > limit:  # a single huge paragraph: hard split on sentence ends
            for sentence in re.split(r"(?<=[.!?])\s+", para):
                if current and len(current) + len(sentence) + 1 > limit:
                    out.append(current)
                    current = ""
                current = f"{current} {sentence}".strip()
        else:
            current = f"{current}\n\n{para}".strip()
    if current:
        out.append(current)
    return out


def chunk_doc(doc: Doc, chunk_chars: int = 900) -> list[Chunk]:
    pieces: list[str] = []
    current = ""
    for section in _sections(doc.body):
        if current and len(current) + len(section) > chunk_chars:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{section}".strip()
    if current:
        pieces.append(current)
    texts = [t for p in pieces for t in _split_long(p, chunk_chars)]
    title = doc.meta.title
    return [
        Chunk(
            id=f"{doc.meta.id}#{i}",
            doc_id=doc.meta.id,
            index=i,
            text=t if t.lstrip("# ").startswith(title) else f"{title}\n\n{t}",
        )
        for i, t in enumerate(texts)
    ]
