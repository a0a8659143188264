"""`triage` command line: a thin shell over the packages."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.settings import get_settings

app = typer.Typer(help="Support ticket triage and auto-resolution service.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: ingest and search.", no_args_is_help=True)
eval_app = typer.Typer(help="Offline evaluation.", no_args_is_help=True)
writeback_app = typer.Typer(help="Write-back to ticketing systems.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
app.add_typer(writeback_app, name="writeback")


def _fail(message: str, code: int = 2) -> None:
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
        _fail(str(exc))
        raise typer.Exit(2) from exc
    try:
        yield run_settings, sup
    finally:
        ctx.__exit__(None, None, None)


ENV_KEY = re.compile(r"^[ \t]*#?[ \t]*([A-Z][A-Z0-9_]*)[ \t]*=", re.MULTILINE)


def _init_values() -> dict[str, str]:
    """What `triage init` writes when missing: random secrets we choose and the sender is told."""
    return {
        "TRIAGE_API_KEY": secrets.token_urlsafe(24),
        "TRIAGE_WEBHOOK_SECRET": f"whsec_{base64.b64encode(secrets.token_bytes(24)).decode()}",
        # paste into the Jira webhook's Secret field
        "TRIAGE_JIRA_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        # send from the Freshdesk rule in the X-Triage-Token header
        "TRIAGE_FRESHDESK_WEBHOOK_TOKEN": secrets.token_hex(32),
        # paste into the YouTrack Webhook Triggers app as its webhook token
        "TRIAGE_YOUTRACK_WEBHOOK_TOKEN": secrets.token_hex(32),
    }


# Zendesk makes the signing secret itself (Admin Center > Webhooks > your webhook > Reveal secret): a
# random one here could never match, so init leaves a commented placeholder to paste it into.
ZENDESK_PLACEHOLDER = (
    "# TRIAGE_ZENDESK_WEBHOOK_SECRET=  # paste the webhook's signing secret from Zendesk "
    "(Admin Center > Webhooks > your webhook > Reveal secret)"
)


@app.command()
def init(env_file: Path = Path(".env")) -> None:
    """Create .env with a random API key, the Standard Webhooks secret and the Jira, Freshdesk and
    YouTrack webhook secrets/tokens (keeps existing values; a commented key counts as present)."""
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    present = set(ENV_KEY.findall(existing))
    lines = [existing.rstrip("\n")] if existing else []
    added: list[str] = []
    for key, value in _init_values().items():
        if key not in present:
            lines.append(f"{key}={value}")
            added.append(key)
    if "TRIAGE_ZENDESK_WEBHOOK_SECRET" not in present:
        lines.append(ZENDESK_PLACEHOLDER)
        added.append("a TRIAGE_ZENDESK_WEBHOOK_SECRET placeholder")
    if added:
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        typer.echo(f"wrote {', '.join(added)} to {env_file}")
    else:
        typer.echo(f"{env_file} already has an API key and every webhook secret")


@kb_app.command("ingest")
def kb_ingest(
    path: Annotated[Path, typer.Argument(help="a markdown file or a folder of them")],
    prune: Annotated[bool, typer.Option(help="remove stored docs that are no longer in PATH")] = False,
) -> None:
    """Ingest markdown docs with front matter; unchanged docs are skipped, changed ones replaced."""
    from agent.runtime.assembly import open_knowledge

    if not path.exists():
        _fail(f"{path} does not exist")
    store = open_knowledge(get_settings())
    report = store.ingest(path, prune=prune)
    typer.echo(f"{path}: {report.summary()} (collection now {store.count()} chunks)")
    for err in report.errors:
        typer.secho(f"  rejected {err}", fg=typer.colors.YELLOW, err=True)
    if report.errors:
        raise typer.Exit(1)


@kb_app.command("search")
def kb_search(query: str, k: int = 5) -> None:
    """Show the top-k documents for a query."""
    from agent.runtime.assembly import open_knowledge

    for hit in open_knowledge(get_settings()).search(query, k=k):
        typer.echo(f"{hit.score:.3f}  {hit.doc_id:10} [{hit.doc_type}/{hit.category}/{hit.language}] {hit.title}")


def ticket_from_json(data: dict[str, Any], fallback_id: str) -> Any:
    from agent.domain import Ticket

    missing = [f for f in ("subject", "body") if f not in data]
    if missing:
        raise ValueError(f"ticket JSON is missing {', '.join(missing)}")
    external = str(data.get("external_id") or data.get("id") or fallback_id)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    fields = {k: data[k] for k in ("subject", "body", "requester", "customer", "language", "product") if data.get(k)}
    return Ticket(id=f"offline-{digest}", external_id=external, source="offline", **fields)


@app.command("run-ticket")
def run_ticket(
    file: Annotated[Path, typer.Argument(help="ticket JSON: subject, body, optional external_id, customer…")],
    llm: Annotated[str | None, typer.Option(help="override TRIAGE_LLM, e.g. none")] = None,
) -> None:
    """Process one ticket offline (no database, no write-back) and print the result JSON."""
    from agent.runtime.assembly import Agent, result_of, status_of

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        ticket = ticket_from_json(data, file.stem)
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        _fail(f"{file}: {exc}")
        return
    with model_for(llm) as (s, _model):
        agent = Agent.from_settings(s, durable=False)
        state = agent.run(ticket)
    out = {
        "status": status_of(state),
        **result_of(state, agent.context.policy.version),
        "audit": [e.model_dump(mode="json") for e in state.get("audit", [])],
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    ingest: Annotated[bool, typer.Option(help="ingest TRIAGE_KB_PATH before serving")] = True,
) -> None:
    """Serve the API and the in-process worker."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    _preflight(settings)
    if ingest:
        kb_ingest(settings.kb_path, prune=False)
    h, p = host or settings.host, port or settings.port
    typer.echo(f"API on http://{h}:{p}  (docs: http://{h}:{p}/docs)  LLM: {settings.llm}")
    if settings.llm.startswith("llamacpp/"):
        typer.echo(
            f"model process: {settings.model_server_url} (started and watched by this server; log in "
            f"{settings.data_dir / 'logs' / 'model-server.log'})"
        )
    typer.echo("send the demo tickets with:  make demo   (or: .venv/bin/triage demo)")
    with model_for() as (run_settings, model):  # a broken model stops the start here, with how to fix it
        uvicorn.run(
            create_app(run_settings, model=model),
            host=h,
            port=p,
            log_level="info",
            # above our own limit, so an oversized request gets the app's 431 with how to fix it
            h11_max_incomplete_event_size=settings.max_header_bytes + 16384,
        )


