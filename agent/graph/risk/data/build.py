"""Compose risk_examples.jsonl from the hand-written cores (deterministic: same cores, same file).

    python -m agent.graph.risk.data.build            # rewrites agent/graph/risk/data/risk_examples.jsonl

Each core (one situation, cores_risky.py / cores_safe.py) becomes two or three tickets: a short one
(subject + the core), a long one (greeting, context, the core in the middle, an ordinary how-to
question at the end, signature) and for a third of the cores a variant with typos; some Ukrainian
tickets end with an English question and vice versa (mixed language). Risky and ordinary cores get
the same wrappers, so a wrapper says nothing about risk. The split is by core (`group`): a core's
tickets are all dev or all test (test ~30%, stratified by kind and language), so the held-out figure
is on situations never seen in training.

The cores added later (cores_more_risky.py / cores_more_safe.py: hard negatives that share words with
risk, and more positives of every kind; then cores_extra_*.py and cores_extra2_*.py, written blind:
2 x 256 positives, about half without their kind's keywords, the second batch with the risk as one
clause of an ordinary message, hedged, second-hand or terse; 2 x 260 hard negatives, the second batch
long, detailed, upset or urgent; then cores_kb_*.py, written blind on 2026-12-03 from the demo help
centre's articles: 240 ordinary questions about its topics, including those that share words with risk
(a declined card, an approval to undo, a sick note, a token, a draft's wrong amount), and 120 risky ones
on the same topics, 15 per kind) follow, wrapped the same way with their own random stream and
split by a hash of the core's text (`more_split`, groups M000...), so that the first cores' tickets and
splits are unchanged.

Then every ticket of evals/datasets/history.jsonl (300 real past tickets: subject, blank line, body),
risky or not as labelled by hand in history_labels.py (`source: history`, its own group, split by a
hash of its id: test when the first 8 hex digits of sha256(id) mod 100 < 30).

Last, every ticket of the demo help centre's dev eval sets (`DEMO_SETS`: the smoke set and the first
three blind sets of evals/fresh/, 322 tickets; `source: demo`, split like a history ticket), risky as
their gold risk flags say (the kind: `FLAG_KIND`, or `DEMO_KINDS` where a flag has two kinds). They are
what the service's customers write: ordinary how-to questions in a worried or urgent voice, which the
written cores under-represent (the model trained without them held 11 English and 11 Ukrainian demo
tickets whose gold is an auto-resolution in its review zone). The later blind sets stay out, to check
what the model learnt.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

from agent.graph.risk.data.cores_extra2_risky import RISKY_EXTRA2
from agent.graph.risk.data.cores_extra2_safe import SAFE_EXTRA2
from agent.graph.risk.data.cores_extra_risky import RISKY_EXTRA
from agent.graph.risk.data.cores_extra_safe import SAFE_EXTRA
from agent.graph.risk.data.cores_kb_risky import RISKY_KB
from agent.graph.risk.data.cores_kb_safe import SAFE_KB
from agent.graph.risk.data.cores_more_risky import RISKY_MORE
from agent.graph.risk.data.cores_more_safe import SAFE_MORE
from agent.graph.risk.data.cores_risky import RISKY
from agent.graph.risk.data.cores_safe import SAFE
from agent.graph.risk.data.history_labels import HISTORY_RISKY
from agent.graph.risk.model import KIND_FLAGS

OUT = Path(__file__).with_name("risk_examples.jsonl")
HISTORY = Path(__file__).resolve().parents[4] / "evals" / "datasets" / "history.jsonl"
_EVALS = Path(__file__).resolve().parents[4] / "evals"
# the demo help centre's dev eval sets the model learns from: their tickets, labelled by their gold risk.
# Not the later blind sets (demo_fresh_2026-12-04.jsonl, -04b): they check what it learnt (README)
DEMO_SETS: tuple[Path, ...] = (
    _EVALS / "datasets" / "smoke.jsonl",
    _EVALS / "fresh" / "demo_fresh_2026-12-02.jsonl",
    _EVALS / "fresh" / "demo_fresh_2026-12-03.jsonl",
    _EVALS / "fresh" / "demo_fresh_2026-12-03b.jsonl",
)
SEED = 13
TEST_SHARE = 0.3

SUBJECTS = {
    "en": [
        "Quick question",
        "Password",
        "Help please",
        "Payslips",
        "Question about my account",
        "Payroll",
        "Login",
        "hi",
        "Support request",
        "Account settings",
        "November payroll",
        "Need help",
        "API",
        "Urgent",
        "Re: your last reply",
        "Billing",
        "Reports",
        "2FA",
        "Employees",
        "Follow-up",
    ],
    "uk": [
        "Питання",
        "Пароль",
        "Допоможіть",
        "Розрахункові листи",
        "Питання щодо акаунта",
        "Зарплата",
        "Вхід",
        "добрий день",
        "Звернення",
        "Налаштування",
        "Відомість за листопад",
        "Потрібна допомога",
        "API",
        "Терміново",
        "Re: ваша відповідь",
        "Оплата",
        "Звіти",
        "Двофакторна перевірка",
        "Працівники",
    ],
}
GREETINGS = {
    "en": [
        "Hi team,",
        "Hello,",
        "Good morning,",
        "Hi there,",
        "Dear PayFlow support,",
        "hey",
        "Hi,",
        "Hello support team,",
    ],
    "uk": [
        "Добрий день!",
        "Вітаю.",
        "Доброго ранку,",
        "Привіт,",
        "Шановна підтримко PayFlow,",
        "Добрий день,",
        "Вітаю!",
    ],
}
CONTEXT = {
    "en": [
        "We're a 120-person logistics company on the Growth plan.",
        "I look after payroll for our three UK sites.",
        "We moved to PayFlow in spring and mostly it works well.",
        "I'm the office manager and I also do HR admin.",
        "Writing on behalf of our finance team.",
        "We have about 40 employees, most of them hourly.",
        "Sorry for the long message, it has been a strange week.",
        "I tried to find this in the help centre but couldn't.",
        "Our payroll runs on the 25th every month.",
        "We are a small agency with 18 people.",
    ],
    "uk": [
        "Ми логістична компанія на 120 працівників, тариф Growth.",
        "Я веду зарплату для трьох наших філій.",
        "Перейшли на PayFlow навесні, загалом усе добре.",
        "Я офіс-менеджерка і ще веду кадри.",
        "Пишу від імені фінансового відділу.",
        "У нас близько 40 працівників, більшість погодинно.",
        "Вибачте за довгий лист, тиждень був дивний.",
        "Шукала це в довідці, але не знайшла.",
        "Зарплату виплачуємо 25-го числа щомісяця.",
        "Ми невелика агенція, 18 людей.",
    ],
}
QUESTIONS = {
    "en": [
        "Anyway, how do I change my password?",
        "Also, where can I download the payslips for last month?",
        "By the way, how do I add a new user?",
        "My actual question: how do I reset my 2FA?",
        "Separately, how do I export the headcount report?",
        "And one more thing: how do I update an employee's bank details?",
        "Could you also tell me where the invoices are?",
        "Also, is there a way to approve timesheets in bulk?",
        "How do I log out other sessions?",
        "Can you send me the link to the help article about payslips?",
        "",
        "",
    ],
    "uk": [
        "Загалом, як мені змінити пароль?",
        "І ще: де завантажити розрахункові листи за минулий місяць?",
        "До речі, як додати нового користувача?",
        "Власне питання: як скинути двофакторну перевірку?",
        "Окремо: як вивантажити звіт по чисельності?",
        "І ще одне: як оновити банківські реквізити працівника?",
        "Підкажіть також, де знайти рахунки?",
        "А ще — чи можна затвердити табелі всі разом?",
        "Як завершити інші сесії?",
        "Скиньте, будь ласка, посилання на статтю про розрахункові листи.",
        "",
        "",
    ],
}
SIGNATURES = {
    "en": ["Thanks, Anna", "Regards,\nTom", "Cheers", "Thank you", "— Priya, HR", "thx", "Best, Mark Ellis, Finance"],
    "uk": ["Дякую, Олена", "З повагою,\nІгор", "Дякую!", "Наталія, бухгалтерія", "дякую", "Марія Коваль, HR"],
}


def typos(text: str, rng: random.Random, rate: float = 0.06) -> str:
    """Drop, double or swap letters in about `rate` of the words (never in words of 3 letters or less)."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) > 3 and w.isalpha() and rng.random() < rate:
            j = rng.randrange(1, len(w) - 1)
            op = rng.randrange(3)
            if op == 0:
                w = w[:j] + w[j + 1 :]
            elif op == 1:
                w = w[:j] + w[j] + w[j:]
            else:
                w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
            words[i] = w
    return " ".join(words)


