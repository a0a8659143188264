"""The write-back ledger split: the plan and the `Ledger` Protocol in tools/, the SQL ledger in
agent/storage/ keeping the Protocol's contract on a real SQLite file; tools/ imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agent.settings import REPO_ROOT
from agent.storage.ledger import Ledger
from tools import ticketing
from tools.http import TransientWriteBackError


@pytest.fixture
def ledger(tmp_path: Path) -> ticketing.Ledger:  # typed as the Protocol: pyright checks the SQL one keeps it
    return Ledger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")


def _transient() -> str:
    raise TransientWriteBackError(
        "503 until the budget ran out", system="zendesk", method="PUT", endpoint="/t/1", attempts=6,
        elapsed_s=30.0, status=503,
    )  # fmt: skip


def test_a_done_step_is_never_run_again(ledger: ticketing.Ledger) -> None:
    calls: list[str] = []

    def post() -> str:
        calls.append("posted")
        return "comment 42 " + "x" * 3000

    first = ledger.run_step("t1", "reply", post, system="zendesk", external_id="1")
    assert first is not None and first.status == "done"
    assert ledger.run_step("t1", "reply", post, system="zendesk", external_id="1") is None
    assert calls == ["posted"]
    record = ledger.get("t1", "reply")
    assert record is not None and record.attempts == 1 and record.system == "zendesk"
    assert record.response is not None and len(record.response) == 2000


def test_a_failed_step_is_recorded_with_whether_a_retry_can_help_and_runs_again(ledger: ticketing.Ledger) -> None:
    with pytest.raises(TransientWriteBackError):
        ledger.run_step("t2", "note", _transient)
    [failed] = ledger.failed("t2")
    assert (failed.step, failed.status, failed.retryable, failed.attempts) == ("note", "failed", True, 1)
    assert "503" in (failed.last_error or "")

    assert ledger.run_step("t2", "note", lambda: "note 7") is not None  # the retry runs it again
    assert ledger.failed("t2") == [] and [(r.step, r.status, r.attempts) for r in ledger.steps("t2")] == [
        ("note", "done", 2)
    ]


def test_an_unexpected_error_is_recorded_not_retryable_and_re_raised(ledger: ticketing.Ledger) -> None:
    def broken() -> str:
        raise KeyError("id")

    with pytest.raises(KeyError):
        ledger.run_step("t3", "tags", broken)
    [failed] = ledger.failed()
    assert failed.ticket_id == "t3" and not failed.retryable and failed.last_error == "KeyError: 'id'"


def test_tools_import_no_package_above_them() -> None:
    """tools/ is the bottom layer: it never imports agent/, api/, evals/ or knowledge/."""
    upward = {"agent", "api", "evals", "knowledge"}
    found: list[str] = []
    for path in sorted((REPO_ROOT / "tools").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.relative_to(REPO_ROOT)}: {n}" for n in names if n.split(".")[0] in upward]
    assert found == []
