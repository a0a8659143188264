"""Labelled history: read CSV, JSONL and CLINC150-style JSON into texts and labels.

Formats (chosen by file suffix):
- ``.csv`` with a header row (Banking77 ``text,category``; HINT3 ``sentence,label``);
- ``.jsonl`` one object per line; a column may be a dotted path (``ticket.subject``);
- ``.json`` an object whose values are lists of ``[text, label]`` pairs (CLINC150's
  ``data_full.json``). All lists are read unless the path names some: ``FILE.json:train,oos_train``.

Several text columns are joined with a blank line (subject and body, say). A row whose text is
empty is an error (naming the file and the line), never skipped silently; a missing label is kept as
``None`` and that row is left out of that field's training only.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TEXT_COLUMNS = ("text", "sentence", "utterance", "query", "subject+body")
DEFAULT_LABEL_COLUMNS = ("category", "label", "intent")


class DataError(ValueError):
    """The labelled file cannot be read as asked; the message names the file and what is wrong."""


@dataclass
class LabelledSet:
    source: str
    texts: list[str]
    labels: dict[str, list[str | None]]
    sha256: str
    text_columns: list[str] = field(default_factory=list[str])

    def __len__(self) -> int:
        return len(self.texts)

    def field_rows(self, name: str) -> tuple[list[str], list[str]]:
        """Texts and labels of the rows that carry a label for ``name``."""
        pairs = [(t, lab) for t, lab in zip(self.texts, self.labels[name], strict=True) if lab not in (None, "")]
        return [t for t, _ in pairs], [str(lab) for _, lab in pairs]


def _split_spec(spec: str) -> tuple[Path, list[str] | None]:
    path = Path(spec)
    if path.exists() or ":" not in spec:
        return path, None
    head, _, tail = spec.rpartition(":")
    return Path(head), [s.strip() for s in tail.split(",") if s.strip()]


def _get(row: dict[str, Any], column: str) -> Any:
    value: Any = row
    for part in column.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]  # type: ignore[index]
    return value


def _resolve(
    columns: list[str] | None, available: set[str], defaults: tuple[str, ...], what: str, src: str
) -> list[str]:
    if columns:
        flat = [c for spec in columns for c in spec.split("+")]
        missing = [c for c in flat if c.split(".")[0] not in available]
        if missing:
            raise DataError(f"{src}: no {what} column {missing}; columns are {sorted(available)}")
        return flat
    for cand in defaults:
        parts = cand.split("+")
        if all(p in available for p in parts):
            return parts
    raise DataError(f"{src}: cannot guess the {what} column from {sorted(available)}; pass --{what}-column")


def read_labelled(
    spec: str | Path,
    text_columns: list[str] | None = None,
    label_columns: list[str] | None = None,
) -> LabelledSet:
    """Read labelled rows. ``label_columns`` each become one triage field (one classifier)."""
    path, splits = _split_spec(str(spec))
    if not path.exists():
        raise DataError(f"{path}: no such file")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw + repr(splits).encode()).hexdigest()
    suffix = path.suffix.lower()
    rows: list[dict[str, Any]]
    if suffix == ".json":
        rows = _clinc_rows(path, raw, splits)
    elif suffix == ".jsonl":
        rows = []
        for n, line in enumerate(raw.decode("utf-8-sig").splitlines(), 1):
            if not line.strip():
                continue
            obj = _loads(line, f"{path}:{n}")
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{n}: expected an object per line")
            rows.append(obj)  # type: ignore[arg-type]
    elif suffix in (".csv", ".tsv"):
        reader = csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        rows = [dict(r) for r in reader]
    else:
        raise DataError(f"{path}: unknown format {suffix!r}; use .csv, .tsv, .jsonl or CLINC-style .json")
    if not rows:
        raise DataError(f"{path}: no rows")
    available: set[str] = set()
    for r in rows[:50]:
        available.update(k for k in r if k)
    tcols = _resolve(text_columns, available, DEFAULT_TEXT_COLUMNS, "text", str(path))
    lcols = _resolve(label_columns, available, DEFAULT_LABEL_COLUMNS, "label", str(path))
    texts: list[str] = []
    labels: dict[str, list[str | None]] = {c: [] for c in lcols}
    for n, r in enumerate(rows, 2 if suffix in (".csv", ".tsv") else 1):
        parts = [str(v).strip() for c in tcols if (v := _get(r, c)) not in (None, "")]
        text = "\n\n".join(p for p in parts if p)
        if not text:
            raise DataError(f"{path}: row {n} has empty text in {tcols}")
        texts.append(text)
        for c in lcols:
            v = _get(r, c)
            labels[c].append(None if v in (None, "") else str(v).strip())
    return LabelledSet(source=str(spec), texts=texts, labels=labels, sha256=digest, text_columns=tcols)


def _loads(text: str | bytes, where: str, whole_file: bool = False) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = f" at line {exc.lineno}" if whole_file else ""
        raise DataError(f"{where}: not JSON ({exc.msg}{at})") from exc


def _clinc_rows(path: Path, raw: bytes, splits: list[str] | None) -> list[dict[str, Any]]:
    obj = _loads(raw, str(path), whole_file=True)
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected an object of lists of [text, label] pairs")
    data: dict[str, Any] = obj  # type: ignore[assignment]
    keys = splits or sorted(data)
    unknown = [k for k in keys if k not in data]
    if unknown:
        raise DataError(f"{path}: no list {unknown}; lists are {sorted(data)}")
    rows: list[dict[str, Any]] = []
    for key in keys:
        items = data[key]
        if not isinstance(items, list):
            raise DataError(f"{path}: {key!r} is not a list")
        for i, pair in enumerate(items):  # type: ignore[misc]
            if not (isinstance(pair, list) and len(pair) == 2):  # type: ignore[arg-type]
                raise DataError(f"{path}: {key}[{i}] is not a [text, label] pair")
            rows.append({"text": pair[0], "intent": pair[1], "split": key})
    return rows
