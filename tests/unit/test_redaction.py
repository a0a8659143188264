"""Masking of secrets and identifiers (agent.graph.redaction) before any model sees a ticket.

Per kind, English and Ukrainian: the value is gone, its kind's placeholder is there, the count says
so; ordinary ticket content (ids, amounts, dates, error codes, versions, docs URLs) is left as it is;
and, through the whole graph, no secret reaches a prompt, a search or the stored audit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agent.domain import Customer, Ticket
from agent.graph.llm import to_dicts
from agent.graph.nodes.redact import redact as redact_node
from agent.graph.policy import Policy
from agent.graph.redaction import KINDS, PLACEHOLDER, placeholder, redact
from agent.graph.redaction.checks import dni_ok, edrpou_ok, iban_ok, luhn_ok, rnokpp_ok
from agent.graph.result import ticket_result
from agent.graph.testing import ScriptedChatModel
from agent.settings import Settings
from knowledge.testing import InMemoryRetriever
from tests.unit.conftest import offline_agent

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
PEM = (
    f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n"
    "MIIEpAIBAAKCAQEA7Qx8mYq2zWabcdEFGH12345678+/==\n-----END PRIVATE KEY-----"
)

# (text, kind, the value that must be gone)
POSITIVES: list[tuple[str, str, str]] = [
    # passwords, English
    ("Hi, my password is Hunter2!x and it still fails", "password", "Hunter2!x"),
    ("The temporary password is Welcome1, please check", "password", "Welcome1"),
    ("Temporary password: kX9!pq7 was sent by your team", "password", "kX9!pq7"),
    ("temporary password Tmp#2024x did not work", "password", "Tmp#2024x"),
    ("config has pwd=S3cr3t!42 in it", "password", "S3cr3t!42"),
    ("login ivan.petrenko password kyivkyiv, please check", "password", "kyivkyiv"),
    ("Set password to Summer2025! for all new users", "password", "Summer2025!"),
    ('Password="p@ss w0rd" in the import file', "password", "p@ss w0rd"),
    ("the password for the admin account is Tr0ub4dor&3", "password", "Tr0ub4dor&3"),
    ("db is postgres://admin:S3cretPass@db.acme.example:5432/payroll", "password", "S3cretPass"),
    ("My PIN is 4321 for the payslip file", "password", "4321"),
    # passwords, Ukrainian
    ("Мій пароль: Kyiv2024! але не пускає", "password", "Kyiv2024!"),
    ("тимчасовий пароль Abc12345 не підходить", "password", "Abc12345"),
    ("пароль від кабінету - Zxcvb123, логін olena", "password", "Zxcvb123"),
    ("пароль: сонечко", "password", "сонечко"),
    ("логін ivan, пароль kyivkyiv", "password", "kyivkyiv"),
    ("ПІН-код: 0917 до розрахункового листа", "password", "0917"),
    ("Мої дані для входу:\nпароль\nKyiv2024!", "password", "Kyiv2024!"),
    # API keys
    ("our key sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c stopped", "api_key", "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"),
    ("stripe sk_test_4eC39HqLyjWDarjtT1zdp7dc fails", "api_key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("publishable pk_live_51H8xYzAbCdEfGh in the form", "api_key", "pk_live_51H8xYzAbCdEfGh"),
    ("restricted key rk_live_abcdEFGH1234 for reports", "api_key", "rk_live_abcdEFGH1234"),
    ("openai sk-proj-abcDEF1234567890ghijKLMNOP", "api_key", "sk-proj-abcDEF1234567890ghijKLMNOP"),
    ("AWS access key AKIAIOSFODNN7EXAMPLE for the export", "api_key", "AKIAIOSFODNN7EXAMPLE"),
    ("temporary ASIAXYZ1234567890ABC session", "api_key", "ASIAXYZ1234567890ABC"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "api_key",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "AKIAIOSFODNN7EXAMPLE / secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY8.",
        "token",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY8",
    ),
    ("maps key AIzaSyA-1234567890abcdefghijklmnopqrstu", "api_key", "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    ("api key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "api_key", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("our api key is 7Hq2LmX9pR4tV8wZ1yB6", "api_key", "7Hq2LmX9pR4tV8wZ1yB6"),
    ("ключ API: a1b2c3d4e5f6g7h8 не працює", "api_key", "a1b2c3d4e5f6g7h8"),
    # tokens
    ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a leaked", "token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    ("oauth gho_16C7e42F292c6912E7710c838347Ae178B4a", "token", "gho_16C7e42F292c6912E7710c838347Ae178B4a"),
    (
        "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "token",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    ),
    (
        "slack bot xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "token",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    ("callback?token=abc123def456ghi789", "token", "abc123def456ghi789"),
    ("Authorization: Bearer abcDEF123456ghiJKL789", "token", "abcDEF123456ghiJKL789"),
    ("токен: 5f4dcc3b5aa765d61d8327deb882cf99", "token", "5f4dcc3b5aa765d61d8327deb882cf99"),
    ("вставив токен Zx81Lq9vTt72Pp0aBc44Kk3mN0 у налаштування", "token", "Zx81Lq9vTt72Pp0aBc44Kk3mN0"),
    ("link https://x.example/a?sig=Zx81Lq9vTt72Pp0aBc44Kk3mN0&b=1", "token", "Zx81Lq9vTt72Pp0aBc44Kk3mN0"),
    # JWT, private keys
    (f"the SSO response had {JWT} in it", "jwt", JWT),
    (f'curl -H "Authorization: Bearer {JWT}"', "jwt", JWT),
    (f"here is our key:\n{PEM}\nthanks", "private_key", PEM_BODY),
    # passports and ID cards (UA and EU)
    ("паспорт КВ 123456 видано 2001 року", "passport", "КВ 123456"),
    ("паспорт серії КВ №123456", "passport", "КВ №123456"),
    ("Серія та номер паспорта: КВ123456", "passport", "КВ123456"),
    ("закордонний паспорт FX123456", "passport", "FX123456"),
    ("passport number C01X00T47 (German)", "passport", "C01X00T47"),
    ("Passport No. 123456789 (USA)", "passport", "123456789"),
    ("Reisepass C01X00T47", "passport", "C01X00T47"),
    ("Numéro de passeport 12AB34567", "passport", "12AB34567"),
    ("ID-картка 001234567, прошу оновити", "id_card", "001234567"),
    ("номер ID-картки: 123456789", "id_card", "123456789"),
    ("ID card number 987654321 is on file", "id_card", "987654321"),
    ("УНЗР 19850312-01234", "id_card", "19850312-01234"),
    ("Mein Personalausweis: T22000129", "id_card", "T22000129"),
    ("DNI 12345678Z", "id_card", "12345678Z"),
    ("PESEL 44051401359", "id_card", "44051401359"),
    # dates of birth, many formats
    ("date of birth 12.03.1985", "dob", "12.03.1985"),
    ("DOB: 1985-03-12", "dob", "1985-03-12"),
    ("DOB 12/03/85", "dob", "12/03/85"),
    ("born on March 12, 1985 in Lviv", "dob", "March 12, 1985"),
    ("Date of Birth: 3rd of March 1985", "dob", "3rd of March 1985"),
    ("my birthday is 12 March 1985", "dob", "12 March 1985"),
    ("дата народження: 12 березня 1985 року", "dob", "12 березня 1985"),
    ("народилася 03/12/1985", "dob", "03/12/1985"),
    ("Іваненко Петро, 12.03.1985 р.н.", "dob", "12.03.1985"),
    ("Дата народження вказана неправильно: 1990-01-05 замість 1990-05-01", "dob", "1990-05-01"),
    # Ukrainian tax and company codes
    ("РНОКПП 3184710691", "rnokpp", "3184710691"),
    ("ІПН: 2845612346, прошу виправити", "rnokpp", "2845612346"),
    ("мій податковий номер 3305123454", "rnokpp", "3305123454"),
    ("Tax number 2598712342 please update", "rnokpp", "2598712342"),
    ("мій код 3184710691, дякую", "rnokpp", "3184710691"),  # no cue: its check digit and birth date
    ("ЄДРПОУ 32855961", "edrpou", "32855961"),
    ("код ЄДРПОУ: 14360570", "edrpou", "14360570"),
    ("company code 21134561 on the invoice", "edrpou", "21134561"),
    # IBAN in any case and spacing
    ("IBAN UA213223130000026007233566001", "iban", "UA213223130000026007233566001"),
    ("iban ua21 3223 1300 0002 6007 2335 6600 1", "iban", "ua21 3223 1300 0002 6007 2335 6600 1"),
    ("рахунок de89370400440532013000", "iban", "de89370400440532013000"),
    ("GB82 WEST 1234 5698 7654 32", "iban", "GB82 WEST 1234 5698 7654 32"),
    # the kinds masked before
    ("card 4111-1111-1111-1111 was charged", "card", "4111-1111-1111-1111"),
    ("CVV 123 on the back", "card", "CVV 123"[-3:]),
    ("write to olena.k@acme.example", "email", "olena.k@acme.example"),
    ("call me on +380 67 123 4567", "phone", "123 4567"),
    ("Телефонуйте: 050 555 01 77, Ірина", "phone", "050 555 01 77"),
    ("my UK number (07700 900412) gets no codes", "phone", "07700 900412"),
]


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES, ids=[f"{k}:{t[:30]}" for t, k, _ in POSITIVES])
def test_masks_each_kind(text: str, kind: str, value: str) -> None:
    masked, counts = redact(text)
    assert value not in masked, masked
    assert placeholder(kind) in masked, masked
    assert counts.get(kind, 0) >= 1, counts
    assert sum(counts.values()) == len(PLACEHOLDER.findall(masked)), (counts, masked)


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES, ids=[f"{k}:{t[:30]}" for t, k, _ in POSITIVES])
def test_masking_twice_changes_nothing(text: str, kind: str, value: str) -> None:
    masked, _ = redact(text)
    assert redact(masked) == (masked, {})


NEGATIVES = [
    # what customers say about passwords, keys and tokens
    "I forgot my password and the reset link expired",
    "Password reset is not working since Monday",
    "my password is expired again",
    "my password is mandatory to change every 90 days?",
    "Password must be at least 8 characters",
    "Click **Send password reset**. To unlock the account",
    "The token is invalid",
    "token expired again, API key rotated yesterday",
    "Our API key stopped working after rotation",
    "Docs say api_key=YOUR_API_KEY in the header",
    "the session id abc is wrong",
    "Our office pass - Fail",
    "pin the dashboard to the 2025 layout",
    "вхід за паролем був вимкнений, що робити?",
    "Користувач не може увійти - після введення пароля крутиться коло",
    "Я ввожу пароль і нічого не відбувається",
    "**Пароль до файлу** й оберіть формат: останні 4 цифри РНОКПП",
    "Пароль до файлу - останні 4 цифри РНОКПП",
    "Зміна пароля\n\nОфіс-менеджер випадково виклала скриншот у чат",  # the subject's cue, the body's word
    # ids, amounts, versions, error codes
    "Ticket PAY-1234 is still open, ERR_403 when I open the page",
    "Error code ERR-5021 and E403 in the log",
    "Order 1234567890 was charged twice",
    "order #45678901 and contract 12345678",
    "номер замовлення 3184710691 не знайдено",
    "табельний номер 3184710691",
    "Employee ID 123456789 missing payslip",
    "Employee 1043 joined on 01.02.2020",
    "Amount 12 500,00 грн, total $45,000.00 and 1 234 567 UAH",
    "Version 4.12.1 and release 2025.10.3 (15 October 2025)",
    "Introduced in v2.3.4567 on 2024-05-06",
    "Помилка PF-4012 у версії 4.12.1",
    "Payroll run 2025-10 for 143 employees failed with error PF-4012 on version 4.12.1",
    "Період: березень 2025, 143 працівники, 8 годин",
    "IP 192.168.100.200 refused",
    "Request id 7b9f2c1e-8d4a-4e6b-9c3f-1a2b3c4d5e6f failed",
    "[2016-10-11 15:57:32.065] Cannot connect",
    "our VAT number (GB 123 4567 89) is missing from invoices",
    "new company number 09876543, new PAYE reference",
    # dates that are not birth dates
    "The payroll for 2025-03-12 failed; run PR-2025-10-001",
    "Invoice INV-2025-0042 dated 12.03.2025",
    "The payment date is 12.03.2025 and the birthday bonus is paid on 01.04.2025",
    "бонус до дня народження виплачується 01.04.2025",
    "Pay date 15 March 2025, employees born in the 80s",
    "My birthday party is on Friday",
    # documents that are not identity documents, docs URLs
    "passport photo upload fails",
    "Надішліть документ, номер замовлення 123456789",
    "See https://docs.payflow.example/kb/Reset-Password-2FA-v2-2024-Guide for details",
    "https://developer.payflow.example/v2/reference/Payroll-Runs/getRunStatus2025Q3",
    "https://app.payflow.example/login?ref=KB-001&utm=Email2025Oct",
    "https://sso.payflow.example/saml/acme-corp-2024/metadata",
    # checksums that fail
    "IBAN UA213223130000026007233566002 and 4111 1111 1111 1112",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_ordinary_ticket_content_alone(text: str) -> None:
    assert redact(text) == (text, {})


def test_tax_number_is_its_own_kind_not_a_phone() -> None:
    masked, counts = redact("РНОКПП 3184710691, тел. +380 67 123 4567")
    assert counts == {"rnokpp": 1, "phone": 1}
    assert masked == "РНОКПП [RNOKPP], тел. [PHONE]"
    assert redact("3184710691") == ("[RNOKPP]", {"rnokpp": 1})
    # the same shape failing its check digit, after no cue: a phone-like number, never a tax number
    assert redact("3184710692")[1] == {"phone": 1}


def test_iban_is_never_taken_for_a_card_or_a_phone() -> None:
    for text in (
        "UA21 3223 1300 0002 6007 2335 6600 1",
        "ua213223130000026007233566001",
        "DE89 3704 0044 0532 0130 00",
    ):
        assert redact(text) == ("[IBAN]", {"iban": 1}), text


def test_a_jwt_in_a_header_is_one_jwt_and_a_pem_block_one_key() -> None:
    assert redact(f"Authorization: Bearer {JWT}")[1] == {"jwt": 1}
    masked, counts = redact(f"key:\n{PEM}\nthanks")
    assert counts == {"private_key": 1}
    assert masked == "key:\n[PRIVATE_KEY]\nthanks"


def test_the_full_stop_and_an_address_after_a_cue_are_not_the_secret() -> None:
    masked, _ = redact(
        "aws / secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY8. Why does it fail? token=abc123def456ghi789."
    )
    assert masked == "aws / secret [TOKEN]. Why does it fail? token=[TOKEN]."
    # an address after "пароль на" is an e-mail (the checks compare e-mails), not a password
    assert redact("надіслати логін і пароль на perevirka@payflow-pidtrymka.example.com")[1] == {"email": 1}


def test_counts_every_value_and_only_kinds_that_occur() -> None:
    masked, counts = redact("password: Abc12345, later password: Xyz98765; write to a@b.example or c@d.example")
    assert counts == {"password": 2, "email": 2}
    assert set(counts) <= set(KINDS)
    assert "Abc12345" not in masked and "Xyz98765" not in masked


def test_a_value_after_its_cue_is_masked_only_in_the_same_sentence() -> None:
    # the ID card cue ends with its sentence: the next sentence's 9-digit number is someone's order
    text = "Please update the ID card scan. Refund 123456789 cents."
    assert redact(text) == (text, {})


def test_check_digits() -> None:
    assert rnokpp_ok("3184710691") and not rnokpp_ok("3184710692") and not rnokpp_ok("318471069")
    assert edrpou_ok("32855961") and edrpou_ok("14360570") and not edrpou_ok("32855962")
    assert iban_ok("ua213223130000026007233566001") and not iban_ok("UA213223130000026007233566002")
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")
    assert dni_ok("12345678Z") and not dni_ok("12345678A")


def test_node_records_kinds_and_counts_never_values() -> None:
    ticket = Ticket(
        id="t-r", external_id="R-1", subject="Login", body="my password is Hunter2!x, DOB 12.03.1985, РНОКПП 3184710691"
    )
    out = redact_node({"ticket": ticket})
    assert out.get("redactions") == {"password": 1, "dob": 1, "rnokpp": 1}
    text = out.get("text", "")
    assert "Hunter2!x" not in text and "3184710691" not in text and "[PASSWORD]" in text
    [event] = out.get("audit", [])
    assert event.detail == {"kinds": ["dob", "password", "rnokpp"], "counts": {"password": 1, "dob": 1, "rnokpp": 1}}
    dumped = json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
    assert "Hunter2!x" not in dumped and "12.03.1985" not in dumped and "3184710691" not in dumped


def test_the_survey_command_counts_kinds_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent.graph.redaction.__main__ import main

    rows = [
        {"id": "a", "subject": "Login", "body": "my password is Hunter2!x"},
        {"id": "b", "subject": "Hi", "body": "ok"},
    ]
    data = tmp_path / "t.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert main([str(data), "--show", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 texts, 1 changed, {'password': 1}" in out
    assert "<<Hunter2!x>>" in out  # --show prints the masked span in its context


# ---- the whole graph ---------------------------------------------------------------------------------


class EchoingChatModel(ScriptedChatModel):
    """Answers every node the way a reckless model would: classify (a JSON schema) with a confident
    account_access and no risk, a search rewrite with a query, a draft with the ticket echoed back
    word for word (so a secret the model saw would reach the reply and the stored result). Records
    every prompt (`calls`), as ScriptedChatModel does."""

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(to_dicts(messages))
        system = str(messages[0].content)
        user = str(messages[-1].content)
        if "response_format" in kwargs:
            reply = json.dumps(
                {
                    "category": "account_access",
                    "category_confidence": 0.99,
                    "priority": "normal",
                    "priority_confidence": 0.9,
                    "sentiment": "neutral",
                    "sentiment_confidence": 0.9,
                    "risk_flags": [],
                    "risk_confidence": 0.99,
                }
            )
        elif "search queries" in system:
            reply = "How do I reset my password? " + user
        else:
            reply = f"Hello! Open the login page and click Forgot password [KB-001]. You wrote: {user}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


SECRETS_EN = {
    "Hunter2!x": "password",
    "Tmp#2024x": "password",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc": "api_key",
    "AKIAIOSFODNN7EXAMPLE": "api_key",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": "api_key",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a": "token",
    JWT: "jwt",
    PEM_BODY: "private_key",
    "FX123456": "passport",
    "12.03.1985": "dob",
    "3184710691": "rnokpp",
    "32855961": "edrpou",
    "ua21 3223 1300 0002 6007 2335 6600 1": "iban",
    "4111 1111 1111 1111": "card",
    "olena.k@acme.example": "email",
    "+380 67 123 4567": "phone",
}
TICKET_EN = Ticket(
    id="t-secrets-en",
    external_id="Z-77",
    subject="Cannot log in to PayFlow",
    body=(
        "Hi, I can't log in. My password is Hunter2!x and the temporary password Tmp#2024x did not work "
        "either. Our integration uses sk_live_4eC39HqLyjWDarjtT1zdp7dc and AWS AKIAIOSFODNN7EXAMPLE with "
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, the deploy token "
        f"ghp_16C7e42F292c6912E7710c838347Ae178B4a and the header Authorization: Bearer {JWT}.\n"
        f"Our SSO key:\n{PEM}\n"
        "For the record: passport number FX123456, date of birth 12.03.1985, tax number 3184710691, "
        "company EDRPOU 32855961, salary IBAN ua21 3223 1300 0002 6007 2335 6600 1, card 4111 1111 1111 1111.\n"
        "Write to olena.k@acme.example or call +380 67 123 4567. How do I reset my password?"
    ),
    customer=Customer(name="Acme", tier="premium"),
)
SECRETS_UK = {
    "Kyiv2024!": "password",
    "5f4dcc3b5aa765d61d8327deb882cf99": "token",
    "КВ 123456": "passport",
    "001234567": "id_card",
    "12 березня 1985": "dob",
    "2845612346": "rnokpp",
    "14360570": "edrpou",
    "UA213223130000026007233566001": "iban",
    "o.hnatiuk@kvitka.example": "email",
    "050 555 01 77": "phone",
}
TICKET_UK = Ticket(
    id="t-secrets-uk",
    external_id="Z-78",
    subject="Не можу увійти в кабінет",
    body=(
        "Добрий день! Не можу увійти. Мій пароль: Kyiv2024! — система його не приймає. Інтеграція з "
        "токеном: 5f4dcc3b5aa765d61d8327deb882cf99 теж не працює. Мої дані: паспорт КВ 123456, ID-картка "
        "001234567, дата народження 12 березня 1985 року, РНОКПП 2845612346, ЄДРПОУ 14360570, рахунок "
        "UA213223130000026007233566001. Пишіть на o.hnatiuk@kvitka.example або телефонуйте: 050 555 01 77. "
        "Як змінити пароль?"
    ),
    customer=Customer(name="Квітка", tier="standard"),
)


def _run(settings: Settings, ticket: Ticket) -> tuple[dict[str, Any], EchoingChatModel, InMemoryRetriever]:
    llm = EchoingChatModel(replies=[])
    kb = InMemoryRetriever.demo()
    state: dict[str, Any] = dict(offline_agent(settings, kb, llm).run(ticket))
    return state, llm, kb


def _everything_sent_and_stored(state: dict[str, Any], llm: EchoingChatModel, kb: InMemoryRetriever) -> dict[str, str]:
    stored = ticket_result(state, "test").model_dump(mode="json")  # type: ignore[arg-type]
    return {
        "prompts": "\n".join(m["content"] for call in llm.calls for m in call),
        "searches": "\n".join(s.query for s in kb.searches),
        "audit": json.dumps([e.model_dump(mode="json") for e in state["audit"]], ensure_ascii=False),
        "result": json.dumps(stored, ensure_ascii=False),
        "handoff_note": str(state.get("handoff_note", "")),
    }


@pytest.mark.parametrize(("ticket", "secrets"), [(TICKET_EN, SECRETS_EN), (TICKET_UK, SECRETS_UK)], ids=["en", "uk"])
def test_no_secret_reaches_a_prompt_a_search_or_the_stored_audit(
    settings: Settings, ticket: Ticket, secrets: dict[str, str]
) -> None:
    for value in secrets:  # the ticket carries every one of them, or the test would test nothing
        assert value in ticket.body
    state, llm, kb = _run(settings, ticket)
    assert llm.calls, "the model was never asked: nothing was checked"
    assert kb.searches, "the knowledge base was never searched: nothing was checked"
    sent = _everything_sent_and_stored(state, llm, kb)
    for where, text in sent.items():
        for value, kind in secrets.items():
            assert value not in text, f"{kind} {value[:6]}... reached the {where}"
    # the model did get the ticket, with every kind in its place
    assert all(placeholder(kind) in sent["prompts"] for kind in set(secrets.values())), sent["prompts"]
    assert state["redactions"] == {kind: sum(k == kind for k in secrets.values()) for kind in set(secrets.values())}
    event = next(e for e in state["audit"] if e.node == "redact")
    assert set(event.detail) == {"kinds", "counts"} and event.detail["counts"] == state["redactions"]


def test_no_secret_reaches_the_draft_prompt_or_the_stored_reply(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through the draft path: risk detection (not under test here) off, so the ticket gets
    a draft; the model echoes its prompt's ticket into the reply, and the stored reply carries
    placeholders only."""

    def no_risk(self: Policy, text: str, masked: object = None) -> list[str]:
        return []

    def no_risk_model(self: Policy, text: str, embedder: object = None) -> None:
        return None

    monkeypatch.setattr(Policy, "detect_risk", no_risk)
    monkeypatch.setattr(Policy, "detect_risk_model", no_risk_model)
    state, llm, kb = _run(settings, TICKET_EN)
    assert state.get("draft") is not None and state["draft"].generated_by == "llm", state["decision"]
    assert "draft" in state["prompts"] and len(llm.calls) >= 2  # classify and draft were both asked
    assert "You wrote:" in state["draft"].text and "[PASSWORD]" in state["draft"].text  # the echo happened
    sent = _everything_sent_and_stored(state, llm, kb)
    for where, text in sent.items():
        for value, kind in SECRETS_EN.items():
            assert value not in text, f"{kind} {value[:6]}... reached the {where}"


def test_the_graph_check_fails_when_masking_is_off(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: with the redact node's masking switched off, the same run puts the
    ticket's secrets in the prompts, the searches and the stored result."""

    def unmasked(text: str) -> tuple[str, dict[str, int]]:
        return text, {}

    monkeypatch.setattr("agent.graph.nodes.redact.mask", unmasked)
    state, llm, kb = _run(settings, TICKET_EN)
    sent = _everything_sent_and_stored(state, llm, kb)
    assert "Hunter2!x" in sent["prompts"] and JWT in sent["prompts"]
    assert "sk_live_4eC39HqLyjWDarjtT1zdp7dc" in sent["searches"]
