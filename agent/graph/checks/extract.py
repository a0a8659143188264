"""Extractors for the checkable items of a reply: URLs, e-mail addresses, messenger handles, phone
numbers, account numbers (IBAN, card), amounts and percentages, dates and times, menu paths and error
codes; and the normaliser every comparison goes through.

Pure functions, no I/O. The same extractor runs on the reply, on the cited documents and on the
ticket, and an item is compared by its `key` (the normalised form), so a document's own text always
supports itself: whatever is extracted from a reply that copies a document is extracted, with the
same key, from the document.

Obfuscations are read as what a customer would type: `payflow-secure[.]net`, `hxxps://`, `help [at]
evil [dot] com`, fullwidth or ideographic dots, zero-width characters inside a word. Lookalike
domains (Cyrillic `р` for Latin `p`, punycode `xn--...`) are kept as written, so they never equal the
real domain in a document.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from agent.graph.reading import INVISIBLE
from agent.graph.redaction.engine import KINDS

Kind = Literal["url", "email", "handle", "phone", "account", "amount", "date", "menu_path", "error_code", "placeholder"]


@dataclass(frozen=True)
class Item:
    """One checkable thing in a text: what it is, how it was written, its comparison key, where it is."""

    kind: Kind
    text: str
    key: str
    start: int
    end: int


# ---- the normaliser -----------------------------------------------------------------------------

_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63]")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": ".", "\u2024": "."})  # IDNA reads these as "."
_OBF_DOT = re.compile(r"\s?[\[({]\s?(?:\.|dot)\s?[\])}]\s?", re.IGNORECASE)
_OBF_AT = re.compile(r"\s?[\[({]\s?(?:@|at)\s?[\])}]\s?", re.IGNORECASE)
_HXXP = re.compile(r"\bh(?:xx|\*\*|tt)p(s?)(?=:|\[:\])", re.IGNORECASE)
_MARKUP = re.compile(r"\*\*|__|`")


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, every space and dash one kind, IDNA dots as ".",
    `[.]` / `(dot)` / `[at]` / `hxxp` de-obfuscated, markdown emphasis and code ticks dropped.
    Case is kept (some extractors need it); compare keys, which are case-folded."""
    text = unicodedata.normalize("NFKC", text)
    text = INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _DASHES.sub("-", text)
    text = text.translate(_DOTS)
    text = _OBF_DOT.sub(".", text)
    text = _OBF_AT.sub("@", text)
    text = _HXXP.sub(lambda m: "http" + m.group(1), text)
    return _MARKUP.sub("", text)


# ---- contact points: URLs, e-mail, handles, phones, accounts --------------------------------------

