"""`triage eval risk`: recall and precision of the risk detector (rules OR model) on labelled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from api.cli.common import fail


def eval_risk(
    data: Annotated[
        Path | None, typer.Option("--data", help="labelled JSONL (default: the shipped risk_examples.jsonl)")
    ] = None,
    split: Annotated[str, typer.Option(help="dev | test | all (test: the held-out figure; never tune on it)")] = "dev",
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="policy file (default TRIAGE_POLICY_FILE)")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics here")] = None,
    show_false_positives: Annotated[bool, typer.Option("--false-positives", help="list them too")] = False,
) -> None:
    """Risk detection on labelled tickets: recall, precision, per kind and language, the misses.

    On dev the model was trained on these tickets: its honest dev figure is the cross-validated one
    stored in the model file (printed first); `--split test` is the held-out figure.
    """
    from agent.errors import ConfigError
    from agent.graph.policy import load_policy
    from agent.graph.risk.data_io import DEFAULT_DATA, load_examples
    from agent.graph.risk.evaluate import evaluate, format_report
    from agent.settings import get_settings

    if split not in ("dev", "test", "all"):
        fail(f"--split must be dev, test or all, not {split!r}")
    chosen: Literal["dev", "test", "all"] = split  # type: ignore[assignment]
    try:
        policy = load_policy(policy_file or get_settings().policy_file)
        examples = load_examples(data or DEFAULT_DATA)
        if policy.risk.model:
            from agent.graph.risk.model import model_at, resolve_model_path

            cv = model_at(resolve_model_path(policy.risk.model)).manifest.get("metrics", {}).get("cv_combined")
            typer.echo(f"cross-validated on dev when trained (rules OR model): {cv}")
        rows = [e for e in examples if chosen == "all" or e.split == chosen]
        metrics = evaluate(rows, policy)
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(format_report(metrics, f"{len(rows)} tickets, split {chosen}, from {data or DEFAULT_DATA}"))
    if show_false_positives:
        for r in metrics["false_positives"]:
            typer.echo(f"  FP {r['id']} [{r['language']}] p={r['probability']} {r['flags']}: {r['text']}")
    if json_out:
        json_out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")