def _other(lang: str) -> str:
    return "uk" if lang == "en" else "en"


def variants(core: str, lang: str, rng: random.Random, typo_variant: bool) -> list[tuple[str, str]]:
    """(text, language) tickets for one core: short, long, and maybe a typo'd long one."""
    out: list[tuple[str, str]] = []
    short_q = rng.choice(QUESTIONS[lang]) if rng.random() < 0.4 else ""
    out.append((f"{rng.choice(SUBJECTS[lang])}\n\n{core} {short_q}".strip(), lang))
    for typo in (False, True) if typo_variant else (False,):
        mixed = rng.random() < 0.15
        q_lang = _other(lang) if mixed else lang
        parts = [rng.choice(GREETINGS[lang]), rng.choice(CONTEXT[lang]), core]
        if rng.random() < 0.5:
            parts.append(rng.choice(CONTEXT[lang]))
        question = rng.choice([q for q in QUESTIONS[q_lang] if q])
        parts += [question, rng.choice(SIGNATURES[lang])]
        body = " ".join(parts[:-1]) + "\n\n" + parts[-1]
        if typo:
            body = typos(body, rng, rate=0.12)
        out.append((f"{rng.choice(SUBJECTS[lang])}\n\n{body}", lang))
    return out


def build() -> list[dict[str, object]]:
    rng = random.Random(SEED)
    cores: list[tuple[str, str, str | None]] = [(t, lang, kind) for kind, lang, t in RISKY]
    cores += [(t, lang, None) for lang, t in SAFE]
    # split by core, stratified by (kind, language)
    strata: dict[tuple[str | None, str], list[int]] = {}
    for i, (_, lang, kind) in enumerate(cores):
        strata.setdefault((kind, lang), []).append(i)
    test: set[int] = set()
    for members in strata.values():
        picked = list(members)
        rng.shuffle(picked)
        test.update(picked[: round(len(picked) * TEST_SHARE)])
    rows: list[dict[str, object]] = []
    for i, (core, lang, kind) in enumerate(cores):
        for text, language in variants(core, lang, rng, typo_variant=rng.random() < 0.35):
            rows.append(
                {
                    "id": f"RK{len(rows) + 1:04d}",
                    "text": text,
                    "language": language,
                    "risk": kind is not None,
                    "kind": kind,
                    "split": "test" if i in test else "dev",
                    "group": f"C{i:03d}",
                    "source": "written",
                }
            )
    return rows + more_rows(len(rows)) + history_rows() + demo_rows()