_URL_CHARS = r"[^\s<>\"'`*\])}|]"
_SCHEME_URL = re.compile(rf"(?i)\b(?:https?|ftp)://{_URL_CHARS}+|\bwww\.{_URL_CHARS}+")
_OTHER_SCHEME = re.compile(rf"(?i)\b(mailto|tel|sms|javascript|data|tg|whatsapp|viber|skype|callto):{_URL_CHARS}{{3,}}")
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_BARE = re.compile(
    rf"(?<![\w@.\-/:])((?:{_LABEL}\.)+)([^\W\d_]{{2,24}})(?![\w-]|\.[^\W_])((?::\d{{2,5}})?(?:/{_URL_CHARS}*)?)"
)
_IP = re.compile(rf"(?<![\w.])(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?![\w.]|\.\d)(?::\d{{2,5}})?(?:/{_URL_CHARS}*)?")
_SPOKEN_DOMAIN = re.compile(
    r"(?i)\b([a-z0-9][a-z0-9-]*(?:\s+dot\s+[a-z0-9-]+)*)\s+dot\s+(com|net|org|io|ua|info|biz|app|site|online|help|"
    r"support|top|xyz|me|co|uk)\b"
)
# top-level domains taken as such whatever their case; any other all-lowercase ASCII one counts too
_KNOWN_TLDS = frozenset([
    "com", "net", "org", "io", "co", "ua", "uk", "us", "eu", "de", "fr", "pl", "ru", "by", "kz", "info", "biz",
    "app", "dev", "page", "site", "online", "top", "xyz", "club", "shop", "store", "help", "support", "link",
    "click", "live", "pro", "me", "tv", "cc", "ws", "su", "am", "ai", "tech", "cloud", "email", "finance", "money",
    "bank", "pay", "secure", "services", "solutions", "website", "space", "today", "news", "world", "life", "zone",
    "work", "agency", "center", "digital", "network", "systems", "group", "company", "business", "icu", "buzz",
    "vip", "win", "bid", "loan", "review", "trade", "science", "party", "stream", "download", "cyou", "rest", "cfd",
    "sbs", "bond", "lat", "mobi", "asia", "name", "travel", "jobs", "example", "test", "local", "internal",
    "invalid", "localhost", "zip", "mov", "md",
])  # fmt: skip
_CYRILLIC_TLDS = frozenset({"укр", "рф", "бел", "срб", "мкд", "қаз", "мон", "орг", "ком", "сайт", "онлайн"})
# file names, not domains (none of these is a top-level domain)
_FILE_EXTS = frozenset([
    "csv", "xlsx", "xls", "pdf", "xml", "json", "txt", "docx", "png", "jpg", "jpeg", "gif", "ods", "odt", "rtf",
    "tsv", "yaml", "yml", "sql", "log",
])  # fmt: skip

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?:[\w-]+\.)+[\w-]{2,}")
_SPOKEN_EMAIL = re.compile(
    r"(?i)\b([\w.+-]+)\s+(?:at|\[at\]|\(at\))\s+([\w-]+(?:\s+dot\s+[\w-]+)*)\s+dot\s+([a-z]{2,24})\b"
)
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z_][A-Za-z0-9_]{3,31}\b")
_PHONE = re.compile(r"(?<![\w+\-/.,:])(?:\+|00)?\(?\d[\d ()\-]{5,20}\d(?![\w\-/]|[.,]\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# what the redaction step (agent/graph/redaction) put in place of a ticket's e-mail, phone, IBAN,
# card, password, key...: in a reply it is the ticket's own value (or a broken sentence), never
# something to send
_PLACEHOLDER = re.compile(r"\[(" + "|".join(k.upper() for k in (*KINDS, "secret")) + r")\]")


def _trim(url: str) -> str:
    return url.rstrip(".,;:!?…'\"»")


def url_key(url: str) -> str:
    """A URL or bare domain as compared: case-folded, without scheme, `www.`, default port or a
    trailing slash."""
    u = _trim(url).casefold()
    u = re.sub(r"^(?:https?|ftp)://", "", u)
    u = re.sub(r"^www\.", "", u)
    u = re.sub(r"^([^/]+):(?:80|443)(?=/|$)", r"\1", u)
    return u.rstrip("/")


def _is_tld(tld: str) -> bool:
    low = tld.casefold()
    if low in _FILE_EXTS:
        return False
    if tld.isascii():
        return low in _KNOWN_TLDS or tld.islower()
    return low in _CYRILLIC_TLDS


def urls(text: str) -> list[Item]:
    """URLs with a scheme, `www.` addresses, bare domains (`payflow-secure.net/reset`, IDN and
    punycode ones too), IP addresses and spoken domains (`evil dot com`). `mailto:` and `tel:` links
    are left to the e-mail and phone extractors."""
    t = normalise(text)
    found: list[Item] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, raw: str, key: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append(Item("url", raw, key, start, end))

    for m in _SCHEME_URL.finditer(t):
        raw = _trim(m.group(0))
        add(m.start(), m.start() + len(raw), raw, url_key(raw))
    for m in _OTHER_SCHEME.finditer(t):
        if m.group(1).lower() not in ("mailto", "tel", "sms", "callto"):
            raw = _trim(m.group(0))
            add(m.start(), m.start() + len(raw), raw, raw.casefold())
    for m in _IP.finditer(t):
        raw = _trim(m.group(0))
        add(m.start(), m.start() + len(raw), raw, url_key(raw))
    for m in _BARE.finditer(t):
        if not _is_tld(m.group(2)):
            continue
        raw = _trim(m.group(0))
        add(m.start(), m.start() + len(raw), raw, url_key(raw))
    for m in _SPOKEN_DOMAIN.finditer(t):
        host = re.sub(r"\s+dot\s+", ".", m.group(0), flags=re.IGNORECASE)
        add(m.start(), m.end(), m.group(0), url_key(host))
    return sorted(found, key=lambda i: i.start)


def emails(text: str) -> list[Item]:
    t = normalise(text)
    found = [
        Item("email", m.group(0), m.group(0).casefold().rstrip("."), m.start(), m.end()) for m in _EMAIL.finditer(t)
    ]
    for m in _SPOKEN_EMAIL.finditer(t):
        domain = re.sub(r"\s+dot\s+", ".", m.group(2), flags=re.IGNORECASE)
        key = f"{m.group(1)}@{domain}.{m.group(3)}".casefold()
        if not any(i.start < m.end() and m.start() < i.end for i in found):
            found.append(Item("email", m.group(0), key, m.start(), m.end()))
    return sorted(found, key=lambda i: i.start)


def handles(text: str) -> list[Item]:
    """Messenger / social handles such as `@payflow_help` (not the local part of an e-mail)."""
    t = normalise(text)
    return [Item("handle", m.group(0), m.group(0).casefold(), m.start(), m.end()) for m in _HANDLE.finditer(t)]


def accounts(text: str) -> list[Item]:
    """IBANs and card-like numbers (13-19 digits), keyed without spaces."""
    t = normalise(text)
    found: list[Item] = []
    for rx in (_IBAN, _CARD):
        for m in rx.finditer(t):
            if any(i.start < m.end() and m.start() < i.end for i in found):
                continue
            found.append(Item("account", m.group(0), re.sub(r"[\s-]", "", m.group(0)).upper(), m.start(), m.end()))
    return sorted(found, key=lambda i: i.start)


def phone_key(raw: str) -> str:
    """Digits only, the last 9 (a national number without its country or trunk prefix)."""
    digits = re.sub(r"\D", "", raw)
    return digits[-9:] if len(digits) >= 9 else digits


def phones(text: str) -> list[Item]:
    """Phone numbers in international (`+380 44 000 0000`, `00 44 ...`) and national formats
    (`044 555 01 99`, `(415) 555-0199`, `0 800 500 500`): 8+ digits after `+`/`00`, else 9-15.
    Spans of account numbers, amounts, dates and codes are not phones."""
    t = normalise(text)
    busy = [(i.start, i.end) for i in (*accounts(text), *amounts(text), *dates(text), *error_codes(text))]
    found: list[Item] = []
    for m in _PHONE.finditer(t):
        raw = m.group(0).rstrip(" (-")
        start, end = m.start(), m.start() + len(raw)
        digits = sum(c.isdigit() for c in raw)
        international = raw.startswith(("+", "00"))
        if not (8 if international else 9) <= digits <= 15:
            continue
        if any(s < end and start < e for s, e in busy):
            continue
        found.append(Item("phone", raw, phone_key(raw), start, end))
    return found


def placeholders(text: str) -> list[Item]:
    t = normalise(text)
    return [Item("placeholder", m.group(0), m.group(1).lower(), m.start(), m.end()) for m in _PLACEHOLDER.finditer(t)]


# ---- amounts ----------------------------------------------------------------------------------

_NUM = (
    r"\d{1,3}(?:[ '’]\d{3})+(?:[.,]\d+)?"  # 12 000 / 1 200,50 / 1'200
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 1,200.50
    r"|\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?"  # 1.200.000,00
    r"|\d+(?:[.,]\d+)?"
)
_MULT = r"(?:\s?(?P<mult>k|K|m|bn|тис\.?|млн\.?|млрд\.?|thousand|million|billion)\b)?"
_CUR_SYMBOL = r"[$€£₴₽¥]|zł"
_CUR_CODE = r"USD|EUR|GBP|UAH|PLN|CHF|RUB|US\$"
_CUR_WORD = (
    r"грн\.?|гривень|гривні|гривня|гривню|hryvnias?|hryvnia|dollars?|euros?|pounds?(?: sterling)?|"
    r"долар\w*|євро|фунт\w*|злот\w*"
)
_AMOUNT_BEFORE = re.compile(rf"(?P<cur>{_CUR_SYMBOL}|\b(?:{_CUR_CODE}))\s?(?P<num>{_NUM}){_MULT}")
_AMOUNT_AFTER = re.compile(
    rf"(?<![\w.,])(?P<num>{_NUM}){_MULT}\s?(?P<cur>{_CUR_SYMBOL}|(?:{_CUR_CODE})\b|(?:{_CUR_WORD})(?!\w))",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(?<![\w.,])(?P<num>\d+(?:[.,]\d+)?)\s?(?:%|percent\b|per cent\b|відсот\w*)", re.IGNORECASE)
_CURRENCIES = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "долар": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "євро": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "фунт": "GBP",
    "₴": "UAH", "uah": "UAH", "грн": "UAH", "грив": "UAH", "hryvn": "UAH",
    "₽": "RUB", "rub": "RUB", "zł": "PLN", "pln": "PLN", "злот": "PLN", "chf": "CHF", "¥": "JPY",
}  # fmt: skip
_MULTIPLIERS = {"k": 1_000, "тис": 1_000, "thousand": 1_000, "m": 1_000_000, "млн": 1_000_000, "million": 1_000_000}
_MULTIPLIERS |= {"bn": 10**9, "млрд": 10**9, "billion": 10**9}


def currency_code(raw: str) -> str:
    low = raw.casefold().rstrip(".")
    for prefix, code in _CURRENCIES.items():
        if low.startswith(prefix):
            return code
    return low.upper()


def parse_number(raw: str) -> Decimal | None:
    """`12 000`, `1,200.50`, `1.200.000,00`, `8,41`, `45,000` -> Decimal (a single comma before
    exactly three digits is a thousands separator, any other a decimal one)."""
    s = re.sub(r"[ '’]", "", raw)
    if "," in s and "." in s:
        s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "").replace(",", ".")
    elif s.count(",") > 1 or re.fullmatch(r"\d{1,3},\d{3}", s):
        s = s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".")
    elif s.count(".") > 1:
        s = s.replace(".", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _amount_key(currency: str, value: Decimal) -> str:
    return f"{currency} {value.normalize():f}"


def amounts(text: str) -> list[Item]:
    """Money with a currency symbol, code or word on either side (`UAH 12 000`, `$1,200.50`,
    `1 200 грн`, `₴500`, `12 тис. грн`, `45,000 dollars`) and percentages (`8,41 %`, `22%`),
    keyed as `<ISO code> <value>` / `% <value>`."""
    t = normalise(text)
    found: list[Item] = []
    for rx in (_AMOUNT_BEFORE, _AMOUNT_AFTER):
        for m in rx.finditer(t):
            if any(i.start < m.end() and m.start() < i.end for i in found):
                continue
            value = parse_number(m.group("num"))
            if value is None:
                continue
            mult = (m.group("mult") or "").casefold().rstrip(".")
            value *= _MULTIPLIERS.get(mult, 1)
            found.append(
                Item("amount", m.group(0), _amount_key(currency_code(m.group("cur")), value), m.start(), m.end())
            )
    for m in _PERCENT.finditer(t):
        value = parse_number(m.group("num"))
        if value is not None and not any(i.start < m.end() and m.start() < i.end for i in found):
            found.append(Item("amount", m.group(0), _amount_key("%", value), m.start(), m.end()))
    return sorted(found, key=lambda i: i.start)


# ---- dates and times ----------------------------------------------------------------------------

_EN_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
_EN_MONTH = (
    r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# Ukrainian month stems: genitive ("15 березня"), nominative and locative ("березень 2025", "у березні 2024")
_UK_MONTHS = {
    "січ": 1, "лют": 2, "берез": 3, "квіт": 4, "трав": 5, "черв": 6, "лип": 7, "серп": 8, "верес": 9,
    "жовт": 10, "листопад": 11, "груд": 12,
}  # fmt: skip
_UK_MONTH = r"(?P<mon>(?:січ|лют|берез|квіт|трав|черв|лип|серп|верес|жовт|листопад|груд)\w*)"
_YEAR = r"(?P<year>(?:19|20|21)\d{2})"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\b{_YEAR}-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})(?!\d)"), "iso"),
    (re.compile(r"(?<![\d.,/])(?P<a>\d{1,2})[./](?P<b>\d{1,2})[./](?P<y>\d{4}|\d{2})(?![\d/]|\.\d)"), "numeric"),
    (re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_EN_MONTH}(?:,?\s+{_YEAR})?\b"), "en"),
    (re.compile(rf"\b{_EN_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+{_YEAR})?"), "en"),
    (re.compile(rf"\b{_EN_MONTH}\s+{_YEAR}\b"), "en"),
    (re.compile(rf"(?<!\w)(?P<d>\d{{1,2}})(?:-?го)?\s+{_UK_MONTH}(?:\s+{_YEAR})?", re.IGNORECASE), "uk"),
    (re.compile(rf"(?<!\w){_UK_MONTH}\s+{_YEAR}", re.IGNORECASE), "uk"),
)
_TIME = re.compile(
    r"(?<![\d:.])(?P<h>[01]?\d|2[0-3]):(?P<min>[0-5]\d)(?::[0-5]\d)?(?:\s?(?P<ampm>[ap]\.?m\.?))?(?![\d:])", re.I
)
_TIME_AMPM = re.compile(r"(?<![\d:.])(?P<h>1[0-2]|0?[1-9])\s?(?P<ampm>[ap]\.?m\.?)(?!\w)", re.IGNORECASE)


