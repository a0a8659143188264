"""Typed errors of the business actions, split the pydantic-ai way.

Misuse (`ActionUsageError`): the caller asked for something that can never work as asked: an action
not on the allowlist, arguments that fail the action's schema, a live run without a backend. Each
message says how to fix it.

Run-time failures of the PayFlow backend are `tools.http.WriteBackError` subclasses (transient:
retry later; permanent: the backend refused, its own error text included), exactly as for ticketing
write-back. `run_action` turns both kinds into an `ActionResult` (`rejected` / `failed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


class ActionError(Exception):
    """Base of every error raised by tools.actions."""


class ActionUsageError(ActionError):
    """The action was asked for in a way that cannot work: fix the call, do not retry it."""


class NotAllowlistedError(ActionUsageError):
    """An action name that is not on the allowlist (a typo, or a model inventing an action)."""

    def __init__(self, name: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"action {name!r} is not allowlisted: only {', '.join(allowed)} may be run. "
            "Pick one of these names (a model may never choose an action outside this list)."
        )
        self.name = name
        self.allowed = allowed


@dataclass(frozen=True)
class FieldIssue:
    """One invalid or missing argument: `field` is the argument name (dotted for nested ones)."""

    field: str
    message: str


class InvalidArgumentsError(ActionUsageError):
    """Arguments that fail the action's input schema. `field` names the first offending argument."""

    def __init__(self, action: str, issues: list[FieldIssue]) -> None:
        self.action = action
        self.issues = issues
        self.field = issues[0].field if issues else ""
        detail = "; ".join(f"{i.field}: {i.message}" for i in issues) or "invalid arguments"
        super().__init__(
            f"invalid arguments for action {action!r}: {detail}. "
            "Fix the named argument(s); the accepted shapes are in the action's input model."
        )

    @classmethod
    def from_validation(cls, action: str, error: ValidationError) -> InvalidArgumentsError:
        issues: list[FieldIssue] = []
        for item in error.errors():
            loc = ".".join(str(p) for p in item["loc"])
            ctx: dict[str, Any] = dict(item.get("ctx") or {})
            field = loc or str(ctx.get("fields", "")) or "arguments"
            issues.append(FieldIssue(field, item["msg"]))
        return cls(action, issues)


class ActionConfigError(ActionUsageError):
    """The action cannot be run with this wiring (e.g. a live run without a backend)."""


class ExtractionError(ActionError):
    """The LLM path could not produce arguments (the model failed or answered off-schema)."""
