"""Rules for secrets: private keys, JWTs, API keys and tokens, passwords written in the text.

Every quantifier is bounded or anchored at a token boundary, so a rule's work grows linearly with the
text (a ticket of 20,000 look-alike characters is masked in well under a second).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.graph.redaction.checks import entropy
from agent.graph.redaction.engine import NOT_MASKED, Decide, Rule, Span, regex_rule

_B = r"(?<![A-Za-z0-9_-])"  # a key starts at a token boundary ...
_E = r"(?![A-Za-z0-9_-])"  # ... and ends at one


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _has_digit_and_letter(s: str) -> bool:
    return any(c.isdigit() for c in s) and any(c.isalpha() for c in s)


# ---- private keys (the whole PEM block; without its END line, the base64 lines that follow) -------
_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"|(?:\s{0,4}(?:[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9+/]{1,15}={1,2}|(?:Proc-Type|DEK-Info|Comment):[^\n]*))*)",
    re.S,
)
PRIVATE_KEY = regex_rule("private_key", _PEM, "private_key", 0)

# ---- JWT: base64url header (always `{"...` = eyJ) . payload . signature (JWE: five parts) ---------
# (an empty part only between two dots, so the full stop after a JWT stays: "... Bearer eyJ...x.")
_PART = r"\.(?:[A-Za-z0-9_-]+|(?=\.))"
_JWT = re.compile(_B + r"eyJ[A-Za-z0-9_-]{8,}\.(?:[A-Za-z0-9_-]{4,}|(?=\.))(?:" + _PART + r"){0,3}")
JWT = regex_rule("jwt", _JWT, "jwt", 0)

# ---- credentials in a URL: scheme://user:password@host ---------------------------------------------
_URL_CREDS = re.compile(
    r"(?i:(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,20}://)[^\s:/@\[\]]{1,64}:(?P<v>" + NOT_MASKED + r"[^\s/@\[\]]{1,128})@"
)
URL_PASSWORD = regex_rule("url_password", _URL_CREDS, "password")


# ---- keys by their vendor's shape ---------------------------------------------------------------------
def _shape(kind: str, pattern: str, *, entropy_check: bool = False) -> Rule:
    rx = re.compile(_B + pattern + _E)

    def decide(m: re.Match[str], _text: str) -> str | None:
        return kind if not entropy_check or _has_digit_and_letter(m.group(0)) else None

    return regex_rule(f"{kind}:{pattern[:12]}", rx, decide, 0)


_AWS_ID = r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}"
_AWS_ID_RE = re.compile(r"(?<![A-Z0-9])" + _AWS_ID + r"(?![A-Z0-9])")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
_AWS_CUE = re.compile(r"(?i:aws|secret|access[_ -]?key|ключ|секрет)")


def _aws_secret(m: re.Match[str], text: str) -> str | None:
    """A 40-character AWS secret key: only near an access key id, or after a secret/AWS cue."""
    v = m.group("v")
    if not (any(c.isupper() for c in v) and any(c.islower() for c in v) and any(c.isdigit() for c in v)):
        return None
    near = text[max(0, m.start() - 200) : m.end() + 200]
    cued = _AWS_CUE.search(text[max(0, m.start() - 60) : m.start()])
    return "api_key" if _AWS_ID_RE.search(near) or cued else None


AWS_SECRET = regex_rule("aws_secret", _AWS_SECRET, _aws_secret)

VENDOR_KEYS: list[Rule] = [
    _shape("api_key", r"(?<![A-Z0-9])" + _AWS_ID + r"(?![A-Z0-9])"),  # AWS access key id
    # Stripe-style with the environment in the name (sk_live_, pk_test_, rk_live_, sk-live-)
    _shape("api_key", r"(?:sk|pk|rk)[-_](?:live|test)[-_][A-Za-z0-9][A-Za-z0-9_-]{5,}"),
    # OpenAI (sk-..., sk-proj-..., sk-svcacct-...), Anthropic (sk-ant-api03-...)
    _shape("api_key", r"sk-(?:proj-|ant-(?:api|admin)\d\d-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", entropy_check=True),
    _shape("api_key", r"(?:sk|pk|rk|whsec|acct)_[A-Za-z0-9+/=]{16,}", entropy_check=True),
    # any vendor's `<name>_live_...` / `_test_` / `_prod_` keys (PayFlow-style pf_live_... included)
    _shape("api_key", r"[a-z][a-z0-9]{1,9}_(?:live|test|prod|sandbox)_[A-Za-z0-9]{8,}", entropy_check=True),
    _shape("api_key", r"trk_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}"),  # this service's own API keys
    _shape("api_key", r"AIza[0-9A-Za-z_-]{30,}"),  # Google
    _shape("api_key", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),  # SendGrid
    _shape("api_key", r"SK[0-9a-fA-F]{32}"),  # Twilio
    _shape("api_key", r"key-[0-9a-f]{32}"),  # Mailgun
    _shape("token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"),  # GitHub
    _shape("token", r"github_pat_[A-Za-z0-9_]{20,}"),
    _shape("token", r"glpat-[A-Za-z0-9_-]{20,}"),  # GitLab
    _shape("token", r"xox[abposre]-[A-Za-z0-9-]{10,}"),  # Slack
    _shape("token", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
    _shape("token", r"ya29\.[0-9A-Za-z_-]{20,}"),  # Google OAuth access token
    _shape("token", r"(?:npm|hf|pypi-AgEI)[_A-Za-z0-9-]{30,}", entropy_check=True),  # npm, Hugging Face, PyPI
    _shape("token", r"sq0(?:atp|csp)-[0-9A-Za-z_-]{22,}"),  # Square
    _shape("token", r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"),  # Shopify
    _shape("token", r"(?<!\d)\d{8,10}:AA[A-Za-z0-9_-]{30,}"),  # Telegram bot
]


# ---- tokens in pasted HTTP headers --------------------------------------------------------------------
def _tokenish(v: str, min_len: int = 10) -> bool:
    """Looks generated: letters and digits and long enough, or long and of more than one class."""
    v = v.strip("\"'.,;")
    if len(v) >= min_len and _has_digit_and_letter(v):
        return True
    classes = any(c.isupper() for c in v) + any(c.islower() for c in v) + any(c.isdigit() for c in v)
    return len(v) >= 20 and classes >= 2


_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]"
_AUTH_HEADER = re.compile(
    r"(?i:\b(?:proxy-)?authorization)\s*[:=]\s*[\"']?(?:(?i:bearer|basic|token|digest|apikey|api-key|jwt)\s+)?"
    r"(?P<v>" + NOT_MASKED + _TOKEN_CHARS + r"{8,})"
)
_BEARER = re.compile(r"(?i:\bbearer)\s+(?P<v>" + NOT_MASKED + _TOKEN_CHARS + r"{12,})")
AUTH_HEADER = regex_rule("authorization", _AUTH_HEADER, "token")
BEARER = regex_rule("bearer", _BEARER, lambda m, _t: "token" if _tokenish(m.group("v"), 12) else None)

# ---- passwords: the words, and what is not a password after them ---------------------------------------
# "password" in the languages our customers write; `pass`, `pwd`, `pw`, `PIN` only before a `:`/`=`.
_PW_WORD = (
    r"pass(?:word|wd|phrase|code)s?|парол(?:ь|я|ем|і|ю)|passwort|has(?:ł|l)o|mot\s+de\s+passe|contrase(?:ñ|n)a|"
    r"код(?:у)?\s+доступу|access\s+code"
)
_IDENT_HEAD = r"(?:[A-Za-z0-9]{1,30}[_.-]){0,4}"  # DB_, smtp., user- in front of a cue
_IDENT_TAIL = r"(?:[_.-][A-Za-z0-9]{1,30}){0,4}"  # _confirmation, .value after it
_PW_ANY = _IDENT_HEAD + r"(?:" + _PW_WORD + r"|pwd|pw|pass|pin(?:[- ]?code)?|пін(?:[- ]?код)?)" + _IDENT_TAIL
_STOP = _words(
    """
    not no none now still also already just only expired expires expiring wrong incorrect invalid correct right too
    very being been the a an same different reset blocked locked working broken required set changed ok okay fine
    accepted rejected weak strong long short missing empty blank forgotten forgot lost compromised leaked stolen in on
    at for from of that this it it's its my your their his her our and or but supposed meant like case please unknown
    sent attached below above here there over under more less about recovery change update field policy requirements
    length manager protected encrypted hidden visible shown displayed needed needs doesn't does is was will would
    should can cannot can't has have had isn't wasn't won't help issue issues problem problems request link email mail
    expiry expiration rules rule reuse history strength complexity prompt prompts screen page form box dialog error
    errors not-working didn't did do when because since after before if so then which who with without via by
    не ні вже ще також теж був була було є це невірний невірно неправильний неправильно правильний змінено змінився
    скинуто заблоковано застарів прострочений який яку що від до для на в у і та або мій мою свій свою надіслано
    підходить працює забув забула потрібно треба будь ласка користувача адміністратора тимчасовий новий старий я ми
    він вона вони ви його її їх щоб коли після скинути змінити відновити відновлення
    mandatory necessary sensitive case-sensitive temporary unique valid secure insecure random complex simple easy hard
    weird strange good bad great new old current previous default same-as generated saved stored known unknown
    """
)
_ERROR_CODE = re.compile(r"^[A-Z]{2,5}-\d{2,6}$")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")
_QUOTES = {'"': '"', "'": "'", "«": "»", "“": "”", "`": "`"}
_VALUE = (
    r"(?P<v>"
    + NOT_MASKED
    + r"(?:\"[^\"\n]{1,80}\"|'[^'\n]{1,80}'|«[^»\n]{1,80}»|“[^”\n]{1,80}”|`[^`\n]{1,80}`|\S{1,80}))"
)
_PREP = r"(?:for|to|of|on|at|in|від|до|для|на|у|в)"
_SP = r"[^\S\n]"  # a space that is not a line break
_NL = _SP + r"*\n?" + _SP + "*"  # spaces and at most one line break
_STRONG = re.compile(r"(?i:(?<![\w/.-])" + _PW_ANY + r")[\"']?" + _SP + r"*(?::=|=>|->|[:=]|—|–|\s-\s)" + _NL + _VALUE)
_MEDIUM = re.compile(
    r"(?i:(?<![\w-])(?:" + _PW_WORD + r")(?:\s+" + _PREP + r"(?:\s+[^\s:=*.!?]{1,25}){1,4}?)?"
    r"\s*(?::|=|\s[-—–]\s|\bis\b|\bwas\b|\bwill\s+be\b|\bwould\s+be\b|\bце\b|\bє\b|\bтакий\b|\bбуде\b|\bбув\b)"
    r"\s*[:\-—–]?)" + _NL + _VALUE
)
_WEAK = re.compile(
    r"(?i:(?<![\w-])(?:"
    + _PW_WORD
    + r")(?:"
    + _SP
    + r"+(?:to|into|на))?)(?:"
    + _SP
    + r"+|"
    + _SP
    + r"*\n"
    + _SP
    + r"*)"
    + _VALUE
)
_CREDENTIALS = re.compile(
    r"(?i:\b(?:credentials|creds|login\s*/\s*password|username\s*/\s*password|user\s*/\s*pass(?:word)?|"
    r"логін\s*/\s*пароль|облікові\s+дані))\s*[:=\-—–]?\s*[^\s/:|]{1,64}\s*[/:|]\s*(?P<v>" + NOT_MASKED + r"\S{1,80})"
)
# `login ivan password kyivkyiv`, `логін: ivan, пароль kyivkyiv`: a login and its value right before the cue
_LOGIN_PAIR = re.compile(
    r"(?i:\b(?:login|log-in|username|user\s*name|user|логін\w*|користувач))\s*(?:[:=\-–—]|\bis\b|\bце\b)?\s*"
    r"[\"'«]?[^\s\"'»,;]{2,64}[\"'»]?\s*[,;/|]?\s*(?:(?:and|і|й|та)\s+)?(?:(?:the|my|мій|a)\s+)?$"
)


def _value(m: re.Match[str]) -> tuple[int, int, str]:
    """The value's span: inside its quotes, or without the sentence's punctuation after it."""
    s, e = m.span("v")
    v = m.group("v")
    if len(v) >= 2 and v[0] in _QUOTES and v[-1] == _QUOTES[v[0]]:
        return s + 1, e - 1, v[1:-1]
    trimmed = v.rstrip(".,;")
    if len(trimmed) >= 3:
        return s, s + len(trimmed), trimmed
    return s, e, v


_ADDRESS = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+|^(?i:https?://|www\.)")


def _bare(v: str) -> str:
    return v.strip(".,;:!?()«»\"'*_`~").lower()


# after "пароль був/це": an adjective, participle or verb ("був вимкнений", "не приймається") describes it
_UK_DESCRIBING = re.compile(
    r"^[а-яіїєґ'’-]+(?:ний|ній|ного|ним|на|не|ні|ено|ано|ато|ий|ій|ться|ється|ює|ує|ав|ала|ало|али)$"
)
# ... and an English one after "password is" ("is mandatory", "was accepted", "is hopeless")
_EN_DESCRIBING = re.compile(r"^[a-z]+(?:ed|ing|ly|able|ible|ive|ous|ary|ful|less|ent|ant|ic|al)$")


def _describes(bare: str) -> bool:
    return bool(_UK_DESCRIBING.match(bare) or _EN_DESCRIBING.match(bare))


_DASH_END = re.compile(r"(?:\s-\s|—|–)\s*$")
_FULL_WORD = re.compile(r"(?i:" + _PW_WORD + ")")


def _strong(m: re.Match[str], _text: str) -> str | None:
    """After `password:` / `pwd=` / `PIN:`: anything but a common word (after a dash, only when the
    cue is a whole word: "day pass - $20", "Pass - Fail" stay)."""
    head = m.group(0)[: m.start("v") - m.start()]
    if _DASH_END.search(head) and not _FULL_WORD.search(head):
        return None
    _, _, v = _value(m)
    bare = _bare(v)
    if _ADDRESS.match(v):
        return None
    return "password" if len(v) >= 3 and bare and bare not in _STOP else None  # "********": masked already


def _medium(m: re.Match[str], _text: str) -> str | None:
    """After `password is` / `пароль це`: not a word that describes the password ("is expired")."""
    _, _, v = _value(m)
    bare = _bare(v)
    if len(v) < 4 or not bare or bare in _STOP or _describes(bare) or _ADDRESS.match(v):
        return None
    return "password"


def _looks_like_password(v: str, cue: str) -> bool:
    """Right after a bare `password`/`пароль`: a value that words do not look like."""
    bare = _bare(v)
    if (
        len(v) < 4
        or not bare
        or bare in _STOP
        or _ERROR_CODE.match(v.rstrip(".,;:!?"))
        or v.startswith(("http", "www."))
        or _ADDRESS.match(v)
    ):
        return False
    if v.isdigit():
        return len(v) >= 6  # "password 1043" is likelier an employee than a PIN
    inner = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", v.rstrip(".,;:!?"))  # "Офіс-менеджер": a word
    if any(c.isdigit() for c in v) or any(not c.isalnum() for c in inner):
        return True
    if any(c.isupper() for c in v[1:]) and any(c.islower() for c in v):
        return True  # mixed case: "hUnTeR"
    return bool(_CYRILLIC.search(cue) and _LATIN.search(v) and not _CYRILLIC.search(v))  # "пароль qwerty"


def _weak(m: re.Match[str], text: str) -> str | None:
    """`password Hunter2`, `пароль qwerty`; after a login (`login ivan password kyivkyiv`), any value
    that is not a common word."""
    _, _, v = _value(m)
    if _looks_like_password(v, m.group(0)[: m.start("v") - m.start()]):
        return "password"
    after_login = _LOGIN_PAIR.search(text[max(0, m.start() - 90) : m.start()])
    bare = _bare(v)
    return "password" if after_login and len(v) >= 4 and bare not in _STOP and not _describes(bare) else None


def _password_rule(name: str, pattern: re.Pattern[str], decide: Decide) -> Rule:
    """Like regex_rule, but masks the value without its quotes or trailing punctuation."""

    def find(text: str) -> Iterable[Span]:
        for m in pattern.finditer(text):
            kind = decide(m, text)
            if kind:
                s, e, _ = _value(m)
                yield s, e, kind

    return Rule(name, find)


# a PIN in words: "my PIN is 4321", "PIN code 1234", "ПІН-код: 0000"
_PIN = re.compile(
    r"(?i:(?<![\w-])(?:pin|пін)(?:[- ]?(?:code|код))?(?:\s+(?:is|was|це|є))?\s*[:=\-—–]?\s*)(?P<v>"
    + NOT_MASKED
    + r"\d{4,8})(?![\d.,]\d|\d)"
)

PASSWORDS: list[Rule] = [
    regex_rule("pin", _PIN, "password"),
    _password_rule("password_credentials", _CREDENTIALS, _strong),
    _password_rule("password_strong", _STRONG, _strong),
    _password_rule("password_medium", _MEDIUM, _medium),
    _password_rule("password_weak", _WEAK, _weak),
]

# ---- generic `api_key=...`, `token: ...`, `"client_secret": "..."`, `ключ API: ...` ------------------
_KEY_WORDS = (
    r"api[_ .-]?key|apikey|access[_ -]?key(?:[_ -]?id)?|secret[_ -]?(?:access[_ -]?)?key|private[_ -]?key|"
    r"signing[_ -]?key|encryption[_ -]?key|licen[cs]e[_ -]?key|ключ\w{0,6}(?:\s+API)?|API[- ]ключ\w{0,6}"
)
_TOKEN_WORDS = (
    r"client[_ -]?secret|app[_ -]?secret|webhook[_ -]?secret|signing[_ -]?secret|secret|"
    r"(?:access|refresh|auth|api|bearer|session|csrf|id|oauth|personal[_ -]access)?[_ -]?token|"
    r"session[_ -]?id|sessionid|sid|cookie|credentials?|токен\w{0,6}|секрет\w{0,6}"
)
_GENERIC = re.compile(
    r"(?i:(?<![A-Za-z0-9_.-])" + _IDENT_HEAD + r"(?P<cue>" + _KEY_WORDS + "|" + _TOKEN_WORDS + r")" + _IDENT_TAIL + ")"
    r"[\"']?\s*(?P<sep>[:=]|=>|->|—|–|\bis\b|\bwas\b|\bце\b)\s*[\"'`]?"
    r"(?P<v>" + NOT_MASKED + r"[A-Za-z0-9._~+/=!@#$%^&*-]{5,199}[A-Za-z0-9_~+/=!@#$%^&*-])"
)


def _generic(m: re.Match[str], _text: str) -> str | None:
    """After `:`/`=` the value is labelled a secret: anything with a digit or a symbol but an error
    code; after `is`/`was` it must also look generated ("the token is invalid" stays)."""
    v = m.group("v").rstrip(".,;")
    if re.fullmatch(r"[A-Z_]+|(?i:x{6,}|\*{6,})", v):
        return None  # YOUR_API_KEY, xxxxxxxx: a placeholder from the docs
    labelled = m.group("sep") in (":", "=", "=>", "->")
    plain = len(v) >= 6 and v.lower() not in _STOP and not _ERROR_CODE.match(v) and not v.isalpha()
    if not (_tokenish(v) or (labelled and plain and (any(c.isdigit() for c in v) or len(v) >= 8))):
        return None
    return "api_key" if re.search(r"(?i:key|ключ)", m.group("cue")) else "token"


GENERIC_SECRET = regex_rule("generic_secret", _GENERIC, _generic)
# `secret wJalrXUtnFEMI/K7MDENG...`, `token 5f4dcc3b...`: no separator, so the value must look generated
_GENERIC_BARE = re.compile(
    r"(?i:(?<![A-Za-z0-9_.-])" + _IDENT_HEAD + r"(?P<cue>" + _KEY_WORDS + "|" + _TOKEN_WORDS + r")" + _IDENT_TAIL + ")"
    r"\s+[\"'`]?(?P<v>" + NOT_MASKED + r"[A-Za-z0-9._~+/=-]{19,199}[A-Za-z0-9_~+/=-])"
)


def _generic_bare(m: re.Match[str], _text: str) -> str | None:
    v = m.group("v").rstrip(".,;")
    mixed = any(c.isupper() for c in v) and any(c.islower() for c in v) and any(c.isdigit() for c in v)
    hexish = len(v) >= 32 and re.fullmatch(r"[0-9a-fA-F-]+", v) is not None and any(c.isalpha() for c in v)
    wordish = sum(len(w) for w in re.findall(r"[A-Z]?[a-z]{3,}", v))  # "IntegrationSettingsPage2024"
    if not (mixed or hexish) or wordish >= 0.5 * len(v) or "://" in m.group(0):
        return None
    return "api_key" if re.search(r"(?i:key|ключ)", m.group("cue")) else "token"


GENERIC_BARE_SECRET = regex_rule("generic_bare_secret", _GENERIC_BARE, _generic_bare)
_XML_SECRET = re.compile(
    r"(?i:<(?P<tag>password|passwd|pwd|secret|client_secret|token|access_token|api_?key)>)"
    r"(?P<v>" + NOT_MASKED + r"[^<\n]{1,200})(?i:</(?P=tag)>)"
)
XML_SECRET = regex_rule(
    "xml_secret", _XML_SECRET, lambda m, _t: "password" if m.group("tag").lower().startswith("p") else "token"
)

# ---- anything else that looks generated: long, mixed case, digits scattered through it ---------------
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_+/=-])(?P<v>[A-Za-z0-9_+/=-]{24,})(?![A-Za-z0-9_+/=-])")
_WORDISH = re.compile(r"[A-Z]?[a-z]{3,}|[A-Z]{3,}(?![a-z])")  # "Status", "get", "PDF": words, not noise
_URL_BEFORE = re.compile(r"(?i:[a-z][a-z0-9+.-]{0,20}://\S*$)")


def _random_looking(v: str) -> bool:
    """Mixed case, digits in three or more places, high entropy, and not mostly words: a generated
    value ("Zx81Lq9vTt72Pp0aBc44..."), not an identifier ("getRunStatus2025Q3", "Reset-Password-2FA-v2")."""
    if len(v) < 24:
        return False
    upper = sum(c.isupper() for c in v)
    lower = sum(c.islower() for c in v)
    digit_runs = len(re.findall(r"\d+", v))
    wordish = sum(len(w) for w in _WORDISH.findall(v))
    return upper >= 2 and lower >= 2 and digit_runs >= 3 and entropy(v) >= 3.5 and wordish < 0.4 * len(v)


def _high_entropy_spans(text: str) -> Iterable[Span]:
    """Random-looking strings; inside a URL, each path segment and query value on its own (the host and
    the words of a docs path stay, a token in the path goes)."""
    for m in _LONG_TOKEN.finditer(text):
        if _URL_BEFORE.search(text[max(0, m.start() - 300) : m.start()]):
            for seg in re.finditer(r"[^/=]+", m.group(0)):
                if _random_looking(seg.group(0)):
                    yield m.start() + seg.start(), m.start() + seg.end(), "token"
        elif _random_looking(m.group(0)):
            yield *m.span(), "token"


HIGH_ENTROPY = Rule("high_entropy", _high_entropy_spans)

SECRET_RULES: list[Rule] = [
    PRIVATE_KEY,
    JWT,
    URL_PASSWORD,
    AWS_SECRET,
    *VENDOR_KEYS,
    AUTH_HEADER,
    BEARER,
    XML_SECRET,
    *PASSWORDS,
    GENERIC_SECRET,
    GENERIC_BARE_SECRET,
]