def _month(raw: str, table: dict[str, int]) -> int | None:
    low = raw.casefold()
    return next((n for stem, n in table.items() if low.startswith(stem)), None)


def date_key(year: int | None, month: int, day: int | None) -> str:
    return f"{year or '*'}-{month:02d}-{day if day is not None else '*'}"


def dates(text: str) -> list[Item]:
    """Dates, numeric (`2025-11-01`, `01.12.2025`, `01/12/2025`) and written (`15 March 2025`,
    `March 15`, `October 2025`, `15 березня 2025`, `28 листопада`, `березень 2024`), keyed
    `year-month-day` with `*` for what is not said; a numeric `a.b.y` is read day-first and, when
    that is possible too, month-first (its key holds both, `|`-separated). Times (`14:00`, `3 pm`)
    are keyed `T<hh>:<mm>`."""
    t = normalise(text)
    found: list[Item] = []

    def add(m: re.Match[str], key: str) -> None:
        if not any(i.start < m.end() and m.start() < i.end for i in found):
            found.append(Item("date", m.group(0).strip(), key, m.start(), m.end()))

    for rx, form in _DATE_PATTERNS:
        for m in rx.finditer(t):
            g = m.groupdict()
            if form == "iso":
                month, day = int(g["m"]), int(g["d"])
                if 1 <= month <= 12 and 1 <= day <= 31:
                    add(m, date_key(int(g["year"]), month, day))
            elif form == "numeric":
                a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
                year = y + 2000 if y < 100 else y
                keys = [date_key(year, b, a)] if 1 <= b <= 12 and 1 <= a <= 31 else []
                if 1 <= a <= 12 and 1 <= b <= 31 and a != b:
                    keys.append(date_key(year, a, b))
                if keys:
                    add(m, "|".join(keys))
            else:
                month = _month(g["mon"], _EN_MONTHS if form == "en" else _UK_MONTHS)
                day = int(g["d"]) if g.get("d") else None
                year = int(g["year"]) if g.get("year") else None
                if month is not None and (day is None or 1 <= day <= 31):
                    add(m, date_key(year, month, day))
    for rx in (_TIME, _TIME_AMPM):
        for m in rx.finditer(t):
            hour = int(m.group("h"))
            minute = int(m.groupdict().get("min") or 0)
            ampm = (m.group("ampm") or "").lower()
            if ampm.startswith("p") and hour < 12:
                hour += 12
            elif ampm.startswith("a") and hour == 12:
                hour = 0
            add(m, f"T{hour:02d}:{minute:02d}")
    return sorted(found, key=lambda i: i.start)


