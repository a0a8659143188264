"""Load labelled ticket datasets (JSONL) into Tickets plus their gold labels."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.domain import Customer, Ticket


@dataclass
class Gold:
    category: str | None = None
    priority: str | None = None
    outcome: str | None = None
    doc_ids: list[str] = field(default_factory=list)
    risk: list[str] = field(default_factory=list)


@dataclass
class Example:
    ticket: Ticket
    gold: Gold


class DatasetError(ValueError):
    """A dataset line that cannot be used; says which line and why."""


def load_jsonl(path: Path, limit: int | None = None) -> list[Example]:
    examples: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{n}: not valid JSON: {exc}") from exc
            missing = [k for k in ("subject", "body") if k not in row]
            if missing:
                raise DatasetError(f"{path}:{n}: missing {', '.join(missing)}")
            rid = str(row.get("id") or row.get("external_id") or n)
            customer = row.get("customer") or {}
            ticket = Ticket(
                id=f"eval-{rid}",
                external_id=rid,
                source="eval",
                subject=row["subject"],
                body=row["body"],
                requester=row.get("requester"),
                customer=Customer.model_validate(customer),
                language=row.get("language"),
                product=row.get("product"),
            )
            g = row.get("gold") or {}
            examples.append(
                Example(
                    ticket,
                    Gold(
                        g.get("category"),
                        g.get("priority"),
                        g.get("outcome"),
                        list(g.get("doc_ids") or []),
                        list(g.get("risk") or []),
                    ),
                )
            )
            if limit is not None and len(examples) >= limit:
                break
    return examples
