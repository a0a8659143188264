"""Rules for personal and financial identifiers: e-mails, IBANs, cards, Ukrainian tax and company
codes, passports and ID cards, dates of birth, phone numbers.

Shapes that are specific enough are masked alone (a mod-97 IBAN, a Luhn card, `КВ 123456`); shapes
that are not (9 digits, 8 digits, `AB123456`) are masked only after a cue that says what they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

from agent.graph.redaction.checks import (
    IBAN_LENGTHS,
    dni_ok,
    edrpou_ok,
    iban_ok,
    luhn_ok,
    plausible_birth_year,
    plausible_date,
    rnokpp_birth_plausible,
    rnokpp_ok,
)
from agent.graph.redaction.engine import HIDDEN, Rule, Span, regex_rule

_UP = "A-ZА-ЯІЇЄҐ"
_LETTER = "A-Za-zА-Яа-яІіЇїЄєҐґЁё"
# a character between a cue and its value: same sentence, and no earlier masked value in between
# ("No." and "Nr." do not end it)
_GAP = r"(?:(?i:\b(?:no|nr|num|ser)\.)|(?![.!?](?:\s|$))[^\n" + HIDDEN + "])"

EMAIL = regex_rule("email", re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"), "email", 0)


# ---- IBAN: any case, spaces or dashes between groups, the country's length, mod 97 -----------------
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")


def _iban_spans(text: str) -> Iterable[Span]:
    last = 0
    for m in _IBAN_START.finditer(text):
        country = m.group(0)[:2].upper()
        if m.start() < last or country not in IBAN_LENGTHS:
            continue
        chars: list[str] = []
        ends: list[int] = []
        i = m.start()
        while i < len(text) and len(chars) < 34:
            c = text[i]
            if c.isascii() and c.isalnum():
                chars.append(c)
                ends.append(i + 1)
                i += 1
            elif c in " -" and chars and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum():
                i += 1
            else:
                break
        expected = IBAN_LENGTHS[country]
        for n in [expected, *range(min(34, len(chars)), 14, -1)]:
            if n > len(chars) or (n < len(chars) and ends[n] == ends[n - 1] + 1):
                continue  # longer than the run, or it would end inside a group
            if iban_ok("".join(chars[:n])):
                yield m.start(), ends[n - 1], "iban"
                last = ends[n - 1]
                break


IBAN = Rule("iban", _iban_spans)

# ---- cards (Luhn) and their security codes ---------------------------------------------------------------
CARD = regex_rule(
    "card",
    re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"),
    lambda m, _t: "card" if luhn_ok(m.group(0)) else None,
    0,
)
CVV = regex_rule(
    "cvv",
    re.compile(
        r"(?i:\b(?:CVV2?|CVC2?|CSC|CVN|card\s+security\s+code|security\s+code|код\s+безпеки|cvv-код))"
        r"\s*(?:code|код)?\s*[:=\-—–]?\s*(?:is\s+)?(?P<v>\d{3,4})(?!\d)"
    ),
    "card",
)

# Numbers that are not personal: a ticket, order, invoice, run or (explicit) employee number says so.
_NUMBER_MARK = r"(?:id|no\.?|number|num|#|№|номер\w*)"
_NOT_PERSONAL = re.compile(
    r"(?i:(?:\b(?:employee|emp|staff|worker|account|user|працівни\w*|співробітни\w*|користувач\w*)\s*(?:з\s+)?"
    + _NUMBER_MARK
    + r"|\bID\s+(?:працівни|співробітни|користувач)\w*|\bтабельн\w*(?:\s+(?:номер\w*|№))?|\bтаб\.\s*№?"
    r"|\b(?:order|invoice|inv|ticket|case|request|req|ref|reference|run|batch|transaction|txn|contract|payment\s+id|"
    r"замовлен\w*|заявк\w*|звернен\w*|інвойс\w*|накладн\w*|квитанц\w*|договор\w*|транзакц\w*)"
    r"(?:\s*" + _NUMBER_MARK + r")?)\s*[:#№]?\s*)$"
)


def _not_personal(text: str, start: int) -> bool:
    return bool(_NOT_PERSONAL.search(text[max(0, start - 40) : start]))


# ---- РНОКПП (10 digits) and ЄДРПОУ (8 digits): after their cue, or (РНОКПП) by checksum and birth date ---
_RNOKPP_CUE = (
    r"(?i:РНОКПП|RNOKPP|RNTRC|ІПН|IПН|ИНН|ІНН|ідентифікаційн\w*\s+(?:код|номер)\w*|податков\w*\s+(?:номер|код)\w*|"
    r"код\w*\s+платника\s+податків|реєстраційн\w*\s+номер\w*\s+облікової\s+картки(?:\s+платника\s+податків)?|"
    r"tax\s*(?:payer\s*)?(?:id|number|no\.?|code|identification\s+number)|taxpayer\s+(?:id|number)|"
    r"individual\s+tax\s+(?:id|number)|personal\s+tax\s+(?:id|number|code)|identification\s+code)|\bTIN\b|\bITIN\b"
)
_EDRPOU_CUE = r"(?i:ЄДРПОУ|ЕДРПОУ|EDRPOU|USREOU|ЄДР\b|ідентифікаційн\w*\s+код\w*\s+юридичної\s+особи)"
# a UK company number is 8 digits too: after these only a valid ЄДРПОУ check digit counts
_EDRPOU_CUE_WEAK = r"(?i:company\s+(?:registration\s+)?(?:code|number)|registration\s+code\s+of\s+the\s+company)"
_IMMEDIATE = re.compile(r"(?i:^[\s:№#=()\-–—]*(?:(?:is|це|є|number|no\.?|номер|код)[\s:№#=\-–—]*)?$)")


def _cued_number(
    kind: str, cue: str, digits: int, check: Callable[[str], bool], *, immediate: bool = True, name: str = ""
) -> Rule:
    """`digits` digits after `cue` (first such number within 40 characters of the sentence): masked
    if its check digit holds, or (`immediate`) whatever it is if it follows the cue at once
    ("ЄДРПОУ 12345678")."""
    rx = re.compile(
        r"(?:" + cue + r")(?P<gap>" + _GAP + r"{0,40}?)(?<![\d.,-])(?P<v>\d{" + str(digits) + r"})(?![\d.,]\d|\d)"
    )

    def decide(m: re.Match[str], text: str) -> str | None:
        at_once = immediate and bool(_IMMEDIATE.match(m.group("gap")))
        if _not_personal(text, m.start("v")) and not at_once:
            return None
        return kind if at_once or check(m.group("v")) else None

    return regex_rule(name or kind, rx, decide)


_PHONE_CUE = re.compile(
    r"(?i:\b(?:phone|tel|telephone|mobile|mob|cell|call|fax|whats\s?app|viber|telegram|signal|sms|"
    r"телефон\w*|тел|моб\w*|дзвон\w*|зателефон\w*|подзвон\w*|вайбер\w*|телеграм\w*|номер\s+телефону|"
    r"(?:call|reach|text|ring|contact)\s+(?:me|us)(?:\s+(?:on|at))?|(?:my|our)\s+(?:number|mobile|cell)(?:\s+is)?|"
    r"(?:мій|наш)\s+номер))\W{0,20}$"
)


def _bare_rnokpp(m: re.Match[str], text: str) -> str | None:
    v = m.group("v")
    if v.startswith("0") or not rnokpp_ok(v) or not rnokpp_birth_plausible(v):
        return None
    before = text[max(0, m.start() - 40) : m.start()]
    return None if _PHONE_CUE.search(before) or _not_personal(text, m.start()) else "rnokpp"


RNOKPP = _cued_number("rnokpp", _RNOKPP_CUE, 10, rnokpp_ok)
RNOKPP_BARE = regex_rule("rnokpp_bare", re.compile(r"(?<![\d+./-])(?P<v>\d{10})(?![\d/-]|[.,]\d)"), _bare_rnokpp)
EDRPOU = _cued_number("edrpou", _EDRPOU_CUE, 8, edrpou_ok)
EDRPOU_WEAK = _cued_number("edrpou", _EDRPOU_CUE_WEAK, 8, edrpou_ok, immediate=False, name="edrpou_weak")

# ---- passports and ID cards -------------------------------------------------------------------------------
_PASSPORT_CUE = (
    r"passport\w*|паспорт\w*|закордонн\w*|reisepass\w*|paszport\w*|passeport\w*|pasaporte\w*|passaporto\w*|"
    r"travel\s+document\w*|pass[- ]?nr\.?|passnummer"
)
_ID_CUE = (
    r"id[- ]?card\w*|identity\s+card\w*|national\s+id(?:entity)?(?:\s+(?:card|number))?|"
    r"id[- ]?карт\w*|айді[- ]?карт\w*|посвідчення\s+особи|"
    r"документ\w*,?\s+(?:що\s+посвідчу\w*\s+особу|особи)|identity\s+document\w*|id\s+document\w*|"
    r"personalausweis\w*|ausweis\w*|dow(?:ó|o)d\w*\s+osobist\w*|carte\s+d['’]identit(?:é|e)|"
    r"documento\s+(?:de\s+identidad|nacional)|carta\s+d['’]identit(?:à|a)|pesel|unzr|унзр|"
    r"номер\s+запису|driver'?s?\s+licen[cs]e|посвідчення\s+водія|водійськ\w*\s+посвідчен\w*"
)
_ID_CUE_CASED = r"\b(?:CNI|DNI|NIE|CIE|NIF)\b"
_ID_VALUE = (
    r"(?<![" + _LETTER + r"0-9_/-])(?P<v>"
    r"[" + _UP + r"]{2}\s?№?\s?\d{6}(?!\d)"  # UA internal (Cyrillic) and foreign (Latin) passport
    r"|\d{9}(?!\d)"  # UA ID card
    r"|(?:19|20)\d{6}-\d{5}(?!\d)"  # УНЗР (record number on the UA ID card)
    r"|\d{11,12}(?!\d)"  # PL PESEL, FR old CNI
    r"|(?=[A-Z0-9]*\d[A-Z0-9]*\d)[A-Z0-9]{6,12}(?![A-Za-z0-9])"  # DE, PL, FR, ES, IT: letters+digits
    r")"
)
_CUED_ID = re.compile(
    r"(?:(?P<pcue>(?i:" + _PASSPORT_CUE + r"))|(?P<icue>(?i:" + _ID_CUE + r")|" + _ID_CUE_CASED + r"))"
    r"(?P<gap>" + _GAP + r"{0,40}?)" + _ID_VALUE
)
_MORE_IDS = re.compile(r"\s*(?:,|;|/|\band\b|\bor\b|\bта\b|\bі\b|\bй\b|\bабо\b)\s*" + _ID_VALUE)
_UA_PASSPORT = re.compile(r"^[" + _UP + r"]{2}\s?№?\s?\d{6}$")
_CYR_PASSPORT = re.compile(r"(?<![" + _LETTER + r"0-9])(?P<v>[А-ЯІЇЄҐ]{2}\s?№?\s?\d{6})(?!\d)")
_BEFORE_CUE = re.compile(
    r"(?<![" + _LETTER + r"0-9_/-])(?P<v>\d{9}|[A-Z]{2}\s?\d{6})(?!\d)"
    r"(?=[^\n\d]{0,15}?(?:(?P<pcue>(?i:" + _PASSPORT_CUE + "))|(?i:" + _ID_CUE + r")|" + _ID_CUE_CASED + "))"
)


_ID_CUE_RE = re.compile(r"(?i:" + _ID_CUE + r")|" + _ID_CUE_CASED)


def _id_kind(value: str, passport_cue: bool) -> str:
    """`КВ 123456` is a passport; an УНЗР is on the ID card; 9 digits are the UA ID card unless a
    passport is named ("Passport No. 123456789"); other shapes are what their cue says."""
    if _UA_PASSPORT.match(value):
        return "passport"
    if re.fullmatch(r"(?:19|20)\d{6}-\d{5}", value):
        return "id_card"
    return "passport" if passport_cue else "id_card"


def _cued_id_spans(text: str) -> Iterable[Span]:
    for m in _CUED_ID.finditer(text):
        if _not_personal(text, m.start("v")):
            continue
        passport_cue = m.group("pcue") is not None and not _ID_CUE_RE.search(m.group("gap"))
        yield (*m.span("v"), _id_kind(m.group("v"), passport_cue))
        pos = m.end()
        while more := _MORE_IDS.match(text, pos):
            yield (*more.span("v"), _id_kind(more.group("v"), passport_cue))
            pos = more.end()


def _before_cue(m: re.Match[str], text: str) -> str | None:
    return None if _not_personal(text, m.start("v")) else _id_kind(m.group("v"), m.group("pcue") is not None)


def _unzr(m: re.Match[str], _text: str) -> str | None:
    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    return "id_card" if plausible_date(y, mo, d) and y <= date.today().year - 14 else None


# УНЗР by shape: a birth date (YYYYMMDD) of an adult, a dash, five digits
UNZR = regex_rule(
    "unzr", re.compile(r"(?<![\d-])(?P<v>(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})-\d{5})(?![\d-])"), _unzr
)
IDS: list[Rule] = [
    Rule("cued_id", _cued_id_spans),
    regex_rule("id_before_cue", _BEFORE_CUE, _before_cue),
    regex_rule("ua_passport", _CYR_PASSPORT, "passport"),
    # ES DNI / NIE by their check letter
    regex_rule(
        "es_dni",
        re.compile(r"(?<![A-Za-z0-9])(?P<v>(?:\d{8}|[XYZ]\d{7})[- ]?[A-Z])(?![A-Za-z0-9])"),
        lambda m, _t: "id_card" if dni_ok(m.group("v")) else None,
    ),
    # IT codice fiscale: its shape alone is specific
    regex_rule(
        "it_codice_fiscale",
        re.compile(r"(?<![A-Za-z0-9])[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?![A-Za-z0-9])"),
        "id_card",
        0,
    ),
]

# ---- dates of birth: the first full date after a cue, or a date right before one ---------------------------
_DOB_CUE = (
    r"(?i:date\s+of\s+birth|birth\s*date|birthdate|\bd\.?\s?o\.?\s?b\b\.?|\bborn(?:\s+on)?|"
    r"дата\s+народження|д\.\s?н\.|народи(?:вся|лася|лось|лась|лись)|(?<!день\s)(?<!дня\s)(?<!днем\s)народжен\w*|"
    r"geburtsdatum|geboren(?:\s+am)?|\bgeb\.|data\s+urodzenia|urodzon[yaei]\w*|date\s+de\s+naissance|"
    r"\bn(?:é|e)e?\s+le|fecha\s+de\s+nacimiento|nacid[oa]\s+el|data\s+di\s+nascita|\bnat[oa]\s+il|"
    r"дата\s+рождения|родил(?:ся|ась))"
)
# a birthday is also a bonus, a party, a day off: only a date of an earlier year right after it
_BIRTHDAY_CUE = r"(?i:birthday|b-day|(?:день|дня|днем|дні)\s+народження)"
_YEAR_CUE = r"(?i:born\s+in|year\s+of\s+birth|birth\s+year|рік\s+народження|року\s+народження)"
_MON_EN = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MON_UK = (
    r"січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня|"
    r"січень|лютий|березень|квітень|травень|червень|липень|серпень|вересень|жовтень|листопад|грудень"
)
_Y4 = r"(?:19|20)\d{2}"
_D = r"(?:0?[1-9]|[12]\d|3[01])"
_M = r"(?:0?[1-9]|1[0-2])"
_DATE = (
    r"(?<![\d./-])(?:"
    rf"{_Y4}[-./]{_M}[-./]{_D}"
    rf"|{_D}[-./]{_M}[-./](?:{_Y4}|\d{{2}})"
    rf"|{_M}[-./]{_D}[-./](?:{_Y4}|\d{{2}})"
    rf"|{_D}(?:st|nd|rd|th)?[\s-]+(?:of\s+)?(?i:{_MON_EN})\.?,?[\s-]+{_Y4}"
    rf"|(?i:{_MON_EN})\.?\s+{_D}(?:st|nd|rd|th)?,?\s+{_Y4}"
    rf"|{_D}\s+(?i:{_MON_UK})\s+{_Y4}(?:\s*(?:року|р\.|р\b))?"
    r")(?![\d])"
)
_DOB_AFTER = re.compile(_DOB_CUE + r"(?P<gap>" + _GAP + r"{0,40}?)(?P<v>" + _DATE + ")")
_BIRTHDAY_AFTER = re.compile(
    _BIRTHDAY_CUE + r"(?P<gap>\s*(?:[:\-–—(]|(?i:is|was|is\s+on|on|це|—|припадає\s+на))?\s*)(?P<v>" + _DATE + ")"
)
# the dates that follow a date of birth in its sentence: "1990-01-05 instead of 1990-05-01", "a, b and c"
_MORE_DATES = re.compile(
    r"\s*(?:,|;|/|->|→|(?i:\bor\b|\band\b|\binstead\s+of\b|\bnot\b|\bзамість\b|\bа\s+не\b|\bабо\b|\bі\b|\bта\b))"
    r"\s*(?P<v>" + _DATE + ")"
)
_DOB_BEFORE = re.compile(
    r"(?P<v>" + _DATE + r"|(?<!\d)" + _Y4 + r"(?!\d))"
    r"(?=\s*(?:\(|,|-|—|–)?\s*(?:р\.\s?н\.|року\s+народження|(?i:\(?(?:DOB|date\s+of\s+birth|дата\s+народження)\b)))"
)
_BIRTH_YEAR = re.compile(
    _YEAR_CUE + r"\s*[:\-—–]?\s*(?P<v>(?:(?i:" + _MON_EN + "|" + _MON_UK + r")\s+)?(?<!\d)" + _Y4 + r"(?!\d))"
)


def _birth_year_ok(value: str, *, before_this_year: bool = False) -> bool:
    years = re.findall(r"(?:19|20)\d{2}", value)
    if not years:
        return True  # a two-digit year ("12/03/85")
    year = int(years[-1])
    return plausible_birth_year(year) and (not before_this_year or year < date.today().year)


def _year_ok(m: re.Match[str], _text: str) -> str | None:
    return "dob" if _birth_year_ok(m.group("v")) else None


def _dob_spans(text: str) -> Iterable[Span]:
    """The first full date after a date-of-birth cue (or, after "birthday", an earlier year's date
    right after it), and the dates listed after that one in its sentence."""
    for rx, weak in ((_DOB_AFTER, False), (_BIRTHDAY_AFTER, True)):
        for m in rx.finditer(text):
            if not _birth_year_ok(m.group("v"), before_this_year=weak):
                continue
            yield (*m.span("v"), "dob")
            pos = m.end()
            while (more := _MORE_DATES.match(text, pos)) and _birth_year_ok(more.group("v"), before_this_year=weak):
                yield (*more.span("v"), "dob")
                pos = more.end()


DOB: list[Rule] = [
    Rule("dob_after_cue", _dob_spans),
    regex_rule("dob_before_cue", _DOB_BEFORE, _year_ok),
    regex_rule("birth_year", _BIRTH_YEAR, _year_ok),
]

# ---- phones: a `+`, a leading 0, a phone cue, phone-like grouping, or a long bare run of digits ---------------
_PHONE = re.compile(r"(?<![\w+\-/.=])(?P<v>\+?\(?\d[\d ().-]{7,18}\d)(?![\w/-]|[.:]\d)")
# a date (and time) in a log line, not a phone: "2016-10-11 15:57", "02-03-2016 18:37"
_DATE_START = re.compile(r"^(?:(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./](?:19|20)\d{2})(?!\d)")
_AMOUNT = re.compile(r"^(?:\d{1,3}(?:[ .]\d{3})+(?:[.,]\d{1,2})?|\d+[.,]\d{1,2})$")  # 1 234 567 890.00


# a company's VAT / PAYE / ПДВ number is printed on its invoices: no one's phone and nothing personal
_COMPANY_NUMBER = re.compile(
    r"(?i:\b(?:VAT|PAYE|ПДВ|EORI)\b(?:\s*(?:reg\w*|number|no\.?|id|номер))?[\s:#№(]*[A-Z]{0,2}\s?)$"
)


def _phone_value(text: str, start: int, v: str) -> bool:
    digits = sum(c.isdigit() for c in v)
    if not 9 <= digits <= 15:
        return False
    if "." in v and any(c in v for c in " ()-"):
        return False  # "2025.10.3 (15 October": a version and a date, not a phone
    if v.count("(") != v.count(")") or _DATE_START.match(v):
        return False
    before = text[max(0, start - 40) : start]
    if v.startswith(("+", "(", "0")) or _PHONE_CUE.search(before):
        return True
    if _AMOUNT.match(v) or _not_personal(text, start) or _COMPANY_NUMBER.search(before):
        return False
    compact = v.replace(" ", "").replace("-", "").replace(".", "")
    if compact.isdigit() and compact == v:  # a bare run of digits: 10+ like a phone, 9 may be anything
        return digits >= 10
    groups = re.split(r"[ ().-]+", v.strip("()"))
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", v):
        return False  # an IP address
    # phone-like grouping ("555 123 4567", "44 20 7946 0958"), not a list of numbers ("1043 1044 1045")
    return len(groups) >= 3 and 2 <= len(groups[-1]) <= 4 and (len(groups[0]) <= 3 or len(groups) >= 4)


def _phone_spans(text: str) -> Iterable[Span]:
    for m in _PHONE.finditer(text):
        s, v = m.start("v"), m.group("v")
        if v.startswith("(") and ")" not in v:  # "(07700 900412)": the bracket closes after the match
            s, v = s + 1, v[1:]
        if _phone_value(text, s, v):
            yield s, m.end("v"), "phone"


PHONE = Rule("phone", _phone_spans)
