"""The outside world, reached only through the graph's side-effect nodes (after the decision):

- `tools.http`: one httpx client and one retry policy as data (transient failures only: network,
  408, 429, 5xx; `Retry-After` / `X-RateLimit-Reset` honoured; bounded attempts and time; typed errors).
- `tools.ticketing`: write-back to Zendesk, Jira / JSM, Freshdesk and YouTrack (one Protocol, one
  adapter per system), the idempotency ledger keyed by (ticket, step) and `WriteBackPlan`; the graph's
  `write_back` node uses them, `triage writeback retry` re-applies a failed plan. Fake servers for
  tests: `tools.ticketing.testing` (one per system).
- `tools.actions`: allowlisted PayFlow business actions (schema-validated, approval rules, dry run)
  and their fake backend.
"""
