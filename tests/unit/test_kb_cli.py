"""`triage kb ingest` warns about documents naming an action the service cannot run."""

from __future__ import annotations

from pathlib import Path

from api.cli.kb import unknown_actions


def write(path: Path, doc_id: str, action: str) -> None:
    path.write_text(
        f"---\nid: {doc_id}\ntitle: T {doc_id}\ntype: kb\ncategory: payslips\naction: {action}\n---\n"
        "## Steps\nDo it.\n",
        encoding="utf-8",
    )


def test_only_actions_off_the_allowlist_are_named(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "KB-1", "resend_payslip")
    write(tmp_path / "b.md", "KB-2", "none")
    write(tmp_path / "c.md", "KB-3", "info")
    warnings = unknown_actions(tmp_path)
    assert len(warnings) == 1
    assert warnings[0].startswith("KB-3 names action 'info'") and "resend_payslip" in warnings[0]
    assert unknown_actions(tmp_path / "a.md") == []