def more_cores() -> list[tuple[str, str, str | None]]:
    """(text, language, kind) of the cores added later (cores_more_*.py, then cores_extra_*.py), in
    their group order: a later batch goes after the earlier ones, so their groups and tickets stay."""
    cores: list[tuple[str, str, str | None]] = [(t, lang, kind) for kind, lang, t in RISKY_MORE]
    cores += [(t, lang, None) for lang, t in SAFE_MORE]
    cores += [(t, lang, kind) for kind, lang, t in RISKY_EXTRA]
    cores += [(t, lang, None) for lang, t in SAFE_EXTRA]
    cores += [(t, lang, kind) for kind, lang, t in RISKY_EXTRA2]
    cores += [(t, lang, None) for lang, t in SAFE_EXTRA2]
    cores += [(t, lang, kind) for kind, lang, t in RISKY_KB]
    return cores + [(t, lang, None) for lang, t in SAFE_KB]


def more_split(core: str) -> str:
    """A later core's split: by a hash of its text (test when the first 8 hex digits of its sha256 mod
    100 < 30), so adding cores never moves one already written from one split to the other."""
    return "test" if int(hashlib.sha256(core.encode("utf-8")).hexdigest()[:8], 16) % 100 < TEST_SHARE * 100 else "dev"


def more_rows(start: int) -> list[dict[str, object]]:
    """The tickets of the later cores: wrapped as `build` wraps the first ones, with their own random
    stream (the first ones' tickets stay byte for byte what they were), groups M000..."""
    rng = random.Random(SEED + 1)
    rows: list[dict[str, object]] = []
    for i, (core, lang, kind) in enumerate(more_cores()):
        split = more_split(core)
        for text, language in variants(core, lang, rng, typo_variant=rng.random() < 0.35):
            rows.append(
                {
                    "id": f"RK{start + len(rows) + 1:04d}",
                    "text": text,
                    "language": language,
                    "risk": kind is not None,
                    "kind": kind,
                    "split": split,
                    "group": f"M{i:03d}",
                    "source": "written",
                }
            )
    return rows