def date_supported(key: str, known: set[str]) -> bool:
    """A date is supported by a known one with the same month and day (or, for `October 2025`,
    the same month and year); a year the reply gives must be the known one's. Times must be equal."""
    if key.startswith("T"):
        return key in known
    for k in key.split("|"):
        y, m, d = k.split("-")
        for other in known:
            for o in other.split("|"):
                if o.startswith("T"):
                    continue
                oy, om, od = o.split("-")
                if om == m and od == d and (y == "*" or oy == y):
                    return True
    return False


# ---- error codes ---------------------------------------------------------------------------------

_CODE = re.compile(r"(?<![\w-])(?P<code>[A-Z][A-Z0-9]{1,7}-\d{2,6}(?:-\d+)*)(?![\w-])")
_SNAKE = re.compile(r"(?<![\w-])(?P<code>[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)(?![\w-])")
_HTTP_WORDS = (
    r"Bad Request|Unauthori[sz]ed|Forbidden|Not Found|Method Not Allowed|Conflict|Gone|Payload Too Large|"
    r"Unprocessable Entity|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout"
)
_HTTP = (
    re.compile(
        r"(?i)\b(?:HTTP(?:/\d(?:\.\d)?)?|status(?: code)?|error(?: code)?|response|код|статус|помилк\w*)"
        r"\s*[:#]?\s*(?P<code>[1-5]\d{2})\b"
    ),
    re.compile(rf"(?i)\b(?P<code>[1-5]\d{{2}})\s+(?:{_HTTP_WORDS})\b"),
    re.compile(r"(?i)\b(?P<code>[45]\d{2})s?\s+(?:errors?|responses?|помилк\w*)\b"),
)
DOC_ID = re.compile(r"^(?:KB|RCA)-\d+$")


