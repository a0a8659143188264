"""Text -> tokens for the risk model: word 1-2 grams and character 2-5 grams within words.

Character n-grams carry Ukrainian morphology (змінив / змінили / змінено share "змін") and typos;
word n-grams carry phrases. Digits fold to 0 and apostrophes to one form, so amounts, dates and ids
do not become features of their own. Training (sklearn's TfidfVectorizer with these analyzers) and
prediction (`RiskModel`) use the same functions, so they cannot drift apart.
"""

from __future__ import annotations

import itertools
import re

_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*", re.UNICODE)
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'"})
CHAR_MIN, CHAR_MAX = 2, 5


def normalise(text: str) -> str:
    return re.sub(r"\d", "0", text.translate(_APOSTROPHES).lower())


def words(text: str) -> list[str]:
    toks = _WORD.findall(normalise(text))
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def chars(text: str) -> list[str]:
    out: list[str] = []
    for w in _WORD.findall(normalise(text)):
        padded = f" {w} "
        for n in range(CHAR_MIN, CHAR_MAX + 1):
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


# Risk concepts: a handful of word families (English and Ukrainian stems) that say *what happened*
# rather than how it was written. Each family found in the text adds one token ("~money_moved"),
# and so does each pair that together makes a risk ("~money_moved+wrong_amount"), so the model can
# weigh "an authority" once instead of learning every authority's name from the examples.
_CONCEPTS: dict[str, str] = {
    "authority": (
        r"inspect|hmrc|\birs\b|\bcra\b|regulator|ombudsman|police|tax (office|authorit)"
        r"|social insurance|інспек|перевіряльн|\bдпс\b|податкова\b|податков\w* (служб|інспекц)"
        r"|держпрац|\bтцк\b|фонд\w* соц|поліці|регулятор|\bпфу\b"
    ),
    "penalty": (r"penalt|\bfine[ds]?\b|late notice|sanction|штраф|санкці|\bпен[яі]\b"),
    "deadline": (
        r"deadline|\bdue (today|tomorrow|by)|last day|by tomorrow|within \d+ days|останній день"
        r"|дедлайн|термін подання|строк|протягом \d+"
    ),
    "legal": (
        r"solicitor|lawyer|attorney|\bclaim|court|tribunal|\bsue\b|legal action|lawsuit|юрист"
        r"|адвокат|позов|\bсуд|претензі|скарг"
    ),
    "threat": (
        r"threat|watch your back|\bhurt|\bkill|harass|abus|insult|afraid|scared|погроз|образ"
        r"|боїться|знущ|вбʼ|вб'"
    ),
    "executive": (
        r"\bceo\b|managing director|\bboard\b|chairman|founder|end (our|the) (agreement|contract)"
        r"|terminate (our|the) contract|\bpress\b|journalist|керівник\w* (вашої )?компанії"
        r"|генеральн\w* директор|засновник|розірв|преса|журналіст"
    ),
    "unknown_actor": (
        r"nobody|none of us|not me|wasn't me|didn't (do|make|change|approve|create)|did not (do"
        r"|make|change|approve|create)|never (created|changed|approved|seen|edited|sent)"
        r"|don't recognise|do not recognise|unknown|someone|somebody|pretending|ніхто|не я\b"
        r"|невідом|хтось|незнайом|нібито|шахра|фейков"
    ),
    "credential": (
        r"password|token|api key|secret|credential|login details|\b0fa\b|two-factor|authenticator"
        r"|логін|пароль|токен|ключ|доступ"
    ),
    "exposure": (
        r"public|posted|shared|screen|hard-?coded|github|leak|exposed|visible to"
        r"|outside the company|публічн|опублік|показувал|виклав|витік|сторонн"
    ),
    "money_moved": (
        r"\bpaid\b|debited|charged|transferred|received|went out|got (two|paid)|transfers"
        r"|payments? (went|left)|left our account|виплатил|виплачено|списал|перерахува|надійшл"
        r"|отримал|зарахува"
    ),
    "wrong_amount": (
        r"twice|double|two transfers|ten times|\b0+x\b|too much|too little|overpaid|underpaid"
        r"|instead of|\bwrong\b|not owed|двічі|подвій|задвоїл|замість|не тим|неправильн|переплат"
        r"|недоплат"
    ),
    "personal_data": (
        r"personal data|gdpr|subject access|salary list|ni number|passport|home address|персональн"
        r"|паспорт"
    ),
}
_CONCEPT_RE = {k: re.compile(v) for k, v in _CONCEPTS.items()}
_PAIRS = (
    ("money_moved", "wrong_amount"),
    ("unknown_actor", "credential"),
    ("unknown_actor", "money_moved"),
    ("authority", "penalty"),
    ("authority", "deadline"),
    ("exposure", "credential"),
    ("exposure", "personal_data"),
    ("legal", "threat"),
)


def concepts(text: str) -> list[str]:
    """ "~family" for each concept family in the text, "~a+b" for each risky pair."""
    norm = normalise(text)
    found = {k for k, rx in _CONCEPT_RE.items() if rx.search(norm)}
    return [f"~{k}" for k in sorted(found)] + [f"~{a}+{b}" for a, b in _PAIRS if a in found and b in found]


def words_and_concepts(text: str) -> list[str]:
    return words(text) + concepts(text)
