"""What of a ticket is searched: its words without the greeting, the signature and the masks.

A ticket's text carries words that say nothing about what it asks: "Добрий день!", "Hi team,", a
sign-off ("Дякую, Оксана Петренко, головний бухгалтер", "Thanks,\\nOlena Marsh | HR Officer | Acme
Ltd"), contact lines ("тел. [PHONE]", "mob +44 7700 900123") and the redaction's placeholders. In the
KB's language they are noise to both searches, and worse than noise to BM25: the placeholder
"[PHONE]" is the word "phone", which matches the article about a new phone's authenticator (smoke
S021, "Забула пароль ...", fell from its password article to a payroll one on its signature). The
search is run on the ticket without them; everything else (classification, the risk rules, the
answerability features, the content checks) still reads the whole ticket.

The rules are written from how business e-mail is laid out, not fitted to any data set, and they
only ever remove lines or phrases at the edges: the greeting at the start of one of the first lines,
a sign-off line and the short lines after it, and trailing lines that are only a name, a title or a
phone. If what is left would be too short to search, the whole text is searched.
"""

from __future__ import annotations

import re

from agent.graph.redaction.engine import PLACEHOLDER

_GREETING_WORDS = (
    r"hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening|day)|"
    r"добрий день|доброго дня|добридень|добрий вечір|доброго вечора|доброго ранку|добрий ранок|вітаю|"
    r"привіт|здрастуйте|здравствуйте|добрый день|доброе утро|добрый вечер|привет"
)
# the greeting, up to two words after it (a name, "team", "колеги"), and its punctuation
GREETING = re.compile(
    rf"^[ \t]*(?i:{_GREETING_WORDS})"
    r"(?:[ \t]+(?:(?i:team|all|there|support|everyone|colleagues|folks|guys|команд[аоі]|колеги|підтримк[аоиу])"
    r"|[A-ZА-ЯІЇЄҐ][\w'’.-]*)){0,2}[ \t]*[,!.:;]+[ \t]*"
)
_SIGN_OFF_WORDS = (
    r"thanks(?: (?:a lot|again|in advance))?|thank you(?: (?:in advance|very much))?|many thanks|thx|ty|cheers|"
    r"regards|best(?: regards| wishes)?|kind regards|warm regards|all the best|sincerely|br|"
    r"дякую(?: заздалегідь)?|заздалегідь дякую|дякуємо|щиро дякую|з повагою|щиро|спасибі|"
    r"спасибо(?: заранее)?|заранее спасибо|с уважением"
)
# a line that is a sign-off, with at most a short name or title after it: "Дякую, Марія, HR", "Thanks,"
SIGN_OFF_LINE = re.compile(rf"^[ \t]*[-—–]*[ \t]*(?i:{_SIGN_OFF_WORDS})[ \t]*(?:[,.!]+[ \t]*(?P<rest>[^?\n]*))?$")
# a sign-off closing the last sentence on the same line: "... at once? Thanks, Dana"
SIGN_OFF_TAIL = re.compile(rf"(?<=[.!?])[ \t]+(?i:{_SIGN_OFF_WORDS})[ \t]*(?:[,.!]+[ \t]*[^?.!\n]{{0,40}})?[ \t]*$")
MAX_REST_WORDS = 6  # words after a sign-off on its line that are still a signature (name, title, company)
MAX_SIGNATURE_LINES = 5  # lines after a sign-off that are still its signature
MAX_SIGNATURE_WORDS = 10  # words of each of them
_PHONE_ISH = re.compile(r"\+?\d[\d ()./-]{6,}\d")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
MIN_LEFT_WORDS = 3  # below this the cleaned text is not worth searching alone: search the whole text


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def _is_contact_line(line: str) -> bool:
    """Only a phone, an e-mail, a mask and a label ("тел. [PHONE]", "mob +44 7700 900123", "Call me:")."""
    if not (PLACEHOLDER.search(line) or _PHONE_ISH.search(line)):
        return False
    rest = _PHONE_ISH.sub(" ", PLACEHOLDER.sub(" ", line))
    return len(_words(rest)) <= 3 and "?" not in rest


def _is_name_line(line: str) -> bool:
    """A name, title or company: "Tom Reilly, Northwind", "- Mark", "Olena Marsh | HR Officer | Acme Ltd"."""
    s = line.strip()
    if not s or "?" in s or s.endswith((".", "!", ":")):
        return False
    dashed = s[0] in "-—–"
    words = _words(s)
    if not words or len(words) > MAX_REST_WORDS:
        return False
    if dashed and len(words) <= 3:
        return True
    capitalised = sum(w[0].isupper() for w in words)
    return capitalised == len(words) or (len(words) >= 3 and capitalised >= len(words) - 1 and "," in s)


def _drop_signature(lines: list[str]) -> list[str]:
    # a sign-off line (not the first) and the short lines after it
    for i in range(len(lines) - 1, 0, -1):
        m = SIGN_OFF_LINE.match(lines[i])
        if m is None:
            continue
        after = [ln for ln in lines[i + 1 :] if ln.strip()]
        rest = m.group("rest") or ""
        if (
            len(_words(rest)) <= MAX_REST_WORDS
            and len(after) <= MAX_SIGNATURE_LINES
            and all(len(_words(ln)) <= MAX_SIGNATURE_WORDS and "?" not in ln for ln in after)
        ):
            lines = lines[:i]
        break
    # trailing contact and name lines (a signature without a sign-off)
    while len(lines) > 1 and (not lines[-1].strip() or _is_contact_line(lines[-1]) or _is_name_line(lines[-1])):
        lines = lines[:-1]
    if lines:
        lines[-1] = SIGN_OFF_TAIL.sub("", lines[-1])
    return lines


def search_query(text: str) -> str:
    """The ticket's text as searched: without its greeting, signature, contact lines and masks
    (see the module's docstring). The whole text when too little would be left."""
    lines = text.split("\n")
    lines = _drop_signature(lines)
    for i in range(min(3, len(lines))):
        lines[i] = GREETING.sub("", lines[i], count=1)
    cleaned = PLACEHOLDER.sub(" ", "\n".join(lines))
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned).strip()
    return cleaned if len(_words(cleaned)) >= MIN_LEFT_WORDS else text
