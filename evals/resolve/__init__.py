"""`triage eval resolve`: run the graph in dry-run over a dataset with gold answers and measure
whether what it auto-resolves is right.

How a run works:
1. The knowledge base is ingested into an eval workspace of its own (`<data_dir>/eval-kb/<hash>`,
   reused while the KB is unchanged), never into the service's collection (`run.workspace`).
2. Every case goes once through the real graph (no write-back, no checkpointer) under a
   *permissive* copy of the policy: every threshold that `triage tune` may move is opened up, so
   every ticket that is not handed off for a fixed reason (risk, out of scope, open known issue,
   LLM failure) gets a draft and a grounding check. The run keeps what the policy needs: triage,
   hits, search language, compound flag, and the ground check's verdict on the draft (`run`).
3. The outcome under the real policy is then `Policy.decide()` on those facts, plus the ground
   check's auto -> suggest downgrade: exactly what the graph does (a test checks they agree).
   Thresholds can thus be swept (the auto/wrong curve, `triage tune`) without re-running models
   (`replay`).

A wrong resolution is an auto-resolution for a ticket that should have gone to a human
(unanswerable, out of scope, or gold outcome not auto_resolve), or whose reply cites no gold doc.
`wrong_resolution_rate` is wrong / auto-resolved: the share of auto-sent replies that were wrong.

Modules: `data` (knowledge bases and cases in every supported shape), `run` (cases through the
graph -> traces), `replay` (a trace re-decided under any policy), `metrics` (the figures and the
result of a run), `report` (the terminal summary, markdown + HTML + plots).
"""
