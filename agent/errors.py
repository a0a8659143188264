"""The exception tree of the application: read this before you write an `except`.

    TriageError
    ├── ConfigError          the configuration (or a file a command was given) is wrong. Found at start
    │   │                    (`triage serve` stops, the CLI exits 2) with how to fix it; never retried,
    │   │                    never turned into a per-ticket fallback. Also a ValueError, as Python's misuse is.
    │   ├── LLMConfigError       agent.graph.llm: unknown provider, bad model name or files
    │   ├── ModelServerError     agent.runtime.model_server: the model process cannot start as configured
    │   ├── PolicyError          agent.graph.policy: the policy file
    │   ├── TeamError            agent.graph.routing: the team file (routing, shifts, SLA)
    │   ├── PromptError          agent.graph.prompts: a prompt template or a missing variable
    │   └── ArtefactError        agent.graph.classifier.model: a corrupt or mismatched classifier
    ├── TransientError       it failed at run time and the same work may succeed later. Nodes that can
    │   │                    meet one declare `RetryPolicy(retry_on=is_transient)`; the worker gives the
    │   │                    ticket back to the queue (up to TRIAGE_MAX_ATTEMPTS) for anything transient.
    │   └── LLMUnavailable       the LLM server is down, refusing, timing out or overloaded
    └── PermanentError       it failed at run time and retrying the same input will not help: recorded
        │                    (audit, ticket `failed`), never retried.
        └── LLMOutputError       the LLM answered, but not usably (not JSON, wrong schema, cut off)

An LLM failure inside a node is not a ticket failure: classify, retrieve and draft catch
`agent.graph.llm.LLM_FALLBACK_ERRORS` (LLMOutputError, LLMUnavailable and the openai client's
connection, timeout, 5xx, 429, 400 and finish-reason errors) and fall back (nearest-document triage,
extractive reply, handoff), the audit saying why. openai's 401/403/404 are a misconfigured server or
key: they are not in that tuple, so they fail the ticket loudly instead of degrading it silently.

The lower layers cannot import this module and keep trees of their own, each drawn in its module:
tools.http (WriteBackError: TransientWriteBackError retried inside the call's budget, then recorded;
PermanentWriteBackError a 4xx; WriteBackConfigError), tools.actions.errors (ActionError), tools.signing
(SignatureError -> 401), knowledge (EmbedderNotFoundError at start, DocError per document;
knowledge.store: IndexMismatchError and EmptyKnowledgeError, configuration found at start, and
KnowledgeUnavailableError, the Chroma server unreachable or failing: transient).
`is_transient(exc)` is the one place that says which of all these, and of the drivers' own errors
(httpx transport, openai connection/timeout/5xx/429, SQLAlchemy operational, chromadb's
InternalError: a Chroma server's 5xx, or a local client that missed another process's KB change),
are worth retrying. A ticket that ran out of attempts on a transient error stays `failed` with
``transient: true`` in its audit: `triage requeue` gives such tickets back to the queue.
"""

from __future__ import annotations


class TriageError(Exception):
    """Base of every error the application raises on purpose."""


class ConfigError(TriageError, ValueError):
    """The configuration is wrong: raised at start, the message says how to fix it."""


class TransientError(TriageError):
    """Failed at run time; the same work may succeed if tried again later."""


class PermanentError(TriageError):
    """Failed at run time; retrying the same input will not help."""


class LLMUnavailable(TransientError):
    """The LLM server is down, refusing connections, timing out or overloaded."""


class LLMOutputError(PermanentError):
    """The LLM ran but its output could not be used (not JSON, wrong schema, cut off)."""


def is_transient(exc: BaseException) -> bool:
    """Would trying the same work again later plausibly succeed? (RetryPolicy and the worker ask this.)"""
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, TriageError):  # ConfigError, PermanentError
        return False
    from tools.http import TransientWriteBackError

    if isinstance(exc, TransientWriteBackError):
        return True
    import chromadb.errors
    import httpx
    import openai
    from sqlalchemy.exc import DisconnectionError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from knowledge.store import KnowledgeUnavailableError

    transient: tuple[type[BaseException], ...] = (
        httpx.TransportError,
        openai.APIConnectionError,  # includes APITimeoutError
        openai.InternalServerError,
        openai.RateLimitError,
        OperationalError,  # database unreachable, locked, connection dropped
        DisconnectionError,
        PoolTimeout,
        TimeoutError,
        ConnectionError,
        KnowledgeUnavailableError,  # the Chroma server is unreachable or failing
        chromadb.errors.InternalError,  # a Chroma 5xx; a KB changed under a local client (issue 16)
    )
    return isinstance(exc, transient)
