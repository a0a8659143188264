from agent.graph.textutil import detect_language, lexicon_sentiment, redact


def test_masks_email_phone_iban_and_card() -> None:
    text = (
        "Write to olena.k@acme.example or call +380 67 123 4567. "
        "IBAN UA213223130000026007233566001, card 4111 1111 1111 1111."
    )
    masked, counts = redact(text)
    assert "olena.k@acme.example" not in masked
    assert "123 4567" not in masked
    assert "UA213223130000026007233566001" not in masked
    assert "4111 1111 1111 1111" not in masked
    assert counts == {"email": 1, "phone": 1, "iban": 1, "card": 1}
    assert "[EMAIL]" in masked and "[IBAN]" in masked and "[CARD]" in masked and "[PHONE]" in masked


def test_leaves_non_pii_numbers_alone() -> None:
    text = "Payroll run 2025-10 for 143 employees failed with error PF-4012 on version 4.12.1"
    masked, counts = redact(text)
    assert masked == text
    assert counts == {}


def test_invalid_iban_and_card_checksums_are_not_masked_as_such() -> None:
    masked, counts = redact("IBAN UA213223130000026007233566002 and 4111 1111 1111 1112")
    assert "iban" not in counts and "card" not in counts
    assert "UA213223130000026007233566002" in masked


def test_language_detection() -> None:
    assert detect_language("Не можу завантажити розрахунковий лист, підкажіть будь ласка")[0] == "uk"
    assert detect_language("Payslip is missing for March")[0] == "en"
    assert detect_language("Не могу войти в систему, выдаёт ошибку")[0] == "ru"
    assert detect_language("12345 !!!")[0] == "other"


def test_cyrillic_without_marker_letters_is_told_apart_by_its_common_words() -> None:
    # neither text has і/ї/є/ґ or ы/э/ъ/ё: the letters alone would call both Ukrainian (the default)
    assert detect_language("Как удалить видео с канала, что делать?")[0] == "ru"
    assert detect_language("Как удалить видео с канала?")[0] == "ru"
    assert detect_language("Що робити, коли зарплата не пришла на карту?")[0] == "uk"
    assert detect_language("Привет, помогите")[0] == "uk"  # no evidence either way: our customers' language
    # marker letters still outweigh a word or two of the other language in a longer text
    assert detect_language("Добрий день, що з розрахунком? Він завис, и ми не знаємо, чи чекати")[0] == "uk"


def test_sentiment_lexicon() -> None:
    assert lexicon_sentiment("This is unacceptable, third time this month!!")[0] == "negative"
    assert lexicon_sentiment("How do I export a report?")[0] == "neutral"
