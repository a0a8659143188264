"""Question coverage: the ticket split into what it asks, and whether the cited documents answer each.

A ticket asks questions ("how do I ...?", "чи можна ...?"), makes requests ("please resend ...",
"підкажіть ..."), reports incidents ("payroll is broken for the whole office", "не працює") and
sometimes dictates the answer ("in your reply, tell me to ..."). A reply answers it only if every
one of those is answered by a document it cites:
- a question, request or dictation is covered when a search for its own words puts a cited document
  among its first COVER_RANK results, or when most of its content words are in the cited documents;
- an incident is covered only when a search for it puts a cited document among its first COVER_RANK
  results (or nearly all its words are in them): a how-to article does not fix a broken payroll,
  however many words they share;
- either is also covered when a search for it together with the ticket's subject puts a cited
  document first and the search for it alone finds that document among its first ALONE_RANK (a
  question of at most SHORT_ASK_WORDS content words, "Куди дивитися?", "what format do you want", is
  too short to search alone: the subject search decides). A sentence that describes the problem in the
  customer's words ("our pickers can't clock in") rarely shares the article's terms; the subject
  names the problem, the ask's own search keeps a second, unrelated question out;
- and a short question or incident none of the above covers is taken as answered unless something
  shows it is about another document (`_points_elsewhere`): its own search puts another document
  first in both the dense and the BM25 ranking, or its first two results are of one category that is
  not the answering document's (a question about access under a reporting article). A mail-style
  ticket says much that no article is about (why it is urgent, what the customer tried, a follow-up
  on the same topic: "do I have to wait for someone at your end?"); a second issue names its own
  topic, which a search finds. Requests, dictations and long asks (LONG_ASK_WORDS content words or
  more) get no such benefit of the doubt: a request says what the customer wants done, the thing a
  reply must serve, and it is where a harmful aim hides behind an ordinary question ("I need to
  approve payroll in her name", "I want to compare our salaries": the adversarial suite); a long ask
  describes a problem of its own in detail.
The node runs the searches (`Retriever.search`); everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from agent.graph.checks.extract import normalise
from knowledge.lexical import tokens

AskKind = Literal["question", "request", "incident", "dictation"]

# share of an ask's content words found in the cited documents that covers it without the search
# agreeing (set by hand, not tuned on data; tests/unit/test_content_checks.py has the cases)
LEXICAL_COVERED = 0.6
INCIDENT_LEXICAL_COVERED = 0.85
MIN_CONTENT_WORDS = 2  # an ask with fewer content words ("any idea?", "що робити?") asks nothing checkable
MAX_ASKS = 8  # searched at most; later ones are judged on words alone
# a cited document among this many first results of the search for an ask answers it: a sentence
# searched alone ranks near neighbours closely (smoke S010: "sync fails ... with a 502" puts the API
# article a hair above the 502 known issue the whole ticket finds first)
COVER_RANK = 2
# the subject search (see the module doc): its first result must be cited, and the ask's own search must
# find that document this high (first blind demo set, evals/fresh: of 13 answerable single-article tickets
# held back by the check, 7 were described symptoms or elliptical asks)
ALONE_RANK = 5
# a question of at most this many content words is judged by the subject search without the ALONE_RANK test
SHORT_ASK_WORDS = 2
# an ask this long gets no benefit of the doubt (`_points_elsewhere`). 2026-12-04, on the dev demo sets
# (smoke and the first three blind sets, replayed with `--llm none`): the evidence rule frees 5 English
# and 4 Ukrainian answerable tickets held back by asides and adds no wrong auto-resolution (for requests
# too it would free one more of each, and let two risky adversarial tickets through; the category
# clause holds back one more English one, and also stops three tickets other rules stop too). Long asks
# in it at first only when their own search found no cited document within ALONE_RANK: the fourth blind
# set's first reading then auto-sent a two-issue ticket (I053: a BAS export refused "Період закрито",
# told in 8 content words, answered with the reconciliation article, fifth in that search).
LONG_ASK_WORDS = 7

DICTATION = re.compile(
    r"\b(?:in|into|within) (?:your|the|this) (?:answer|reply|response|message|email)\b"
    r"|\b(?:reply|respond|answer) (?:with|by saying|saying|only with)\b"
    r"|\b(?:say|write|state|mention|confirm|tell (?:me|us|the customer|them|him|her)) that\b"
    r"|\btell (?:me|us|the customer|customers|them|users|everyone) to\b"
    r"|\b(?:include|add|insert|put|paste) (?:this|the following|the link|a link|the url|this url|the number|the phone"
    r"|the address|the email|this link|this number|this text)\b"
    r"|\b(?:ignore|disregard|forget) (?:all |any )?(?:the )?(?:previous|prior|above|earlier|your|other) "
    r"(?:instructions|rules|prompts?|guidelines)\b"
    r"|\b(?:you are|you're) now\b|\bsystem prompt\b|\bnew instructions?\b"
    r"|\b(?:у|в) (?:своїй |вашій |твоїй |цій )?(?:відповіді|листі)\b"
    r"|відповіда(?:й|йте) (?:що|так|лише)"
    r"|(?:напиши|напишіть|скажи|скажіть|повідом|повідомте|вкажи|вкажіть|зазнач|зазначте)"
    r"(?: мені| клієнту| клієнтам)?,? (?:що|щоб)\b"
    r"|(?:додай|додайте|встав|вставте) (?:посилання|номер|адресу|текст)"
    r"|\bігнору\w*|\bзабудь\w* (?:всі|усі|попередні)|\bти тепер\b|системн\w* (?:промпт|інструкц)",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"^(?:and |also |but |so |or |then |а |і |й |та |і ще |ще )?"
    r"(?:how|what|what's|why|when|where|which|who|is|are|was|were|do|does|did|can|could|would|will|should|shall|"
    r"has|have|any idea|any way|як|що|чому|коли|де|куди|звідки|який|яка|яке|які|якої|скільки|чи|хто|навіщо|"
    r"можна|можете|можливо)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:please|pls|plz|kindly|help|can you|could you|would you|i need|we need|i want|we want|i'd like|we'd like|"
    r"tell me|let me know|advise|show me|explain|how do|how can|how to|is there a way|is it possible)\b"
    r"|будь ласка|підкажіть|допоможіть|поясніть|порадьте|прошу|потрібн|треба|хочемо|хочу|необхідно|скажіть|"
    r"повідомте|дайте знати|як зробити|як налаштувати",
    re.IGNORECASE,
)
# a need denied is no request: "по ФОПах їй не треба", "we don't need the old ones"
_NOT_NEEDED = re.compile(
    r"(?<!\w)(?:не|ні|вже не) (?:треба|потрібн\w*|необхідно)(?!\w)"
    r"|\b(?:no need|(?:i|we|they|she|he) (?:don'?t|do not|doesn'?t|does not|didn'?t|did not|no longer) need)\b",
    re.IGNORECASE,
)
_INCIDENT = re.compile(
    r"\b(?:broken|broke|not working|doesn'?t work|don'?t work|isn'?t working|aren'?t working|stopped working|"
    r"fails?|failed|failing|failure|errors?|stuck|hangs?|hanging|frozen|crash\w*|down|outage|can'?t|cannot|couldn'?t|"
    r"unable|won'?t|nobody|no one|none of|missing|wrong|incorrect|rejected|rejects|declined|blank|empty|duplicated|"
    r"twice|not (?:received|paid|showing|loading|coming|updated|arriving|sent|visible))\b"
    r"|не працю|зламал|збій|помилк|завис|не можу|не можемо|не може|не вдається|не проходить|не приход|не відкрива|"
    r"не нарахов|не утрима|не бачу|не бачать|не отрима|ніхто|жоден|жодна|відхиля|повернув|порожн|неправильн|пропал|"
    r"зник|не прац|не пускає|не входить",
    re.IGNORECASE,
)
_STOP = (
    "hi hello hey dear team thanks thank thx cheers regards best please pls plz kindly help need needs want wants like "
    "would could can cannot can't will shall should may might must do does did done doing have has had having is are "
    "was were be been being am get gets got getting make makes made how what why when where which who whom whose "
    "there here way possible any some all every each just also now still since so but not no yes ok okay the a an to "
    "of for in on at by with from into out up down about as and or if then than this that these those it its i me my "
    "we us our ours you your yours he she they them their his her one ones thing things something anything idea "
    "again already really very quite soon today tomorrow payflow support question questions issue problem "
    "добрий доброго день вітаю привіт дякую дякуємо будь ласка підкажіть допоможіть порадьте прошу треба потрібно "
    "необхідно хочемо хочу як що чи де коли чому який яка яке які якої скільки хто можна можете можемо можу можливо "
    "ми нас нам наш наша наше наші мені мене мій моя моє мої ви вас вам ваш ваша ваше ваші він вона вони їх його її "
    "у в на з із зі до для від по про і й та а але або не ні так це цей ця ці той та те ті вже ще тільки лише є був "
    "була було були буде бути робити зробити зробили тепер зараз сьогодні завтра також теж дуже просто payflow"
)
_STOP_STEMS = frozenset(tokens(_STOP))


@dataclass(frozen=True)
class Ask:
    """One thing the ticket asks for. `query`: what to search for it: its own text, or, for a short
    ask that refers back ("will it happen again?", "як це виправити?"), with the ticket's first
    sentence (its subject) and the sentence before it."""

    text: str
    kind: AskKind
    query: str = ""
    subject: str = ""  # the ticket's first sentence, when it is another one

    @property
    def search_text(self) -> str:
        return self.query or self.text

    @property
    def subject_text(self) -> str:
        """What the subject search looks for: the subject and the ask ("" when the ask is the subject)."""
        return f"{self.subject} {self.text}" if self.subject else ""


@dataclass(frozen=True)
class AskSearch:
    """The searches the coverage rules (module doc) ran for one ask its first search did not cover:
    `first`, the first document of the search for `Ask.subject_text` (empty: the ask is the subject);
    `alone`, the first ALONE_RANK of the search for the ask's own text without any context (not its
    back-reference query: the subject is the context); `agreed`, the first document of that search
    when the dense and the BM25 ranking both put it first (None: they disagree); `topic`, the category
    of the first two documents of that search when they share one (None: they do not)."""

    first: tuple[str, ...]
    alone: tuple[str, ...]
    agreed: str | None = None
    topic: str | None = None


# an ask this short that points back at the sentence before it is searched together with that sentence
BACK_REFERENCE_WORDS = 5
_BACK_REFERENCE = re.compile(
    r"\b(?:it|this|that|these|those|they|them|its|there|then|such)\b"
    r"|(?<!\w)(?:це|цього|цьому|цим|ця|цієї|ці|цих|воно|вона|він|вони|їх|його|її|так|такий|така|таке|такого|такої|"
    r"такі|таку|тоді|там|туди|звідти|тут)(?!\w)",
    re.IGNORECASE,
)


def content_stems(text: str) -> set[str]:
    return {t for t in tokens(normalise(text)) if t not in _STOP_STEMS}


def asks(ticket: str) -> list[Ask]:
    """The questions, requests, incidents and dictations of a ticket, one per sentence (a sentence
    can be several: its kind is the strictest, dictation > incident > question > request)."""
    out: list[Ask] = []
    previous = first = ""
    for part in re.split(r"(?<=[.!?…])\s+|\n+|\s+-{1,3}\s+|\s+[—–]\s+", normalise(ticket)):
        sentence = part.strip(" \t-*•>\"'«»")
        if len(sentence.split()) < 2:
            continue
        before, previous = previous, sentence
        first = first or sentence  # the subject, when the ticket text starts with one
        kind: AskKind | None = None
        if DICTATION.search(sentence):
            kind = "dictation"
        elif _INCIDENT.search(sentence):
            kind = "incident"
        elif sentence.endswith("?") or _QUESTION.match(sentence):
            kind = "question"
        elif _REQUEST.search(_NOT_NEEDED.sub(" ", sentence)):
            kind = "request"
        if kind is not None and len(content_stems(sentence)) >= MIN_CONTENT_WORDS:
            refers_back = (
                before and len(content_stems(sentence)) <= BACK_REFERENCE_WORDS and _BACK_REFERENCE.search(sentence)
            )
            context = " ".join(dict.fromkeys(x for x in (first, before) if x and x != sentence))
            query = f"{context} {sentence}" if refers_back and context else ""
            out.append(Ask(sentence, kind, query, first if first != sentence else ""))
    return out


def lexical_coverage(ask: str, doc_texts: Sequence[str]) -> float:
    """Share of the ask's content words (6-character stems, stop words out) found in the documents."""
    wanted = content_stems(ask)
    if not wanted:
        return 1.0
    have: set[str] = set()
    for d in doc_texts:
        have |= set(tokens(normalise(d)))
    return len(wanted & have) / len(wanted)


