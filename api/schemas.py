"""Request and response schemas of the HTTP API (separate from the internal domain models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, max_length=200)
    tier: str = Field(default="standard", max_length=40)


class GenericTicketIn(BaseModel):
    """Body of a Standard Webhooks delivery to /webhooks/generic."""

    model_config = ConfigDict(extra="ignore")
    external_id: str = Field(min_length=1, max_length=255)
    subject: str = Field(max_length=1000)
    body: str = Field(max_length=200_000)
    requester: str | None = Field(default=None, max_length=320)
    customer: CustomerIn | None = None
    language: str | None = Field(default=None, max_length=16)
    product: str | None = Field(default=None, max_length=64)


class Accepted(BaseModel):
    ticket_id: str
    duplicate: bool = False


class ScoredOut(BaseModel):
    value: Any
    confidence: float


class TriageOut(BaseModel):
    category: ScoredOut
    priority: ScoredOut
    language: ScoredOut
    sentiment: ScoredOut
    risk: ScoredOut
    decided_by: str
    sources: dict[str, str] = {}  # field -> classifier | llm | rules | nearest_doc
    model_version: str | None = None  # the trained classifier that took part


class DecisionOut(BaseModel):
    action: Literal["auto_resolve", "suggest", "handoff"]
    reason: str
    rules: list[str] = []
    linked_issue: str | None = None
    queue: str | None = None


class ReplyOut(BaseModel):
    text: str
    citations: list[str]
    language: str | None = None
    grounded: bool | None = None
    generated_by: str | None = None


class AuditOut(BaseModel):
    at: datetime
    node: str
    event: str
    detail: dict[str, Any]


class TicketOut(BaseModel):
    ticket_id: str
    external_id: str
    source: str
    status: Literal["received", "processing", "done", "awaiting_review", "handed_off", "failed"]
    created_at: datetime
    updated_at: datetime
    attempts: int
    error: str | None = None
    triage: TriageOut | None = None
    decision: DecisionOut | None = None
    reply: ReplyOut | None = None
    handoff_note: str | None = None
    retrieved: list[dict[str, Any]] = []
    policy_version: str | None = None
    prompts: dict[str, str] = {}
    audit: list[AuditOut] = []
