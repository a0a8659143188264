"""How to run the service as several processes: `topology` (one machine, `triage up`) and
`compose.yaml` (production: the same processes as containers, with their health checks)."""