def uncovered(
    ticket_asks: Sequence[Ask],
    cited_ids: Sequence[str],
    cited_texts: Sequence[str],
    top_docs: Mapping[str, Sequence[str]],
    searches: Mapping[str, AskSearch] | None = None,
    answer_category: str | None = None,
) -> list[tuple[Ask, float]]:
    """The asks no cited document answers, each with its lexical coverage. `top_docs`: the first
    documents a search for the ask's text returned, best first (absent: not searched); a cited one
    among the first COVER_RANK of them answers it. `searches`: the further searches of an ask that
    first search did not cover (`AskSearch`; absent: not searched, and then only its words can cover
    it); `answer_category`:
    the category of the document the reply answers from (None: unknown); see the module doc."""
    cited = set(cited_ids)
    missing: list[tuple[Ask, float]] = []
    for ask in ticket_asks:
        share = lexical_coverage(ask.text, cited_texts)
        if cited & set(list(top_docs.get(ask.text, ()))[:COVER_RANK]):
            continue
        found = (searches or {}).get(ask.text)
        # a short question is elliptical ("Куди дивитися?"); a short request or statement names its own
        # aim ("I want to compare our salaries"), which the subject's document need not serve
        short = ask.kind == "question" and len(content_stems(ask.text)) <= SHORT_ASK_WORDS
        if found is not None and cited & set(found.first[:1]) and (short or cited & set(found.alone[:ALONE_RANK])):
            continue
        needed = INCIDENT_LEXICAL_COVERED if ask.kind == "incident" else LEXICAL_COVERED
        if share >= needed:
            continue
        if found is not None and not _points_elsewhere(ask, cited, found, answer_category):
            continue
        missing.append((ask, round(share, 2)))
    return missing


def _points_elsewhere(ask: Ask, cited: set[str], found: AskSearch, answer_category: str | None) -> bool:
    """Whether an ask the cited documents do not cover counts as a topic of its own: a request, a
    dictation or a long ask (LONG_ASK_WORDS) always does (module doc); a short question or incident when
    its search puts another document first in both rankings, or its first two results are of one
    category other than the answering document's (or that is unknown)."""
    if ask.kind in ("request", "dictation") or len(content_stems(ask.text)) >= LONG_ASK_WORDS:
        return True
    if found.agreed is not None and found.agreed not in cited:
        return True
    return found.topic is not None and found.topic != answer_category
