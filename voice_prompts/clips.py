"""Speak numbers, amounts, dates and digits by joining a finite set of recorded clips.

Nothing is synthesised during a call: any amount up to 999 crore is said by playing,
in order, clips from a fixed inventory rendered once by ``flask prompts build``:

- ``num/0`` … ``num/99``: the numbers under a hundred (Hindi has a separate word for
  each of them, so they cannot be built from tens and units);
- ``word/hundred``, ``word/thousand``, ``word/lakh``, ``word/crore``, ``word/rupee``,
  ``word/rupees``, ``word/paisa``, ``word/paise`` and, in English only, ``word/and``;
- ``month/1`` … ``month/12``; in English also ``day/1`` … ``day/31`` (ordinals).

Years are numbers. The clip keys are the same in both languages; the text, and so the
recording, differs. Joined with spaces, the texts of the clips returned here equal the
words ``voice_prompts.spoken`` produces, which the tests check case by case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from functools import cache

from voice_prompts.exceptions import SpokenFormError, UnknownPromptError
from voice_prompts.languages import Language, check_language
from voice_prompts.spoken import (
    CRORE,
    LAKH,
    UNIT_WORDS,
    check_date,
    check_digits,
    check_number,
    day_ordinal_words,
    month_name,
    number_words,
    split_amount,
)

AND = "word/and"


def clip_inventory(lang: str) -> dict[str, str]:
    """Return every clip key in ``lang`` with the text its recording says."""
    return dict(_inventory(check_language(lang)))


@cache
def _inventory(lang: Language) -> tuple[tuple[str, str], ...]:
    # Cached as a tuple so callers cannot alter the shared copy.
    clips = {f"num/{n}": number_words(n, lang) for n in range(100)}
    clips.update({f"word/{name}": text for name, text in UNIT_WORDS[lang].items()})
    clips.update({f"month/{month}": month_name(month, lang) for month in range(1, 13)})
    if lang == "en":
        clips.update({f"day/{day}": day_ordinal_words(day) for day in range(1, 32)})
    return tuple(clips.items())


def clips_text(keys: Iterable[str], lang: str) -> str:
    """Return what the clips ``keys`` say when played one after another."""
    inventory = clip_inventory(lang)
    try:
        return " ".join(inventory[key] for key in keys)
    except KeyError as error:
        raise UnknownPromptError(f"no clip {error.args[0]!r} in {lang}") from None


def clips_for_number(n: int, lang: str) -> list[str]:
    """Return the clips that say the whole number ``n``."""
    lang = check_language(lang)
    n = check_number(n)
    if n == 0:
        return ["num/0"]
    return _number_clips(n, with_and=lang == "en")


def clips_for_amount(amount: Decimal | int | str, lang: str) -> list[str]:
    """Return the clips that say an amount in rupees and paise."""
    lang = check_language(lang)
    rupees, paise = split_amount(amount)
    if rupees == 0 and paise == 0:
        return ["num/0", "word/rupees"]
    clips: list[str] = []
    if rupees:
        clips += clips_for_number(rupees, lang)
        clips.append("word/rupee" if rupees == 1 else "word/rupees")
    if paise:
        if rupees and lang == "en":
            clips.append(AND)
        clips += clips_for_number(paise, lang)
        clips.append("word/paisa" if paise == 1 else "word/paise")
    return clips


def clips_for_date(date: dt.date, lang: str) -> list[str]:
    """Return the clips that say a date: day, month, year."""
    lang = check_language(lang)
    date = check_date(date)
    day = [f"day/{date.day}"] if lang == "en" else clips_for_number(date.day, lang)
    # Years are said without "and" ("two thousand twenty-six"), see voice_prompts.spoken.
    year = [clip for clip in clips_for_number(date.year, lang) if clip != AND]
    return [*day, f"month/{date.month}", *year]


def clips_for_digits(digits: str, lang: str) -> list[str]:
    """Return the clips that say a digit string one digit at a time."""
    check_language(lang)
    return [f"num/{digit}" for digit in check_digits(digits)]


def clips_for_value(kind: str, value: object, lang: str) -> list[str]:
    """Return the clips that say ``value`` as a placeholder of ``kind``."""
    if kind == "amount":
        return clips_for_amount(value, lang)  # type: ignore[arg-type]
    if kind == "date":
        return clips_for_date(value, lang)  # type: ignore[arg-type]
    if kind == "digits":
        return clips_for_digits(value, lang)  # type: ignore[arg-type]
    if kind == "number":
        return clips_for_number(value, lang)  # type: ignore[arg-type]
    raise SpokenFormError(f"unknown placeholder kind {kind!r}")


def _number_clips(n: int, *, with_and: bool) -> list[str]:
    # Indian grouping: crores (up to 999), lakhs, thousands, then hundreds and the rest.
    crores, n = divmod(n, CRORE)
    lakhs, n = divmod(n, LAKH)
    thousands, n = divmod(n, 1000)
    hundreds, rest = divmod(n, 100)
    clips: list[str] = []
    if crores:
        clips += [*_number_clips(crores, with_and=with_and), "word/crore"]
    if lakhs:
        clips += [f"num/{lakhs}", "word/lakh"]
    if thousands:
        clips += [f"num/{thousands}", "word/thousand"]
    if hundreds:
        clips += [f"num/{hundreds}", "word/hundred"]
    if rest:
        # British English says "and" before the last part under a hundred when anything
        # comes before it: "one hundred and one", "one lakh and five".
        if clips and with_and:
            clips.append(AND)
        clips.append(f"num/{rest}")
    return clips
