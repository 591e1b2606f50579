"""Spoken forms of amounts, numbers, dates and digits in Hindi and English."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from decimal import Decimal

import pytest
from indic_numtowords import num2words as indic_num2words
from num2words import num2words

from voice_prompts.clips import clips_for_amount, clips_text
from voice_prompts.exceptions import SpokenFormError, UnsupportedLanguageError
from voice_prompts.spoken import (
    HINDI_SPELLING_FIXES,
    MAX_NUMBER,
    _library_number_words,
    amount_text,
    amount_words,
    date_words,
    digits_words,
    number_words,
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# amount, Hindi, English
AMOUNTS = [
    ("0", "शून्य रुपये", "zero rupees"),
    ("1", "एक रुपया", "one rupee"),
    ("99", "निन्यानवे रुपये", "ninety-nine rupees"),
    ("100", "एक सौ रुपये", "one hundred rupees"),
    ("101", "एक सौ एक रुपये", "one hundred and one rupees"),
    ("1000", "एक हज़ार रुपये", "one thousand rupees"),
    ("100000", "एक लाख रुपये", "one lakh rupees"),
    ("100005", "एक लाख पाँच रुपये", "one lakh and five rupees"),
    (
        "120304.50",
        "एक लाख बीस हज़ार तीन सौ चार रुपये पचास पैसे",
        "one lakh twenty thousand three hundred and four rupees and fifty paise",
    ),
    (
        "1234567.89",
        "बारह लाख चौंतीस हज़ार पाँच सौ सड़सठ रुपये नवासी पैसे",
        "twelve lakh thirty-four thousand five hundred and sixty-seven rupees "
        "and eighty-nine paise",
    ),
    ("10000000", "एक करोड़ रुपये", "one crore rupees"),
    (
        "1234567890",
        "एक सौ तेईस करोड़ पैंतालीस लाख सड़सठ हज़ार आठ सौ नब्बे रुपये",
        "one hundred and twenty-three crore forty-five lakh sixty-seven thousand "
        "eight hundred and ninety rupees",
    ),
    ("0.50", "पचास पैसे", "fifty paise"),
    ("0.01", "एक पैसा", "one paisa"),
    ("1.01", "एक रुपया एक पैसा", "one rupee and one paisa"),
    ("2.00", "दो रुपये", "two rupees"),
]

# Numbers whose Hindi spelling indic-numtowords gets wrong or that have variants.
NUMBERS = [
    (6, "छह", "six"),
    (18, "अठारह", "eighteen"),
    (44, "चौवालीस", "forty-four"),
    (66, "छियासठ", "sixty-six"),
    (67, "सड़सठ", "sixty-seven"),
    (91, "इक्यानवे", "ninety-one"),
    (99, "निन्यानवे", "ninety-nine"),
    (2026, "दो हज़ार छब्बीस", "two thousand and twenty-six"),
    (10100, "दस हज़ार एक सौ", "ten thousand one hundred"),
    (10**9, "एक सौ करोड़", "one hundred crore"),
    (
        2_05_00_00_307,
        "दो सौ पाँच करोड़ तीन सौ सात",
        "two hundred and five crore three hundred and seven",
    ),
]


@pytest.mark.parametrize(("amount", "hindi", "english"), AMOUNTS)
def test_amount_words(amount: str, hindi: str, english: str) -> None:
    assert amount_words(Decimal(amount), "hi") == nfc(hindi)
    assert amount_words(Decimal(amount), "en") == english


@pytest.mark.parametrize(("amount", "hindi", "english"), AMOUNTS)
def test_amount_clips_say_the_table_words(amount: str, hindi: str, english: str) -> None:
    for lang, words in (("hi", nfc(hindi)), ("en", english)):
        assert clips_text(clips_for_amount(Decimal(amount), lang), lang) == words


@pytest.mark.parametrize(("number", "hindi", "english"), NUMBERS)
def test_number_words(number: int, hindi: str, english: str) -> None:
    assert number_words(number, "hi") == nfc(hindi)
    assert number_words(number, "en") == english


def test_amount_accepts_int_and_numeric_string() -> None:
    assert amount_words(120304, "en") == amount_words(Decimal("120304.00"), "en")
    assert amount_words(" 0.5 ", "hi") == nfc("पचास पैसे")


@pytest.mark.parametrize(
    "bad",
    [Decimal("-1"), "-0.50", -5, "abc", "", "12,345", Decimal("NaN"), "Infinity", 12.5, None, True],
)
@pytest.mark.parametrize("lang", ["hi", "en"])
def test_amount_rejects_what_is_not_money(bad: object, lang: str) -> None:
    with pytest.raises(ValueError):
        amount_words(bad, lang)  # type: ignore[arg-type]


def test_amount_rejects_fractions_of_a_paisa_and_huge_amounts() -> None:
    with pytest.raises(SpokenFormError, match="fraction of a paisa"):
        amount_words(Decimal("10.005"), "en")
    with pytest.raises(SpokenFormError, match="too large"):
        amount_words(Decimal(MAX_NUMBER + 1), "hi")
    assert amount_words(Decimal("10.500"), "en") == "ten rupees and fifty paise"


@pytest.mark.parametrize("bad", [-1, MAX_NUMBER + 1, 1.5, "12", None, False])
def test_number_words_rejects_bad_input(bad: object) -> None:
    with pytest.raises(ValueError):
        number_words(bad, "hi")  # type: ignore[arg-type]


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(UnsupportedLanguageError, match="'ta'"):
        amount_words(Decimal(1), "ta")


def test_date_words() -> None:
    date = dt.date(2026, 12, 15)
    assert date_words(date, "hi") == nfc("पंद्रह दिसंबर दो हज़ार छब्बीस")
    assert date_words(date, "en") == "fifteenth December two thousand twenty-six"
    assert date_words(dt.date(2025, 2, 1), "hi") == nfc("एक फ़रवरी दो हज़ार पच्चीस")
    assert date_words(dt.date(2031, 3, 31), "en") == "thirty-first March two thousand thirty-one"
    assert date_words(dt.datetime(2026, 1, 2, 9, 30), "en") == (
        "second January two thousand twenty-six"
    )
    with pytest.raises(ValueError):
        date_words("2026-12-15", "hi")  # type: ignore[arg-type]


def test_digits_words() -> None:
    assert digits_words("4321", "hi") == "चार तीन दो एक"
    assert digits_words("4301", "en") == "four three zero one"
    assert digits_words("0", "hi") == "शून्य"
    for bad in ["", "12a4", "४३२१", "12 34", 1234]:
        with pytest.raises(ValueError):
            digits_words(bad, "en")  # type: ignore[arg-type]


def test_amount_text_uses_indian_grouping() -> None:
    assert amount_text(Decimal("120304.5"), "en") == "₹1,20,304.50"
    assert amount_text(Decimal("12345678.9"), "hi") == "₹1,23,45,678.90"
    assert amount_text("0.50", "en") == "₹0.50"
    with pytest.raises(ValueError):
        amount_text("-3", "en")


def test_all_words_are_nfc() -> None:
    for n in [*range(100), 1000, 100000, 10**7, 1234567890]:
        words = number_words(n, "hi")
        assert words == nfc(words)
    assert date_words(dt.date(2026, 2, 1), "hi") == nfc(date_words(dt.date(2026, 2, 1), "hi"))


def test_hindi_agrees_with_indic_numtowords_after_the_spelling_fixes() -> None:
    # Our Hindi is the library's plus HINDI_SPELLING_FIXES; check that holds over a
    # spread of numbers the library handles itself (up to 99 crore).
    rng = random.Random(20261215)
    numbers = [*range(0, 2100), *(rng.randrange(10**9) for _ in range(500))]
    for n in numbers:
        library = nfc(indic_num2words(str(n), lang="hi")).split()
        expected = " ".join(HINDI_SPELLING_FIXES.get(word, word) for word in library)
        assert number_words(n, "hi") == expected, n


def test_english_agrees_with_num2words() -> None:
    rng = random.Random(20261215)
    for n in [*range(0, 2100), *(rng.randrange(MAX_NUMBER + 1) for _ in range(500))]:
        assert number_words(n, "en") == num2words(n, lang="en_IN").replace(",", ""), n


# CLDR spells these differently; each is a documented choice, not an error of ours.
CLDR_HINDI_VARIANTS = {
    "पन्द्रह": "पंद्रह",  # anusvara, the standard modern spelling
    "उनासी": "उन्यासी",  # 79, as in indic-numtowords and NCERT
    "अट्ठासी": "अठासी",  # 88
    "इक्यानबे": "इक्यानवे",  # 91-99: we use the -नवे series
    "बानबे": "बानवे",
    "तिरानबे": "तिरानवे",
    "चौरानबे": "चौरानवे",
    "पंचानबे": "पचानवे",
    "छियानबे": "छियानवे",
    "सत्तानबे": "सत्तानवे",
    "अट्ठानबे": "अट्ठानवे",
    "निन्यानबे": "निन्यानवे",
}


def test_cross_check_against_icu_cldr_spellout() -> None:
    icu = pytest.importorskip("icu")
    hindi = icu.RuleBasedNumberFormat(icu.URBNFRuleSetTag.SPELLOUT, icu.Locale("hi_IN"))
    english = icu.RuleBasedNumberFormat(icu.URBNFRuleSetTag.SPELLOUT, icu.Locale("en_IN"))
    rng = random.Random(7)
    # Up to 99 crore: from 100 crore CLDR says अरब ("चार अरब …") where we say
    # "चार सौ … करोड़", which more callers understand; no bill comes near it.
    for n in [*range(0, 1200), *(rng.randrange(10**9) for _ in range(300))]:
        cldr_hindi = nfc(hindi.format(n, "%spellout-cardinal")).split()
        expected = " ".join(CLDR_HINDI_VARIANTS.get(word, word) for word in cldr_hindi)
        assert number_words(n, "hi") == expected, n
        # CLDR's plain English has no British "and". (Its "verbose" rules, which do,
        # fall back to Western grouping after a crore: 2,05,30,419 is "two crore, five
        # hundred and thirty thousand, …" in ICU 77, so they are no reference.)
        without_and = " ".join(word for word in number_words(n, "en").split() if word != "and")
        assert without_and == english.format(n, "%spellout-cardinal"), n


def _sample_numbers() -> list[int]:
    # Every group boundary, then a spread of numbers up to 100 crore: indic-numtowords
    # reads larger ones digit by digit (the table above has some, put together by crores).
    edges = {0, 1, 99, 100, 101, 999, 1000, 1001, 1099, 1100, 99_999, 100_000, 100_001}
    edges |= {10**7 - 1, 10**7, 10**7 + 5, 10**9 - 1}
    spread = random.Random(7).sample(range(1000, 10**9), 1500)
    return sorted(edges | set(spread) | set(range(1000, 1200)))


@pytest.mark.parametrize("lang", ["hi", "en"])
def test_numbers_put_together_by_group_are_the_libraries_own_words(lang: str) -> None:
    # number_words spells the groups of a large number with the libraries and joins them;
    # the whole number spelled by num2words or indic-numtowords must read the same.
    mismatches = [
        (n, number_words(n, lang), _library_number_words(n, lang))
        for n in _sample_numbers()
        if number_words(n, lang) != _library_number_words(n, lang)
    ]
    assert mismatches == []