def _preflight(settings: Any) -> None:
    """Configuration errors stop the start with how to fix them (not a per-ticket fallback later)."""
    from agent.graph.llm import LLMConfigError, make_chat_model
    from agent.runtime.model_server import ModelServerError, config_from_settings

    try:
        make_chat_model(settings.llm, settings)
        if settings.llm.startswith("llamacpp/") and settings.model_serve:
            config_from_settings(settings)  # the model file exists and is whole, before the KB ingest
    except (LLMConfigError, ModelServerError) as exc:
        _fail(str(exc))


model_app = typer.Typer(help="The bundled local model, served in its own process.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("serve")
def model_serve(
    port: Annotated[int | None, typer.Option(help="default TRIAGE_MODEL_PORT")] = None,
) -> None:
    """Serve TRIAGE_LLM (llamacpp/...) on its own, for workers on this machine to share (they reach it at
    TRIAGE_MODEL_URL; set TRIAGE_MODEL_SERVE=false for `triage serve` then). Restarts it when it dies."""
    import time

    from agent.runtime.model_server import ModelServerError, ModelSupervisor, config_from_settings

    s = get_settings()
    try:
        sup = ModelSupervisor(config_from_settings(s, port=port)).start()
    except ModelServerError as exc:
        _fail(str(exc))
        return
    typer.echo(f"model {sup.config.alias} at {sup.url}/v1 (pid {sup.pid}); Ctrl+C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sup.stop()


@app.command()
def worker() -> None:
    """Run a worker process without the API (scaled mode; needs a shared database such as PostgreSQL)."""
    from agent.runtime.assembly import Agent
    from agent.runtime.worker import Worker
    from agent.storage.tickets import TicketStore

    # a worker shares the model process of `triage serve` / `triage model serve`; it never starts one
    with model_for(serve=False) as (s, _model):
        store = TicketStore(s.db_url)
        w = Worker(
            store,
            Agent.from_settings(s, writeback=True, engine=store.engine),
            lease_s=s.worker_lease_s,
            poll_s=s.worker_poll_s,
            max_attempts=s.max_attempts,
        )
        typer.echo(f"worker {w.id} polling {s.db_url.split('@')[-1]}")
        w.loop()


@writeback_app.command("retry")
def writeback_retry(
    ticket_id: Annotated[str | None, typer.Argument(help="a ticket whose status is writeback_failed")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every writeback_failed ticket, oldest first")] = False,
) -> None:
    """Re-apply the stored write-back of failed tickets: steps already done (a posted reply) are
    skipped, the rest run in order. Exit code 1 if any ticket still failed."""
    from agent.runtime.writeback import RetryRefused, open_writeback, retry_writeback
    from agent.storage.tickets import TicketStore
    from tools.ticketing import WriteBackConfigError

    if (ticket_id is None) == (not all_):
        _fail("give a TICKET_ID or --all (not both)")
        return
    s = get_settings()
    store = TicketStore(s.db_url)
    try:
        ticketing, ledger = open_writeback(s, store.engine)
    except WriteBackConfigError as exc:
        _fail(str(exc))
        return
    ids = [ticket_id] if ticket_id is not None else store.ids_with_status("writeback_failed")
    if not ids:
        typer.echo("no ticket is writeback_failed")
        return
    still_failed = 0
    try:
        for tid in ids:
            try:
                out = retry_writeback(store, ticketing, ledger, tid, lease_s=s.worker_lease_s)
            except RetryRefused as exc:
                typer.secho(f"{tid}: not retried: {exc}", fg=typer.colors.YELLOW, err=True)
                still_failed += 1
                continue
            wb = out.writeback
            steps = ", ".join(f"{st.step} {st.status}" for st in wb.steps)
            if wb.ok:
                typer.echo(f"{tid}: {out.status} ({wb.system} {wb.external_id}: {steps})")
            else:
                still_failed += 1
                typer.secho(
                    f"{tid}: still writeback_failed at {wb.failed_step} "
                    f"({'transient' if wb.retryable else 'permanent'}): {wb.error}",
                    fg=typer.colors.RED,
                    err=True,
                )
    finally:
        for system in ticketing.values():
            system.close()
    if still_failed:
        raise typer.Exit(1)


@app.command()
def demo(
    file: Annotated[Path, typer.Option(help="JSONL tickets")] = Path("evals/datasets/smoke.jsonl"),
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
    limit: Annotated[int, typer.Option(help="how many tickets to send")] = 8,
    timeout: Annotated[float, typer.Option(help="seconds to wait for results")] = 600.0,
) -> None:
    """Send demo tickets as signed webhooks to a running server and print their outcomes."""
    from evals.demo import run_demo

    s = get_settings()
    if s.webhook_secret is None or s.api_key is None:
        _fail("TRIAGE_WEBHOOK_SECRET and TRIAGE_API_KEY are needed; run `triage init` first")
        return
    base = url or f"http://{s.host}:{s.port}"
    ok = run_demo(base, file, limit, s.webhook_secret.get_secret_value(), s.api_key.get_secret_value(), timeout)
    if not ok:
        raise typer.Exit(1)


@eval_app.command("smoke")
def eval_smoke(
    file: Annotated[Path, typer.Option(help="JSONL with gold labels")] = Path("evals/datasets/smoke.jsonl"),
    llm: Annotated[str | None, typer.Option(help="override TRIAGE_LLM, e.g. none")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics here")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N tickets")] = None,
) -> None:
    """Run the graph offline over a labelled dataset: outcomes against gold, triage accuracy, doc recall."""
    from evals.smoke import format_report, run_smoke

    with model_for(llm) as (s, _model):
        metrics = run_smoke(s, file, limit=limit)
    typer.echo(format_report(metrics))
    if json_out:
        json_out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")


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


@app.command()
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
    from agent.graph.classifier.model import TrainParams
    from agent.graph.classifier.model import train as train_classifier

    s = get_settings()
    target = out or s.classifier_path
    if if_missing and (target / "manifest.json").exists():
        typer.echo(f"classifier already trained at {target}")
        return
    source = data or (str(s.history_path) if s.history_path else None)
    if source is None:
        _fail("no --data given and TRIAGE_HISTORY_PATH is empty")
        return
    if data is None:  # the shipped history format (evals/datasets/README.md)
        text_column = text_column or ["subject+body"]
        label_column = label_column or ["category", "priority", "sentiment"]
        oos_label = oos_label or "other"  # the policy's out-of-scope category
    try:
        ds = read_labelled(source, text_column, label_column)
    except DataError as exc:
        _fail(str(exc))
        return
    params = TrainParams(
        C=c,
        tfidf=tfidf,
        target_precision=target_precision,
        oos_label=oos_label,
        fine_tune_epochs=epochs,
        oos_max_in_scope_loss=oos_max_loss,
    )
    staging = target.with_name(target.name + ".new")
    try:
        clf = train_classifier(ds, s.embedder, staging, params, progress=typer.echo)
    except ValueError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        _fail(str(exc))
        return
    clf.save()
    # swap in one rename, so a running service never sees half an artefact
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
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


@eval_app.command("triage")
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
    from evals.report import write_report
    from evals.triage_eval import run_triage_eval

    try:
        result = run_triage_eval(
            train_file,
            test_file,
            text_column,
            label_column,
            get_settings().embedder,
            oos_label=oos_label,
            shots=shots,
            seed=seed,
            params=TrainParams(C=c, tfidf=tfidf, fine_tune_epochs=epochs, oos_max_in_scope_loss=oos_max_loss),
            save_model=save_model,
            progress=lambda m: typer.echo(m, err=True),
        )
    except (DataError, ValueError) as exc:
        _fail(str(exc))
        return
    run = result["run"]
    typer.echo(f"{run['field']}: train {run['train_rows']} rows, test {run['test_rows']} rows, {run['labels']} labels")
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"):
        if key in result:
            typer.echo(f"  {key:18} {result[key]:.2%}")
    typer.echo(f"  {'ece':18} {result['ece']:.4f}")
    typer.echo(f"  {'tickets_per_s':18} {result['tickets_per_s']:.0f}")
    at = result["metrics"]["at_threshold"]
    typer.echo(
        f"  classifier decides {at['coverage']:.1%} at {at['accuracy']:.2%} accuracy "
        f"(threshold {at['threshold']:.3f}); the rest go to the LLM"
    )
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        typer.echo(f"wrote {json_out}")
    if report:
        paths = write_report(result, report, title=f"Triage evaluation: {Path(test_file.split(':')[0]).name}")
        typer.echo(f"wrote {paths['markdown']} and {paths['html']}")


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


def _pc(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _resolve_run(
    kb: Path | None, test: Path, policy: Path | None, llm: str | None, classifier: str, limit: int | None
) -> Any:
    from agent.graph.classifier.model import ArtefactError
    from agent.graph.policy import PolicyError
    from evals.resolve import prepare
    from evals.resolve_data import ResolveDataError

    def progress(i: int, n: int) -> None:
        if i == n or i % 25 == 0:
            typer.echo(f"  {i}/{n} tickets", err=True)

    with model_for(llm) as (s, _model):
        try:
            return prepare(s, kb or s.kb_path, test, policy, s.llm, classifier, limit, progress)
        except (ResolveDataError, PolicyError, ArtefactError, ValueError) as exc:
            _fail(str(exc))
            raise typer.Exit(2) from exc


@eval_app.command("resolve")
def eval_resolve(
    test: Annotated[Path, typer.Option("--test", help="cases with gold answers (.jsonl or .csv)")],
    kb: KbPath = None,
    policy: PolicyPath = None,
    llm: Annotated[str | None, typer.Option(help="override TRIAGE_LLM, e.g. none")] = None,
    classifier: ClassifierChoice = "auto",
    limit: Annotated[int | None, typer.Option(help="only the first N cases")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics here")] = None,
    report: Annotated[Path | None, typer.Option(help="write report.md, report.html and plots here")] = None,
    judge: Annotated[
        str | None,
        typer.Option(help="LLM judge for faithfulness and answer relevancy, e.g. llamacpp/qwen2.5-coder-1.5b-instruct"),
    ] = None,
) -> None:
    """Run the graph in dry-run (no write-back) over cases with gold answers: how much is
    auto-resolved, how much of that is wrong, handoff recall, retrieval quality, latency."""
    from agent.graph.llm import make_chat_model
    from evals.judge import judge as run_judge
    from evals.resolve import evaluate, format_summary
    from evals.resolve_report import write_resolve_report
    from knowledge.embeddings import get_embedder

    s = get_settings()
    run = _resolve_run(kb, test, policy, llm, classifier, limit)
    result = evaluate(run.traces, run.policy, run.facts, s.top_k)
    if judge:
        with model_for(judge) as (js, _model):
            model = make_chat_model(judge, js)
            if model is None:
                _fail(f"--judge {judge!r} is not a model; give provider/model")
                return
            typer.echo(f"judging drafts with {judge} ...", err=True)
            verdict = run_judge(
                run.traces, model, s.prompts_dir, get_embedder(s.embedder), run.knowledge.document_text, judge
            )
        result["judge"] = {k: v for k, v in verdict.items() if k != "prompts"}
        result["faithfulness"], result["answer_relevancy"] = verdict["faithfulness"], verdict["answer_relevancy"]
        result["run"]["prompts"].update(verdict["prompts"])
    typer.echo(format_summary(result))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        typer.echo(f"wrote {json_out}")
    if report:
        paths = write_resolve_report(result, report, f"Auto-resolution evaluation: {test.name}")
        typer.echo(f"wrote {paths['markdown']} and {paths['html']}")


@app.command()
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
    llm: Annotated[str | None, typer.Option(help="override TRIAGE_LLM, e.g. none")] = None,
    classifier: ClassifierChoice = "auto",
    dry_run: Annotated[bool, typer.Option(help="print the thresholds, write nothing")] = False,
    cv_folds: Annotated[
        int, typer.Option(help="also estimate the figures on unseen tickets by k-fold cross-validation (0 = off)")
    ] = 5,
) -> None:
    """Choose the thresholds that auto-resolve the most dev tickets within the wrong-resolution
    budget, and write them (with the dev figures) into the policy file. Risk rules never move."""
    from evals.tune import render_policy, write_policy
    from evals.tune import tune as tune_policy

    s = get_settings()
    base_path = policy or s.policy_file
    run = _resolve_run(kb, dev, policy, llm, classifier, None)
    try:
        result = tune_policy(run.traces, run.policy, max_wrong, min_handoff_recall or None, cv_folds)
    except ValueError as exc:
        _fail(str(exc))
        return
    before, after = result.base_dev, result.dev
    typer.echo(f"dev {dev}: {after['tickets']} tickets, {after['answerable']} answerable")
    typer.echo("threshold                      before -> after")
    typer.echo(f"  retrieval.auto_at_least      {run.policy.retrieval.auto_at_least:.3f} -> {result.auto_at_least:.3f}")
    typer.echo(
        f"  retrieval.auto_min_margin    {run.policy.retrieval.auto_min_margin:.3f} -> {result.auto_min_margin:.3f}"
    )
    typer.echo(
        f"  retrieval.suggest_at_least   {run.policy.retrieval.suggest_at_least:.3f} -> {result.suggest_at_least:.3f}"
    )
    for name, value in result.thresholds.items():
        old = run.policy.categories[name].auto_threshold
        mark = "  (no dev tickets: kept)" if name in result.untouched else ""
        typer.echo(f"  {name + '.auto_threshold':29}{old:.3f} -> {value:.3f}{mark}")
    rows = [("before", before), ("after", after)]
    if result.cv is not None:
        rows.append((f"cross-validated ({result.cv['folds']} folds, unseen tickets)", result.cv))
    for label, m in rows:
        typer.echo(
            f"{label}: auto-resolution {_pc(m['auto_resolution_rate'])} "
            f"(answerable {_pc(m['auto_resolution_rate_answerable'])}), wrong {m['wrong_resolutions']} = "
            f"{_pc(m['wrong_resolution_rate'])} of auto (95% upper bound {_pc(m['wrong_resolution_upper95'])}), "
            f"handoff recall {_pc(m['handoff_recall'])}"
        )
    for note in result.notes:
        typer.echo(f"note: {note}")
    if dry_run:
        return
    target = out or base_path
    figures = {
        "dev": str(dev),
        "dev_sha256": hashlib.sha256(dev.read_bytes()).hexdigest(),
        "kb": str(run.facts["kb"]),
        "llm": run.facts["llm"],
        "classifier": run.facts["classifier"],
        "base_version": run.policy.version,
        "max_wrong": max_wrong,
        "min_handoff_recall": min_handoff_recall,
        "tickets": after["tickets"],
        "answerable": after["answerable"],
        "auto_resolution_rate": after["auto_resolution_rate"],
        "auto_resolution_rate_answerable": after["auto_resolution_rate_answerable"],
        "wrong_resolutions": after["wrong_resolutions"],
        "wrong_resolution_rate": after["wrong_resolution_rate"],
        "wrong_resolution_upper95": after["wrong_resolution_upper95"],
        "handoff_recall": after["handoff_recall"],
        "cross_validated": (
            {
                k: result.cv[k]
                for k in (
                    "folds",
                    "auto_resolution_rate",
                    "auto_resolution_rate_answerable",
                    "wrong_resolutions",
                    "wrong_resolution_rate",
                    "wrong_resolution_upper95",
                    "handoff_recall",
                )
            }
            if result.cv is not None
            else None
        ),
        "notes": result.notes,
    }
    base_text = base_path.read_text(encoding="utf-8") if base_path.exists() else None
    try:
        written = write_policy(target, render_policy(base_text, run.policy, result, figures), result)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {target} (version {written.version})")


@app.command("export-feedback")
def export_feedback_cmd(
    out: Annotated[Path, typer.Option(help="eval dataset (ticket JSONL with gold outcome and docs)")] = Path(
        "data/feedback/eval.jsonl"
    ),
    history: Annotated[Path | None, typer.Option(help="also write labelled history for `triage train --data`")] = Path(
        "data/feedback/history.jsonl"
    ),
    since: Annotated[str | None, typer.Option(help="only verdicts from this date on (YYYY-MM-DD)")] = None,
) -> None:
    """Every approval, edit and rejection of a suggested reply, as an eval dataset and training history."""
    from datetime import UTC, datetime

    from agent.storage.reviews import ReviewStore
    from agent.storage.tickets import TicketStore
    from evals.feedback import export_feedback

    start = None
    if since:
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        except ValueError:
            _fail(f"--since {since!r} is not a date; use YYYY-MM-DD")
            return
    reviews = ReviewStore(TicketStore(get_settings().db_url)).all()
    n_eval, n_hist = export_feedback(reviews, out, history, start)
    typer.echo(f"wrote {n_eval} reviewed tickets to {out}")
    if history is not None:
        typer.echo(f"wrote {n_hist} labelled tickets to {history} (train with `triage train --data {history}`)")


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="--json file or --report directory")],
    run_b: Annotated[Path, typer.Argument(help="--json file or --report directory")],
) -> None:
    """Two eval runs side by side, with the differences."""
    from evals.report import compare_runs, load_run

    try:
        a, b = load_run(run_a), load_run(run_b)
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        _fail(str(exc))
        return
    typer.echo(compare_runs(a, b, run_a.name, run_b.name))


