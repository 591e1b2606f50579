"""Amounts, numbers, dates and digits said by joining clips from a finite inventory."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from voice_prompts.clips import (
    clip_inventory,
    clips_for_amount,
    clips_for_date,
    clips_for_digits,
    clips_for_number,
    clips_text,
)
from voice_prompts.exceptions import UnknownPromptError
from voice_prompts.spoken import MAX_NUMBER, amount_words, date_words, digits_words, number_words

LANGS = ["hi", "en"]


@pytest.mark.parametrize("lang", LANGS)
def test_amount_clips_say_the_spoken_words(lang: str) -> None:
    # The table cases of test_voice_spoken are checked there; this sweeps many more.
    rng = random.Random(42)
    amounts = [
        *(Decimal(paise) / 100 for paise in range(0, 30000, 7)),
        *(Decimal(rng.randrange(10**12)) / 100 for _ in range(1000)),
    ]
    for amount in amounts:
        assert clips_text(clips_for_amount(amount, lang), lang) == amount_words(amount, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_number_clips_say_the_spoken_words(lang: str) -> None:
    rng = random.Random(99)
    numbers = [
        *range(0, 1100),
        *(10**k for k in range(10)),
        *(rng.randrange(MAX_NUMBER + 1) for _ in range(400)),
        MAX_NUMBER,
    ]
    for n in numbers:
        assert clips_text(clips_for_number(n, lang), lang) == number_words(n, lang), n


@pytest.mark.parametrize("lang", LANGS)
def test_date_clips_say_the_spoken_words(lang: str) -> None:
    day = dt.date(2025, 1, 1)
    while day.year < 2027:
        assert clips_text(clips_for_date(day, lang), lang) == date_words(day, lang), day
        day += dt.timedelta(days=1)
    assert clips_text(clips_for_date(dt.date(1999, 9, 9), lang), lang) == date_words(
        dt.date(1999, 9, 9), lang
    )


@pytest.mark.parametrize("lang", LANGS)
def test_digit_clips_say_the_spoken_words(lang: str) -> None:
    for digits in ["4321", "0", "9876543210", "007"]:
        assert clips_text(clips_for_digits(digits, lang), lang) == digits_words(digits, lang)
    with pytest.raises(ValueError):
        clips_for_digits("43a1", lang)


def test_examples_use_the_expected_clips() -> None:
    assert clips_for_amount(Decimal("120304.50"), "hi") == [
        "num/1", "word/lakh", "num/20", "word/thousand", "num/3", "word/hundred", "num/4",
        "word/rupees", "num/50", "word/paise",
    ]  # fmt: skip
    assert clips_for_amount(Decimal("101"), "en") == [
        "num/1", "word/hundred", "word/and", "num/1", "word/rupees",
    ]  # fmt: skip
    assert clips_for_date(dt.date(2026, 12, 15), "en") == [
        "day/15", "month/12", "num/2", "word/thousand", "num/26",
    ]  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_inventory_is_finite_and_covers_every_clip_used(lang: str) -> None:
    inventory = clip_inventory(lang)
    # 100 numbers, the unit words, 12 months (+ "and" and 31 day ordinals in English).
    assert len(inventory) == (100 + 8 + 12 if lang == "hi" else 100 + 9 + 12 + 31)
    assert all(text.strip() for text in inventory.values())
    rng = random.Random(5)
    used: set[str] = set()
    for _ in range(2000):
        used.update(clips_for_amount(Decimal(rng.randrange(10**12)) / 100, lang))
    used.update(clips_for_date(dt.date(2026, 1, 31), lang))
    assert used <= set(inventory)


def test_inventory_is_a_copy() -> None:
    clip_inventory("hi")["num/1"] = "changed"
    assert clip_inventory("hi")["num/1"] == "एक"


def test_unknown_clip_is_a_clear_error() -> None:
    with pytest.raises(UnknownPromptError, match="word/and"):
        clips_text(["num/1", "word/and"], "hi")  # Hindi has no "and" clip
