"""`triage train`: the triage classifier from labelled history, swapped into place as one artefact."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import Epochs, LabelCols, OosLoss, TextCols, fail


def train(
    data: Annotated[
        str | None,
        typer.Option(
            help="labelled history: .csv/.tsv, .jsonl, or CLINC-style .json[:list,...] (default TRIAGE_HISTORY_PATH)"
        ),
    ] = None,
    text_column: TextCols = None,
    label_column: LabelCols = None,
    out: Annotated[Path | None, typer.Option(help="artefact directory (default TRIAGE_CLASSIFIER_DIR)")] = None,
    oos_label: Annotated[str | None, typer.Option(help="label that means out of scope (e.g. oos)")] = None,
    c: Annotated[float, typer.Option("--C", help="inverse regularisation of the logistic regression")] = 10.0,
    tfidf: Annotated[bool, typer.Option(help="add word and character n-gram features")] = True,
    target_precision: Annotated[float, typer.Option(help="accuracy the classifier must keep alone")] = 0.95,
    if_missing: Annotated[bool, typer.Option(help="do nothing when an artefact already exists")] = False,
    epochs: Epochs = None,
    oos_max_loss: OosLoss = 0.005,
) -> None:
    """Train the triage classifier (one per label column) and save a versioned artefact the service loads."""
    from agent.graph.classifier.data import DataError, read_labelled
    from agent.graph.classifier.model import TrainParams, is_trained, train_in_place

    s = get_settings()
    target = out or s.classifier_path
    if if_missing and is_trained(target):
        typer.echo(f"classifier already trained at {target}")
        return
    source = data or (str(s.history_path) if s.history_path else None)
    if source is None:
        fail("no --data given and TRIAGE_HISTORY_PATH is empty")
    if data is None:  # the shipped history format (evals/datasets/README.md)
        text_column = text_column or ["subject+body"]
        label_column = label_column or ["category", "priority", "sentiment"]
        oos_label = oos_label or "other"  # the policy's out-of-scope category
    try:
        ds = read_labelled(source, text_column, label_column)
    except DataError as exc:
        fail(str(exc))
    params = TrainParams(
        C=c,
        tfidf=tfidf,
        target_precision=target_precision,
        oos_label=oos_label,
        fine_tune_epochs=epochs,
        oos_max_in_scope_loss=oos_max_loss,
    )
    try:
        clf = train_in_place(ds, s.classifier_encoder, target, params, progress=typer.echo)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(f"saved {clf.version} to {target} ({len(ds)} rows, {clf.manifest['timing_s']['total']} s)")
    for name, info in clf.manifest["fields"].items():
        cv = info["cv_metrics"]
        extra = (
            f", in-scope {cv['in_scope_accuracy']:.2%}, oos recall {cv['oos_recall']:.2%}" if "oos_recall" in cv else ""
        )
        typer.echo(
            f"  {name}: {len(info['labels'])} labels; cross-validated accuracy {cv.get('accuracy', 0):.2%}, "
            f"ECE {cv.get('ece', 0):.3f}{extra}; LLM below {info['threshold']:.3f}"
        )
