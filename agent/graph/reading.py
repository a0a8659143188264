"""The ticket as a model could read it, for the rules that look for instructions hidden in it.

A person skims past `t e l l  t h e m  t o ...` or a fullwidth `ｓｙｓｔｅｍ`; a language model reads
both. `as_read(text)` returns the text with look-alike forms folded (NFKC), zero-width and bidi
characters dropped and, appended on their own lines, every run of spaced-out letters joined into
words. The risk rules and the dictation check (`Policy.detect_risk`) search that, so an instruction
spelled either way is still one. (A base64 run never gets here: the masker takes it for a token, a
posted secret, and the ticket is handed off as a security matter.) Nothing here is fitted to data;
tests/unit/test_reading.py has the cases.
"""

from __future__ import annotations

import re
import unicodedata

# soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul fillers, Mongolian vowel separator,
# zero-width, bidi marks and embeddings, word joiner and invisible operators, byte-order mark
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
# five or more single characters each followed by one to three spaces: "v i s i t  e x a m p l e . c o m"
_SPACED = re.compile(r"(?<!\S)(?:\S {1,3}){4,}\S(?!\S)")


def _joined(run: str) -> str:
    """`t e l l  t h e m` -> `tell them`: two or more spaces part words, one space parts letters."""
    return " ".join(part.replace(" ", "") for part in re.split(r" {2,}", run))


def as_read(text: str) -> str:
    """`text` folded as a reader sees it, with its spaced-out words joined and appended (see above)."""
    plain = INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    extra = [_joined(m.group(0)) for m in _SPACED.finditer(plain)]
    return "\n".join([plain, *extra]) if extra else plain
