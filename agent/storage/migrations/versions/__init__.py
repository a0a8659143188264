"""Alembic revisions of the service database, oldest first by `down_revision`."""