@app.command()
def bench(
    tickets: Annotated[int, typer.Option(help="tickets for the throughput run")] = 300,
    llm_tickets: Annotated[int, typer.Option(help="tickets for the local-LLM latency run (0 skips)")] = 20,
    requests: Annotated[int, typer.Option(help="webhook requests for the intake load")] = 1000,
    concurrency: Annotated[int, typer.Option()] = 16,
) -> None:
    """Print throughput and latency figures measured on this machine."""
    from evals.bench import run_bench

    run_bench(get_settings(), tickets=tickets, llm_tickets=llm_tickets, requests=requests, concurrency=concurrency)


# ---- routing and SLA: `triage coverage check` ------------------------------------------------------
coverage_app = typer.Typer(help="Handoff routing: 24/7 shift coverage of the support team.", no_args_is_help=True)
app.add_typer(coverage_app, name="coverage")


@coverage_app.command("check")
def coverage_check(
    file: Annotated[Path | None, typer.Option("--file", help="team file (default TRIAGE_TEAM_FILE)")] = None,
    policy: Annotated[Path | None, typer.Option(help="policy file for its queues (default TRIAGE_POLICY_FILE)")] = None,
    year: Annotated[int | None, typer.Option(help="ISO year whose weeks are checked (default this year)")] = None,
) -> None:
    """Check that every queue x tier the routing rules can send a ticket to has someone on duty all 168
    hours of every week of the year (real dates, so DST changes are in), and name every gap. Exit 1 on gaps."""
    from datetime import UTC, datetime

    from agent.graph.policy import PolicyError, load_policy
    from agent.graph.routing import TeamError, coverage_gaps, load_team, routable_targets

    settings = get_settings()
    team_path = file or settings.team_file
    try:
        team = load_team(team_path)
        pol = load_policy(policy or settings.policy_file)
    except (TeamError, PolicyError) as exc:
        _fail(str(exc))
        return
    unknown = sorted({c for r in team.rules for c in r.category} - set(pol.categories))
    if unknown:
        _fail(f"team file {team_path}: rules name categories the policy does not define: {', '.join(unknown)}")
    check_year = year or datetime.now(UTC).year
    targets = routable_targets(team, {c: r.queue for c, r in pol.categories.items()}, pol.categories["other"].queue)
    try:
        gaps = coverage_gaps(team, targets, check_year)
    except ValueError as exc:  # a year outside the window shift times can be computed in
        _fail(str(exc))
        return
    if gaps:
        for gap in gaps:
            typer.echo(str(gap))
        typer.secho(f"{len(gaps)} coverage gap(s) in {team_path} ({check_year})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    pairs = ", ".join(f"{q} {t}" for q, t in sorted(targets))
    typer.echo(f"OK: {len(targets)} queue/tier pairs covered 24/7 in every week of {check_year} ({pairs})")


# ---- access: `triage keys create | list | revoke` ---------------------------------------------------
keys_app = typer.Typer(help="API keys with roles (webhook, agent, admin), stored hashed.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _key_store() -> Any:
    from agent.storage.keys import KeyStore
    from agent.storage.tickets import TicketStore

    store = TicketStore(get_settings().db_url)
    return KeyStore(store.engine, store.writing)


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="who or what uses the key: a person, or a sending system")],
    role: Annotated[str, typer.Option(help="webhook (intake only), agent (reviews, tickets, SLA), admin (all)")],
) -> None:
    """Create a key and print it once (only its hash is stored: copy it now)."""
    from agent.storage.keys import KeyStoreError

    try:
        created = _key_store().create(name, role, _cli_actor())
    except KeyStoreError as exc:
        _fail(str(exc))
        return
    typer.echo(created.key)
    typer.secho(
        f"created key {created.info.id} for {created.info.name!r} with role {created.info.role}; "
        "it is shown only now. Send it as 'Authorization: Bearer <key>'.",
        err=True,
    )


