"""`triage eval smoke | triage | resolve | compare` and `triage tune` (which runs what `eval resolve` runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.settings import get_settings
from api.cli.common import SMOKE, Epochs, LabelCols, LlmOverride, OosLoss, TextCols, fail, model_for, write_json

if TYPE_CHECKING:
    from evals.resolve.run import ResolveRun

app = typer.Typer(help="Offline evaluation.", no_args_is_help=True)

KbPath = Annotated[
    Path | None,
    typer.Option(
        "--kb", help="knowledge base: a directory of .md docs, or a JSONL/CSV corpus (default TRIAGE_KB_PATH)"
    ),
]
PolicyPath = Annotated[Path | None, typer.Option("--policy", help="policy file (default TRIAGE_POLICY_FILE)")]
ClassifierChoice = Annotated[
    str,
    typer.Option(help="auto (the service's, when its categories are the KB's) | service | none | a directory"),
]


@app.command("smoke")
def eval_smoke(
    file: Annotated[Path, typer.Option(help="JSONL with gold labels")] = SMOKE,
    llm: LlmOverride = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics here")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N tickets")] = None,
    ingest: Annotated[bool, typer.Option(help="ingest TRIAGE_KB_PATH first, as `triage serve` does")] = True,
) -> None:
    """Run the graph offline over a labelled dataset: outcomes against gold, triage accuracy, doc recall."""
    from api.cli.kb import kb_ingest
    from evals.smoke import format_summary, run_smoke

    if not file.is_file():
        fail(f"no labelled tickets at {file}")
    if ingest:  # on a fresh data dir the KB would be empty and every ticket handed off
        kb_ingest(get_settings().kb_path, prune=False)
    with model_for(llm) as (s, _model):
        metrics = run_smoke(s, file, limit=limit)
    typer.echo(format_summary(metrics))
    if json_out:
        json_out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")


@app.command("triage")
def eval_triage(
    train_file: Annotated[str, typer.Option("--train", help="labelled training file")],
    test_file: Annotated[str, typer.Option("--test", help="labelled test file (only predicted, never tuned on)")],
    text_column: TextCols = None,
    label_column: LabelCols = None,
    oos_label: Annotated[str | None, typer.Option(help="label meaning out of scope")] = None,
    shots: Annotated[int | None, typer.Option(help="train on N examples per label (fixed seed)")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics here")] = None,
    report: Annotated[Path | None, typer.Option(help="write report.md, report.html and plots here")] = None,
    c: Annotated[float, typer.Option("--C")] = 10.0,
    tfidf: Annotated[bool, typer.Option()] = True,
    epochs: Epochs = None,
    oos_max_loss: OosLoss = 0.005,
    save_model: Annotated[
        Path | None, typer.Option(help="keep the trained artefact here (loadable as TRIAGE_CLASSIFIER_DIR)")
    ] = None,
) -> None:
    """Train on one labelled file and measure on another: accuracy, macro-F1, calibration, coverage, OOS."""
    from agent.graph.classifier.data import DataError
    from agent.graph.classifier.model import TrainParams
    from evals.triage_eval import format_summary, run_triage_eval
    from evals.triage_report import write_triage_report

    try:
        result = run_triage_eval(
            train_file,
            test_file,
            text_column,
            label_column,
            get_settings().classifier_encoder,
            oos_label=oos_label,
            shots=shots,
            seed=seed,
            params=TrainParams(C=c, tfidf=tfidf, fine_tune_epochs=epochs, oos_max_in_scope_loss=oos_max_loss),
            save_model=save_model,
            progress=lambda m: typer.echo(m, err=True),
        )
    except (DataError, ValueError) as exc:
        fail(str(exc))
    typer.echo(format_summary(result))
    if json_out:
        write_json(json_out, result)
    if report:
        paths = write_triage_report(result, report, title=f"Triage evaluation: {Path(test_file.split(':')[0]).name}")
        typer.echo(f"wrote {paths['markdown']} and {paths['html']}")


def resolve_run(
    kb: Path | None,
    test: Path,
    policy: Path | None,
    llm: str | None,
    classifier: str,
    limit: int | None,
    half: str | None = None,
) -> ResolveRun:
    """Every case of `test` once through the graph (`evals.resolve.run.prepare`), progress on stderr;
    a bad KB, test file, policy or classifier exits 2 with what to fix."""
    from agent.graph.classifier.model import ArtefactError
    from agent.graph.policy import PolicyError
    from evals.resolve.data import ResolveDataError
    from evals.resolve.run import prepare

    def progress(i: int, n: int) -> None:
        if i == n or i % 25 == 0:
            typer.echo(f"  {i}/{n} tickets", err=True)

    with model_for(llm) as (s, _model):
        try:
            return prepare(s, kb or s.kb_path, test, policy, s.llm, classifier, limit, progress, half)
        except (ResolveDataError, PolicyError, ArtefactError, ValueError) as exc:
            fail(str(exc))


HALF_HELP = (
    "only the cases of this half of the file (train | test, a fixed hash of the case id): tune on the "
    "train half, measure on the test half"
)


@app.command("resolve")
def eval_resolve(
    test: Annotated[Path, typer.Option("--test", help="cases with gold answers (.jsonl or .csv)")],
    kb: KbPath = None,
    policy: PolicyPath = None,
    llm: LlmOverride = None,
    classifier: ClassifierChoice = "auto",
    limit: Annotated[int | None, typer.Option(help="only the first N cases")] = None,
    half: Annotated[str | None, typer.Option(help=HALF_HELP)] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics here")] = None,
    report: Annotated[Path | None, typer.Option(help="write report.md, report.html and plots here")] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            help="LLM judge for ragas's faithfulness and answer relevancy, e.g. llamacpp/qwen2.5-coder-1.5b-instruct"
        ),
    ] = None,
) -> None:
    """Run the graph in dry-run (no write-back) over cases with gold answers: how much is
    auto-resolved, how much of that is wrong, handoff recall, retrieval quality, latency."""
    from agent.graph.llm import make_chat_model
    from evals.judge import add_verdict, judge_settings, model_recovery
    from evals.judge import judge as run_judge
    from evals.resolve.metrics import evaluate
    from evals.resolve.report import format_summary, write_resolve_report
    from knowledge.embeddings import get_embedder

    s = get_settings()
    run = resolve_run(kb, test, policy, llm, classifier, limit, half)
    result = evaluate(run.traces, run.policy, run.facts, s.top_k)
    if judge:
        with model_for(judge) as (js, _model):
            model = make_chat_model(judge, judge_settings(js))
            if model is None:
                fail(f"--judge {judge!r} is not a model; give provider/model")
            typer.echo(f"judging drafts with {judge} (ragas faithfulness, answer relevancy) ...", err=True)
            verdict = run_judge(
                run.traces,
                model,
                s.prompts_dir,
                get_embedder(s.embedder),
                run.knowledge.document_text,
                judge,
                progress=lambda i, n: typer.echo(f"  judged {i}/{n} drafts", err=True),
                recover=model_recovery(js),
            )
        add_verdict(result, verdict)
    typer.echo(format_summary(result))
    if json_out:
        write_json(json_out, result)
    if report:
        paths = write_resolve_report(result, report, f"Auto-resolution evaluation: {test.name}")
        typer.echo(f"wrote {paths['markdown']} and {paths['html']}")


@app.command("compare")
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="--json file or --report directory")],
    run_b: Annotated[Path, typer.Argument(help="--json file or --report directory")],
) -> None:
    """Two eval runs side by side, with the differences."""
    from evals.compare import compare_runs, load_run

    try:
        a, b = load_run(run_a), load_run(run_b)
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        fail(str(exc))
    typer.echo(compare_runs(a, b, run_a.name, run_b.name))


def tune(
    dev: Annotated[Path, typer.Option("--dev", help="dev cases with gold answers (.jsonl or .csv)")],
    max_wrong: Annotated[
        float, typer.Option(help="wrong-resolution budget: share of auto-resolved tickets that may be wrong")
    ] = 0.01,
    min_handoff_recall: Annotated[
        float, typer.Option(help="share of unanswerable/out-of-scope tickets to hand off (0 = do not tune)")
    ] = 0.8,
    kb: KbPath = None,
    policy: PolicyPath = None,
    out: Annotated[Path | None, typer.Option(help="policy file to write (default: the --policy file)")] = None,
    llm: LlmOverride = None,
    classifier: ClassifierChoice = "auto",
    dry_run: Annotated[bool, typer.Option(help="print the thresholds, write nothing")] = False,
    half: Annotated[str | None, typer.Option(help=HALF_HELP)] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N cases (while iterating)")] = None,
    cv_folds: Annotated[
        int, typer.Option(help="also estimate the figures on unseen tickets by k-fold cross-validation (0 = off)")
    ] = 5,
) -> None:
    """Choose the thresholds that auto-resolve the most dev tickets within the wrong-resolution
    budget, and write them (with the dev figures) into the policy file. Risk rules never move."""
    from evals.tune import fit_vote_temperature, format_tune, format_vote_fit, save_tuned, tuned_figures
    from evals.tune import tune as tune_policy

    base_path = policy or get_settings().policy_file
    run = resolve_run(kb, dev, policy, llm, classifier, limit, half)
    try:
        result = tune_policy(run.traces, run.policy, max_wrong, min_handoff_recall or None, cv_folds)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(format_tune(result, run.policy, dev))
    typer.echo(format_vote_fit(fit_vote_temperature(run.traces, run.policy), run.policy))
    if dry_run:
        return
    target = out or base_path
    figures = tuned_figures(result, run.policy, dev, run.facts, max_wrong, min_handoff_recall)
    try:
        written = save_tuned(target, base_path, run.policy, result, figures)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    typer.echo(f"wrote {target} (version {written.version})")
