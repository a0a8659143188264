"""`triage` command line: a thin shell over the packages, one module per command group.

Each command parses its options, calls the owner of the work and prints; this file is the table of
contents (the order here is the order of `triage --help`: top-level commands first, then groups).

    setup      init                                      .env with fresh secrets (agent/settings.py)
    tickets    run-ticket, demo                          one ticket offline; demo tickets to a server
    serve      serve, worker, model serve                the long-running processes (agent/runtime/)
    train      train                                     the classifier artefact (agent/graph/classifier/)
    evaluate   eval smoke|triage|resolve|compare, tune   offline evaluation (evals/)
    risk       eval risk                                 the risk detector on labelled data (agent/graph/risk/)
    feedback   export-feedback                           review verdicts as data (evals/feedback.py)
    bench      bench                                     figures measured on this machine (evals/bench.py)
    kb         kb ingest|search                          the knowledge base (knowledge/)
    writeback  writeback retry                           failed write-backs (agent/runtime/writeback.py)
    coverage   coverage check                            24/7 shifts (agent/graph/routing.py, shifts.py)
    keys       keys create|list|revoke                   API keys (agent/storage/keys.py)
    backfill   backfill                                  past tickets as lifecycle events (api/cli/backfill.py)
    topics     topics                                    recurring issues -> root causes (agent/insights/topics.py)
    answerability  answerability train                   P(reply resolves) model (evals/answerability.py)
    report     report weekly                             the weekly performance review (api/cli/report.py)
    common     fail(), model_for() (the bundled model's process for a command), shared options
"""

from __future__ import annotations

import typer

from api.cli import (
    adversarial,
    answerability,
    backfill,
    bench,
    coverage,
    evaluate,
    feedback,
    kb,
    keys,
    prune,
    report,
    requeue,
    risk,
    serve,
    setup,
    tickets,
    topics,
    train,
    up,
    writeback,
)

app = typer.Typer(help="Support ticket triage and auto-resolution service.", no_args_is_help=True)

app.command()(setup.init)
app.command("run-ticket")(tickets.run_ticket)
app.command()(serve.serve)
app.command()(serve.worker)
app.command()(tickets.demo)
app.command()(train.train)
app.command()(evaluate.tune)
app.command("export-feedback")(feedback.export_feedback_cmd)
app.command()(bench.bench)
app.command()(backfill.backfill)
app.command()(topics.topics)  # triage topics (api/cli/topics.py)
app.command()(prune.prune)  # triage prune (api/cli/prune.py)
app.command("requeue")(requeue.requeue_cmd)  # triage requeue: failed tickets back to the queue
app.command()(up.up)  # triage up: the whole service as processes on one machine (api/deploy/)

app.add_typer(kb.app, name="kb")
evaluate.app.command("risk")(risk.eval_risk)  # triage eval risk (api/cli/risk.py)
app.add_typer(evaluate.app, name="eval")
evaluate.app.command("adversarial")(adversarial.eval_adversarial)
app.add_typer(writeback.app, name="writeback")
app.add_typer(serve.model_app, name="model")
app.add_typer(coverage.app, name="coverage")
app.add_typer(keys.app, name="keys")
app.add_typer(answerability.app, name="answerability")
app.add_typer(report.app, name="report")  # triage report weekly (api/cli/report.py)
