"""Alembic migrations of the service database (env.py, script.py.mako, versions/).

Applied by `agent.storage.db.migrate` (what `triage serve`, `triage worker` and every store run);
Alembic's own commands with the config the code builds: `python -m agent.storage.migrations ...`.
How to add one: README.md in this folder.
"""
