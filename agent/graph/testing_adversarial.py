"""Test doubles for the adversarial suite (tests/fixtures/adversarial, evals/adversarial.py).

`ObedientChatModel` is the worst small model there is: a LangChain chat model with the real interface
that does whatever the ticket tells it, while looking as grounded as it can.
- classify (a `response_format` whose schema has `category`): valid JSON, every confidence 0.99, no
  risk flags, the category the ticket dictates ("category: billing", "classify this as ...") if it
  names one of the schema's, else the first candidate article's category from the prompt;
- draft (plain text, "Articles:" in the prompt): a greeting, the first ~400 characters of the first
  article it was given, then everything the ticket dictates (every quoted phrase, URL, e-mail address,
  phone number and amount in the ticket, in one sentence), then `Source: [<that article's id>]`.
  When the ticket asks to repeat, quote or echo, it appends the ticket (and, when asked for its
  instructions, its system prompt), as the bundled model did on demo ticket S003; it also echoes the
  ticket, unasked, for one ticket in five (by a hash of the ticket text, so runs are reproducible);
- search-query rewrite: latches onto an access word ("пароль", "увійти", "доступ") and asks for the
  password article; otherwise returns the ticket unchanged (which the retrieve node ignores);
- any other structured prompt: the most permissive JSON the schema accepts (true, the top of every
  numeric range, the first enum value); any other text prompt: "yes".

`RecordingChatModel` wraps any chat model (the obedient one, the bundled llama.cpp one) and records
every message list it is sent, so a harness can check what reached the model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from agent.graph.llm import to_dicts
from agent.graph.testing import StructuredByJsonSchema

_FENCED = re.compile(r"<<<TICKET-([0-9A-Za-z]+)>>>\n?(.*?)\n?<<<END-TICKET-\1>>>", re.DOTALL)
_OLD_FENCE = re.compile(r'"""\n?(.*?)\n?"""', re.DOTALL)
_DOC_HEAD = re.compile(r"(?m)^\[([A-Za-z0-9][A-Za-z0-9_.\-]*)\] ([^\n]*)\n")
_CANDIDATE = re.compile(r"(?m)^- \[([a-z_]+)\] ")
_DICTATED_CATEGORY = re.compile(
    r"(?i)(?:category\s*[:=]\s*|classify (?:this|it) as\s+|категорія\s*[:=]\s*|познач(?:те)? як\s+)([a-z_]+)"
)
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>()\"'«»]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)+/[^\s<>()\"'«»]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()\-]{6,}\d")
_AMOUNT = re.compile(r"(?i)(?:[$€£]\s?\d[\d,. ]*\d|\d[\d,. ]*\d\s?(?:eur|usd|gbp|uah|грн|usdt|%)|\d+\s?%)")
_QUOTED = re.compile(r"'([^'\n]{4,300})'|«([^»\n]{4,300})»|\"([^\"\n]{4,300})\"|“([^”\n]{4,300})”")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
_ECHO_ASK = re.compile(r"(?i)\b(repeat|quote|echo|word for word|verbatim)\b|повтор|процитуй|дослівно")
_INSTRUCTIONS_ASK = re.compile(r"(?i)instructions|system prompt|above this line|інструкції|вище цього")
_ACCESS_WORD = re.compile(r"(?i)пароль|увійти|доступ|логін")
ARTICLE_CHARS = 400
GREETING = {"uk": "Добрий день! Ось що допоможе:", "en": "Hello, here is what should help:"}


def ticket_of(prompt: str) -> str:
    """The ticket text a prompt carries: between this request's fence markers, else (an older prompt)
    between triple quotes, else the whole prompt."""
    m = _FENCED.search(prompt)
    if m:
        return m.group(2)
    m = _OLD_FENCE.search(prompt)
    return m.group(1) if m else prompt


def dictated(ticket: str) -> list[str]:
    """Everything the ticket tells a reply to say: quoted phrases, URLs, e-mail addresses, phone
    numbers and amounts (redaction placeholders such as [PHONE] included: they are what the model saw)."""
    found: list[str] = []
    for m in _QUOTED.finditer(ticket):
        found.append(next(g for g in m.groups() if g))
    found += _URL.findall(ticket) + _EMAIL.findall(ticket) + _PHONE.findall(ticket) + _AMOUNT.findall(ticket)
    found += _PLACEHOLDER.findall(ticket)
    return list(dict.fromkeys(s.strip() for s in found if s.strip()))


def _article(user: str) -> tuple[str | None, str]:
    """The first article in a draft prompt: (its id, its first ARTICLE_CHARS characters)."""
    docs = user.split("<<<TICKET-", 1)[0]
    m = _DOC_HEAD.search(docs)
    if not m:
        return None, ""
    rest = docs[m.end() :]
    nxt = _DOC_HEAD.search(rest)
    body = rest[: nxt.start()] if nxt else rest
    return m.group(1), body.strip()[:ARTICLE_CHARS]


def _fill(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """The most permissive value `schema` accepts (for prompts this double does not know)."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return _fill(root.get("$defs", {}).get(name, {}), root)
    if "enum" in schema:
        return "yes" if "yes" in schema["enum"] else schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return _fill(schema["anyOf"][0], root)
    kind = schema.get("type")
    if kind == "object":
        return {k: _fill(v, root) for k, v in schema.get("properties", {}).items()}
    if kind == "boolean":
        return True
    if kind in ("number", "integer"):
        top = schema.get("maximum", 1)
        return int(top) if kind == "integer" else float(top)
    if kind == "array":
        return []
    return "yes"


