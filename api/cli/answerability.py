"""`triage answerability train`: the model of the chance that a drafted reply resolves the ticket
(agent/graph/answerability.py, trained by evals/answerability.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail, write_json

app = typer.Typer(help="The answerability model: P(the drafted reply resolves the ticket).", no_args_is_help=True)


@app.command("train")
def train_answerability(
    datasets: Annotated[
        Path, typer.Option(help="the shared datasets folder (wixqa, techqa and bitext dev files)")
    ] = Path("../shared/datasets"),
    only: Annotated[
        list[str] | None, typer.Option("--set", help="train on these sets only (smoke, wixqa, techqa, bitext); repeat")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="model file to write (default: the shipped agent/graph/answerability.json)")
    ] = None,
    max_wrong: Annotated[
        float, typer.Option(help="wrong-resolution budget the recommended auto threshold keeps on every left-out set")
    ] = 0.02,
    min_handoff_recall: Annotated[
        float, typer.Option(help="share of unanswerable tickets the recommended handoff threshold hands off")
    ] = 0.8,
    feedback: Annotated[
        Path | None,
        typer.Option(
            help="the eval file of `triage export-feedback` (agents' verdicts on this service's replies, on "
            "TRIAGE_KB_PATH): every verdict an extra training example (approved: resolves; rejected or reopened: "
            "does not); never measured on"
        ),
    ] = None,
    c: Annotated[float, typer.Option("--C", help="inverse regularisation of the logistic regression")] = 1.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="write every figure here")] = None,
    cache: Annotated[bool, typer.Option(help="reuse the graph runs cached under <data dir>/answerability")] = True,
    dry_run: Annotated[bool, typer.Option(help="print the figures, write no model")] = False,
) -> None:
    """Train the answerability model on the train halves of several labelled knowledge bases (each
    case run once through the graph with --llm none and the configured TRIAGE_EMBEDDER, cached),
    report AUC, calibration and auto/wrong on the test halves (the shipped model, and leave one
    dataset out), and write the model with its embedder and recommended thresholds. Run it again
    after changing TRIAGE_EMBEDDER: a model from another embedder auto-resolves nothing."""
    from agent.graph.answerability import SHIPPED_MODEL, AnswerabilityModelError
    from agent.graph.policy import PolicyError
    from evals.answerability import (
        default_sets,
        feedback_set,
        format_result,
        load_runs,
        result_json,
        save_model,
        train,
    )
    from evals.resolve.data import ResolveDataError

    s = get_settings().model_copy(update={"llm": "none"})
    sets = default_sets(datasets)
    if only:
        unknown = sorted(set(only) - {t.name for t in sets})
        if unknown:
            fail(f"unknown --set {', '.join(unknown)}; choose from {', '.join(t.name for t in sets)}")
        sets = [t for t in sets if t.name in only]
    if feedback is not None:
        if not feedback.is_file():
            fail(f"--feedback {feedback}: no such file; write it with `triage export-feedback`")
        sets.append(feedback_set(feedback, s.kb_path))
    missing = [str(p) for t in sets for p in (t.kb, t.cases) if not p.exists()]
    if missing:
        fail(f"training data not found: {', '.join(missing)}; pass --datasets DIR (the shared datasets folder)")
    try:
        runs = load_runs(s, sets, cache=cache, progress=lambda m: typer.echo(m, err=True))
        result = train(runs, c, max_wrong, min_handoff_recall, progress=lambda m: typer.echo(m, err=True))
    except (ResolveDataError, PolicyError, AnswerabilityModelError, ValueError) as exc:
        fail(str(exc))
    typer.echo(format_result(result))
    if json_out:
        write_json(json_out, result_json(result))
    if dry_run:
        return
    target = out or SHIPPED_MODEL
    written = save_model(result.model, target)
    typer.echo(f"wrote {target} (version {written.version}, embedder {written.embedder}, sha256 {written.sha256[:12]})")
    rec = written.recommended
    typer.echo(
        f"recommended: retrieval.auto_min_answerability {rec['auto_min_answerability']}, "
        f"suggest_min_answerability {rec['suggest_min_answerability']}; set them in agent/graph/policy.yaml "
        "(and bump its version) if they changed"
    )
