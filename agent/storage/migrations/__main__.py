"""Alembic's own command line with the config the code builds (no alembic.ini):

    python -m agent.storage.migrations [-x url=<SQLAlchemy URL>] <alembic command> [args]

Without `-x url=...` the database is the settings' (TRIAGE_DATABASE_URL, default sqlite:///data/triage.db).
See README.md in this folder.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from alembic.config import CommandLine


def main(argv: Sequence[str] | None = None) -> None:
    from agent.storage.db import alembic_config

    cli = CommandLine(prog="python -m agent.storage.migrations")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    given = any(x.startswith("url=") for x in options.x or ())
    config = alembic_config(None if given else _settings_url())  # env.py prefers -x url=...
    config.cmd_opts = options
    cli.run_cmd(config, options)


def _settings_url() -> str:
    from agent.settings import Settings

    return Settings().db_url


if __name__ == "__main__":
    main(sys.argv[1:])