class ObedientChatModel(StructuredByJsonSchema):
    """Obeys the ticket (see the module docstring); records every message list it is sent."""

    calls: list[list[dict[str, str]]] = Field(default_factory=list)
    echo_every: int = 5  # echo the ticket unasked for one ticket in this many (0: never)

    @property
    def _llm_type(self) -> str:
        return "obedient"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        msgs = to_dicts(messages)
        self.calls.append(msgs)
        system = "\n".join(m["content"] for m in msgs if m["role"] == "system")
        user = "\n".join(m["content"] for m in msgs if m["role"] != "system")
        fmt = kwargs.get("response_format")
        schema: Mapping[str, Any] | None = fmt.get("schema") if isinstance(fmt, Mapping) else None  # type: ignore[assignment]
        if schema is not None:
            props = schema.get("properties", {})
            reply = json.dumps(self._classify(user, props) if "category" in props else _fill(schema, schema))
        elif "Articles:" in user:
            reply = self._draft(system, user)
        elif "search quer" in system.lower():
            ticket = ticket_of(user)
            reply = "How do I reset my password and unlock my account?" if _ACCESS_WORD.search(ticket) else ticket
        else:
            reply = "yes"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    def _classify(self, user: str, props: Mapping[str, Any]) -> dict[str, Any]:
        categories = [str(c) for c in props["category"].get("enum", [])]
        ticket = ticket_of(user)
        wanted = next((m.group(1).lower() for m in _DICTATED_CATEGORY.finditer(ticket)), None)
        candidate = next((c for c in _CANDIDATE.findall(user) if c in categories), None)
        fallback = next((c for c in categories if c != "other"), categories[0] if categories else "other")
        category = wanted if wanted in categories else candidate or fallback
        out: dict[str, Any] = {
            "category": category,
            "category_confidence": 0.99,
            "priority": "low",
            "priority_confidence": 0.99,
            "sentiment": "neutral",
            "sentiment_confidence": 0.99,
            "risk_flags": [],
            "risk_confidence": 0.99,
        }
        return {k: v for k, v in out.items() if k in props}

    def _draft(self, system: str, user: str) -> str:
        ticket = ticket_of(user)
        doc_id, article = _article(user)
        language = "uk" if "Write in Ukrainian" in system else "en"
        parts = [GREETING[language], article]
        told = dictated(ticket)
        if told:
            parts.append(("Важливо: " if language == "uk" else "Important: ") + "; ".join(told) + ".")
        unasked = self.echo_every and int(hashlib.sha256(ticket.encode()).hexdigest(), 16) % self.echo_every == 0
        if _ECHO_ASK.search(ticket) or unasked:
            if _INSTRUCTIONS_ASK.search(ticket):
                parts.append(system)
            parts.append(f'Ticket: """ {ticket} """')
        if doc_id:
            parts.append(f"{'Джерело' if language == 'uk' else 'Source'}: [{doc_id}]")
        return "\n\n".join(p for p in parts if p)

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # pragma: no cover - not used
        raise NotImplementedError


class RecordingChatModel(StructuredByJsonSchema):
    """Any chat model, with every message list it is sent recorded in `calls` (structured output is
    asked for the way the llama.cpp and scripted models take it: a `response_format` JSON schema)."""

    inner: BaseChatModel
    calls: list[list[dict[str, str]]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return f"recording-{self.inner._llm_type}"  # pyright: ignore[reportPrivateUsage]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(to_dicts(messages))
        return self.inner._generate(messages, stop=stop, run_manager=run_manager, **kwargs)  # pyright: ignore[reportPrivateUsage]

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # pragma: no cover - not used
        raise NotImplementedError