@keys_app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="include revoked keys")] = False,
) -> None:
    """Keys (id, name, role, created, last used, revoked); never the secrets."""
    keys = _key_store().list(include_revoked=all_keys)
    if not keys:
        typer.echo("no API keys (create one: triage keys create --name NAME --role agent)")
        return

    def when(dt: Any) -> str:
        return dt.strftime("%Y-%m-%d %H:%M") if dt is not None else "-"

    typer.echo(f"{'ID':<12}  {'ROLE':<7}  {'NAME':<24}  {'CREATED':<16}  {'LAST USED':<16}  {'REVOKED':<16}  BY")
    for k in keys:
        typer.echo(
            f"{k.id:<12}  {k.role:<7}  {k.name[:24]:<24}  {when(k.created_at):<16}  {when(k.last_used_at):<16}  "
            f"{when(k.revoked_at):<16}  {k.created_by}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (triage keys list)")]) -> None:
    """Revoke a key: refused from its next request on."""
    from agent.storage.keys import KeyStoreError

    try:
        info = _key_store().revoke(key_id, _cli_actor())
    except KeyStoreError as exc:
        _fail(str(exc))
        return
    typer.echo(f"revoked key {info.id} ({info.name}, {info.role}) at {info.revoked_at:%Y-%m-%d %H:%M} UTC")