def error_codes(text: str) -> list[Item]:
    """Product error codes and identifiers (`PF-4012`, `INV-2025-11-04417`, `ERR_TOKEN_EXPIRED`) and
    HTTP status codes said as such (`HTTP 429`, `502 Bad Gateway`, `429 errors`), keyed upper-case
    (`HTTP 502`). Knowledge document ids (`KB-009`, `RCA-3`) are citations, not codes."""
    t = normalise(text)
    found: list[Item] = []
    for rx in (_CODE, _SNAKE):
        for m in rx.finditer(t):
            code = m.group("code")
            if not DOC_ID.match(code):
                found.append(Item("error_code", code, code.upper(), m.start("code"), m.end("code")))
    for rx in _HTTP:
        for m in rx.finditer(t):
            if not any(i.start < m.end() and m.start() < i.end for i in found):
                found.append(Item("error_code", m.group(0), f"HTTP {m.group('code')}", m.start(), m.end()))
    return sorted(found, key=lambda i: i.start)


def code_supported(key: str, known: set[str], known_text: str) -> bool:
    """An error code is supported when a known text has it; an HTTP status when the number stands
    on its own anywhere in a known text (documents say "returns 502 after 30 seconds")."""
    if key in known:
        return True
    if key.startswith("HTTP "):
        return re.search(rf"(?<![\w.,-]){key[5:]}(?![\w,-]|\.\d)", known_text) is not None
    return re.search(rf"(?<![A-Z0-9-]){re.escape(key)}(?![A-Z0-9]|-\d)", known_text.upper()) is not None


