"""HTTP API (FastAPI) and the CLI entry point. Nothing else imports this package."""
