"""What the command modules share: the error exit, the bundled model's process for a command that runs
the graph, and the classifier options of `train` and `eval triage`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from agent.settings import REPO_ROOT, get_settings

# the shipped labelled demo tickets, wherever a command runs from
SMOKE = REPO_ROOT / "evals" / "datasets" / "smoke.jsonl"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` in red on stderr and exit with `code` (2: bad input or configuration)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def model_for(llm: str | None = None, *, serve: bool | None = None) -> Iterator[Any]:
    """Settings for a command that runs the graph, with `--llm` applied and the bundled model's process
    running while the command does (shared if one already answers at TRIAGE_MODEL_URL)."""
    from agent.graph.llm import LLMConfigError
    from agent.runtime.model_server import ModelServerError, local_model

    s = get_settings()
    if llm:
        s = s.model_copy(update={"llm": llm})
    try:
        ctx = local_model(s, serve=serve)
        run_settings, sup = ctx.__enter__()
    except (ModelServerError, LLMConfigError) as exc:
        fail(str(exc))
    try:
        yield run_settings, sup
    finally:
        ctx.__exit__(None, None, None)


def write_json(path: Path, data: Any) -> None:
    """`--json OUT`: the result as indented JSON (parent directories made), then `wrote OUT`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    typer.echo(f"wrote {path}")


TextCols = Annotated[
    list[str] | None,
    typer.Option("--text-column", help="text column; repeat (or join with +) to combine subject and body"),
]
LabelCols = Annotated[list[str] | None, typer.Option("--label-column", help="label column; repeat for more fields")]
OosLoss = Annotated[
    float,
    typer.Option(help="in-scope accuracy (absolute) the out-of-scope threshold may give up to catch out-of-scope"),
]
Epochs = Annotated[
    int | None, typer.Option(help="fine-tune the encoder for N epochs (0 = frozen; default: by data size)")
]
LlmOverride = Annotated[str | None, typer.Option(help="override TRIAGE_LLM, e.g. none")]