# ---- menu paths ---------------------------------------------------------------------------------

_SEG_WORD = r"[\w&/'’\[\]⋯…+#-]+"
_SEG = rf"{_SEG_WORD}(?:[ ]{_SEG_WORD}){{0,5}}"
_SEP = r"(?:[ ]?(?:>|→|->|=>|›|⟶|➔|➜)[ ]?|[ ]»[ ])"
_PATH = re.compile(rf"(?<![\w&/'’\[\]⋯…+#-]){_SEG}(?:{_SEP}{_SEG})+")
_SPLIT = re.compile(_SEP)
_SEG_NORM = re.compile(r"[\"'’«»“”()]")


def path_core(item: Item) -> tuple[int, int]:
    """The span of a menu path item without the sentence words its first and last segments took in:
    from the last word before its first separator to the first word after its last one
    ("Open People > Employees and click" -> "People > Employees")."""
    seps = list(_SPLIT.finditer(item.text))
    if not seps:
        return item.start, item.end
    head = item.text[: seps[0].start()].rstrip()
    tail = item.text[seps[-1].end() :]
    start = len(head) - len(head.split()[-1]) if head.split() else seps[0].start()
    first = re.match(r"\s*\S+", tail)
    end = seps[-1].end() + (first.end() if first else 0)
    return item.start + start, item.start + end