def history_split(ticket_id: str) -> str:
    return "test" if int(hashlib.sha256(ticket_id.encode()).hexdigest()[:8], 16) % 100 < TEST_SHARE * 100 else "dev"


def history_rows(path: Path = HISTORY) -> list[dict[str, object]]:
    """Every past ticket with its hand label (history_labels.py)."""
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        t = json.loads(line)
        kind = HISTORY_RISKY.get(t["id"])
        seen.add(t["id"])
        rows.append(
            {
                "id": t["id"],
                "text": f"{t['subject']}\n\n{t['body']}",
                "language": t["language"],
                "risk": kind is not None,
                "kind": kind,
                "split": history_split(t["id"]),
                "group": t["id"],
                "source": "history",
            }
        )
    missing = sorted(set(HISTORY_RISKY) - seen)
    if missing:
        raise ValueError(f"history_labels.py names tickets that are not in {path}: {missing}")
    return rows


# a gold risk flag as the kind that raises it (KIND_FLAGS), and the demo tickets read by hand as
# another kind of the same flag: an API token exposed or used by someone else, a GDPR request
FLAG_KIND = {
    "security": "account_takeover",
    "financial": "payment_fraud",
    "regulatory": "regulatory",
    "legal": "legal_threat",
    "abuse": "abuse",
    "escalation": "executive_escalation",
}
DEMO_KINDS = {
    **dict.fromkeys(("S054", "F033", "G063", "H046"), "leaked_credentials"),
    **dict.fromkeys(("S009", "F042", "G076", "H016"), "data_breach"),
}


def demo_rows(paths: Sequence[Path] = DEMO_SETS) -> list[dict[str, object]]:
    """Every ticket of the demo dev eval sets (`source: demo`, its own group, split like a history
    ticket by a hash of its id): risky when its gold names a risk flag the model raises (the first
    one's kind, `FLAG_KIND`, or the one `DEMO_KINDS` names; `prompt_injection` is the rules'
    business), ordinary otherwise."""
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            t = json.loads(line)
            flags = list((t.get("gold") or {}).get("risk") or [])
            kinds = [FLAG_KIND[f] for f in flags if f in FLAG_KIND]
            if t["id"] in DEMO_KINDS:
                if not set(KIND_FLAGS[DEMO_KINDS[t["id"]]]) & set(flags):
                    raise ValueError(f"{path}: {t['id']} is read as {DEMO_KINDS[t['id']]}, its gold flags are {flags}")
                kinds = [DEMO_KINDS[t["id"]]]
            seen.add(t["id"])
            rows.append(
                {
                    "id": t["id"],
                    "text": f"{t['subject']}\n\n{t['body']}",
                    "language": t["language"],
                    "risk": bool(kinds),
                    "kind": kinds[0] if kinds else None,
                    "split": history_split(t["id"]),
                    "group": t["id"],
                    "source": "demo",
                }
            )
    missing = sorted(set(DEMO_KINDS) - seen)
    if missing and paths == DEMO_SETS:
        raise ValueError(f"DEMO_KINDS names tickets that are not in the demo sets: {missing}")
    return rows


def core_texts() -> dict[str, tuple[str, str | None]]:
    """group -> (core text, kind): the same numbering as `build`."""
    cores: list[tuple[str, str | None]] = [(t, kind) for kind, _, t in RISKY]
    cores += [(t, None) for _, t in SAFE]
    out = {f"C{i:03d}": c for i, c in enumerate(cores)}
    out.update({f"M{i:03d}": (t, kind) for i, (t, _, kind) in enumerate(more_cores())})
    return out


def wrapper_sentences() -> list[str]:
    """Every greeting, context sentence, ordinary question, signature and subject (all neutral)."""
    pools = (SUBJECTS, GREETINGS, CONTEXT, QUESTIONS, SIGNATURES)
    return sorted({s for pool in pools for lang in pool.values() for s in lang if s})


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    risky = sum(bool(r["risk"]) for r in rows)
    print(f"{len(rows)} examples ({risky} risky) -> {OUT}")


if __name__ == "__main__":
    main()