def _segments(path: str) -> tuple[tuple[str, ...], ...]:
    parts = [_SEG_NORM.sub("", p).casefold().split() for p in _SPLIT.split(path)]
    return tuple(tuple(p) for p in parts if p)


def menu_paths(text: str) -> list[Item]:
    """Navigation paths (`Settings > Payroll > Bank files`, `Налаштування → Зарплата`, `Help » About`,
    `⋯ > Resend payslip`), keyed as their case-folded segments joined by ` > `."""
    t = normalise(text)
    found: list[Item] = []
    for m in _PATH.finditer(t):
        segs = _segments(m.group(0))
        if len(segs) >= 2:
            found.append(Item("menu_path", m.group(0), " > ".join(" ".join(s) for s in segs), m.start(), m.end()))
    return found


def _stemmed(key: str) -> list[list[str]]:
    """A path key's segments as words cut to 6 characters ("Налаштуваннях" is "Налаштування")."""
    return [[w[:6] for w in s.split()] for s in key.split(" > ")]


# words that join two things a sentence names (`open People > Employees and click ⋯ > Resend`): a
# segment holding one is where one path ends and the next begins
_CONNECTORS = frozenset({"and", "then", "or", "і", "й", "та", "а", "потім", "або", "чи", "далі"})


def _in_known(reply: list[list[str]], known: list[str]) -> bool:
    n = len(reply)
    for other in known:
        doc = _stemmed(other)
        for o in range(len(doc) - n + 1):
            window = doc[o : o + n]
            if not reply[0] or not reply[-1] or reply[0][-1] != window[0][-1] or reply[-1][0] != window[-1][0]:
                continue
            if all(reply[i] == window[i] for i in range(1, n - 1)):
                return True
    return False


def _split_at_connectors(segs: list[list[str]]) -> list[list[list[str]]]:
    """The path cut where a segment holds a connector word: the words before it end one path, the
    words after it start the next."""
    parts: list[list[list[str]]] = [[]]
    for seg in segs:
        cut = next((i for i, w in enumerate(seg) if w in _CONNECTORS), None)
        while cut is not None:
            if seg[:cut]:
                parts[-1].append(seg[:cut])
            parts.append([])
            seg = seg[cut + 1 :]
            cut = next((i for i, w in enumerate(seg) if w in _CONNECTORS), None)
        if seg:
            parts[-1].append(seg)
    return [p for p in parts if p]


def path_supported(key: str, known: list[str]) -> bool:
    """A reply's path is supported when a known path holds its segments in a row: the inner ones
    equal, the first one ending with the known segment's last word and the last one starting with
    its first word (a sentence around a path adds words at its ends: "go to Settings > Users tab").
    A path a sentence runs into the next one ("People > Employees and click ⋯ > Resend payslip") is
    supported when each of its pieces of two or more segments is."""
    reply = _stemmed(key)
    if _in_known(reply, known):
        return True
    pieces = _split_at_connectors(reply)
    paths = [p for p in pieces if len(p) >= 2]
    return len(pieces) > 1 and bool(paths) and all(_in_known(p, known) for p in paths)


def extract_all(text: str) -> list[Item]:
    """Every checkable item of a text, in order."""
    items = [
        *urls(text),
        *emails(text),
        *handles(text),
        *accounts(text),
        *phones(text),
        *placeholders(text),
        *amounts(text),
        *dates(text),
        *menu_paths(text),
        *error_codes(text),
    ]
    return sorted(items, key=lambda i: (i.start, i.kind))
