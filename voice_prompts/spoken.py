"""Spoken forms of numbers, amounts, dates and digit strings, in Hindi and English.

Numbers use Indian grouping (hazaar/thousand, lakh, crore). English words come from
``num2words`` (``en_IN``), Hindi words from ``indic-numtowords`` with the spelling fixes
in ``HINDI_SPELLING_FIXES``; month names come from Babel's CLDR data. The IVR speaks
these words from pre-rendered clips (see ``voice_prompts.clips``), and the tests check
that the clips say exactly these words.

Forms chosen:

- amounts: "एक लाख बीस हज़ार तीन सौ चार रुपये पचास पैसे",
  "one lakh twenty thousand three hundred and four rupees and fifty paise";
  singular "एक रुपया" / "one rupee", "एक पैसा" / "one paisa"; paise alone when there
  are no rupees; "शून्य रुपये" / "zero rupees" for nothing.
- English numbers take British "and" before the last part under a hundred
  ("one hundred and one", "one lakh and five"), as Indian English does and as
  num2words and CLDR's verbose English spell-out do.
- dates: Hindi "पंद्रह दिसंबर दो हज़ार छब्बीस" (cardinal day, as on Indian radio and
  IVRs); English "fifteenth December two thousand twenty-six" (ordinal day, the year as
  a number without "and", as Indian English reads years after 2000).
- digits: one word per digit, "शून्य"/"zero" for 0, for account endings and reference
  numbers.
- Hindi 91–99 end in -नवे (इक्यानवे … निन्यानवे), the NCERT spelling and the one
  indic-numtowords uses; CLDR spells them -नबे (निन्यानबे). Prompt texts must use the
  same spelling.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from babel.dates import get_month_names
from babel.numbers import format_currency
from indic_numtowords import num2words as indic_num2words
from num2words import num2words

from voice_prompts.exceptions import SpokenFormError
from voice_prompts.languages import Language, check_language

MAX_NUMBER = 10**10 - 1
"""The largest number spoken (999 crore …): num2words' en_IN limit, far above any bill."""

CRORE = 10**7
LAKH = 10**5

HINDI_SPELLING_FIXES: dict[str, str] = {
    # indic-numtowords 1.1.0 writes these in non-standard forms; the right-hand side is
    # the standard spelling (Central Hindi Directorate, NCERT, and CLDR agree on each).
    "छः": "छह",  # 6: a visarga for the final h is a colloquial spelling
    "अट्ठारह": "अठारह",  # 18
    "चौंतालीस": "चौवालीस",  # 44
    "छयासठ": "छियासठ",  # 66: matches छियालीस, छियानवे in the same table
    "सरसठ": "सड़सठ",  # 67
}
"""Words indic-numtowords spells wrongly, corrected here so every caller gets one spelling."""

UNIT_WORDS: dict[Language, dict[str, str]] = {
    "hi": {
        "hundred": "सौ",
        "thousand": "हज़ार",
        "lakh": "लाख",
        "crore": "करोड़",
        "rupee": "रुपया",
        "rupees": "रुपये",
        "paisa": "पैसा",
        "paise": "पैसे",
    },
    "en": {
        "hundred": "hundred",
        "thousand": "thousand",
        "lakh": "lakh",
        "crore": "crore",
        "rupee": "rupee",
        "rupees": "rupees",
        "paisa": "paisa",
        "paise": "paise",
        "and": "and",
    },
}
"""The words besides numbers that amounts are spoken with; Hindi needs no "and"."""

_BABEL_LOCALES: dict[Language, str] = {"hi": "hi_IN", "en": "en_IN"}
_ASCII_DIGITS = re.compile(r"[0-9]+")


def number_words(n: int, lang: str) -> str:
    """Spell a whole number from 0 to 999,99,99,999 in Indian grouping."""
    return _number_words(check_number(n), check_language(lang))


@lru_cache(maxsize=16_384)
def _number_words(n: int, lang: Language) -> str:
    # Spelling a number costs num2words or indic-numtowords a good part of a millisecond;
    # an IVR says the same amounts, days and years over and over. Both libraries spell a
    # number group by Indian group (crores, lakhs, thousands, the last three digits), so
    # a larger number is put together from the libraries' spellings of its groups: the
    # same words (tests compare the two), for a few microseconds on a first hearing.
    if n < 1000:
        return _library_number_words(n, lang)
    crores, rest = divmod(n, CRORE)
    lakhs, rest = divmod(rest, LAKH)
    thousands, rest = divmod(rest, 1000)
    units = UNIT_WORDS[lang]
    groups = [
        f"{_number_words(count, lang)} {units[unit]}"
        for count, unit in ((crores, "crore"), (lakhs, "lakh"), (thousands, "thousand"))
        if count
    ]
    if rest:
        # English says "one thousand and five", as num2words does; Hindi has no "and".
        if lang == "en" and rest < 100:
            return f"{' '.join(groups)} {units['and']} {_number_words(rest, lang)}"
        groups.append(_number_words(rest, lang))
    return " ".join(groups)


def _library_number_words(n: int, lang: Language) -> str:
    """Spell ``n`` with num2words (English) or indic-numtowords (Hindi), whole."""
    if lang == "en":
        # num2words separates groups with commas; the IVR speaks them as one phrase.
        return num2words(n, lang="en_IN").replace(",", "")
    return _hindi_number_words(n)


def amount_words(amount: Decimal | int | str, lang: str) -> str:
    """Spell an amount of money in rupees and paise, e.g. for a bill or demand note."""
    lang = check_language(lang)
    rupees, paise = split_amount(amount)
    words = UNIT_WORDS[lang]
    if rupees == 0 and paise == 0:
        return f"{number_words(0, lang)} {words['rupees']}"
    phrases = []
    if rupees:
        unit = words["rupee"] if rupees == 1 else words["rupees"]
        phrases.append(f"{number_words(rupees, lang)} {unit}")
    if paise:
        unit = words["paisa"] if paise == 1 else words["paise"]
        phrases.append(f"{number_words(paise, lang)} {unit}")
    joiner = f" {words['and']} " if lang == "en" else " "
    return joiner.join(phrases)


def date_words(date: dt.date, lang: str) -> str:
    """Spell a date as the IVR says it: day, month name, year."""
    return _date_words(check_date(date), check_language(lang))


@lru_cache(maxsize=4096)
def _date_words(date: dt.date, lang: Language) -> str:
    # Bills fall due on a few dates, said over and over.
    month = month_name(date.month, lang)
    if lang == "en":
        return f"{day_ordinal_words(date.day)} {month} {year_words(date.year, lang)}"
    return f"{number_words(date.day, lang)} {month} {year_words(date.year, lang)}"


def digits_words(digits: str, lang: str) -> str:
    """Spell a string of digits one digit at a time, e.g. "4321" for an account ending."""
    lang = check_language(lang)
    digits = check_digits(digits)
    return " ".join(number_words(int(digit), lang) for digit in digits)


def amount_text(amount: Decimal | int | str, lang: str) -> str:
    """Format an amount for SMS and screens with Indian grouping, e.g. "₹1,20,304.50"."""
    lang = check_language(lang)
    rupees, paise = split_amount(amount)
    value = Decimal(rupees) + Decimal(paise) / 100
    return format_currency(value, "INR", locale=_BABEL_LOCALES[lang])


def month_name(month: int, lang: str) -> str:
    """Return the spoken name of month 1–12 (Babel's CLDR names, e.g. "दिसंबर")."""
    lang = check_language(lang)
    if not 1 <= month <= 12:
        raise SpokenFormError(f"month must be 1 to 12, not {month!r}")
    return _month_names(lang)[month - 1]


@cache
def _month_names(lang: Language) -> tuple[str, ...]:
    # Babel looks the names up afresh on every call, at a good part of a date's cost.
    names = get_month_names("wide", locale=_BABEL_LOCALES[lang])
    return tuple(_nfc(names[month]) for month in range(1, 13))


def day_ordinal_words(day: int) -> str:
    """Spell a day of the month as an English ordinal, e.g. "fifteenth"."""
    if not 1 <= day <= 31:
        raise SpokenFormError(f"day must be 1 to 31, not {day!r}")
    return _day_ordinal_words(day)


@cache
def _day_ordinal_words(day: int) -> str:
    return num2words(day, lang="en_IN", to="ordinal")


def year_words(year: int, lang: str) -> str:
    """Spell a year as a number, without the English "and" ("two thousand twenty-six")."""
    lang = check_language(lang)
    words = number_words(year, lang).split()
    return " ".join(word for word in words if word != "and")


def split_amount(amount: Decimal | int | str) -> tuple[int, int]:
    """Split an amount into whole rupees and paise, rejecting what cannot be money."""
    # Floats are refused: 0.1 + 0.2 is not 0.3, and a caller hearing a wrong paisa
    # value is worse than a developer seeing an error.
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise SpokenFormError(
            f"amount must be a Decimal, int or numeric string, not {type(amount).__name__}"
        )
    try:
        value = Decimal(amount.strip() if isinstance(amount, str) else amount)
    except InvalidOperation:
        raise SpokenFormError(f"amount {amount!r} is not a number") from None
    if not value.is_finite():
        raise SpokenFormError(f"amount {amount!r} is not a finite number")
    if value < 0:
        raise SpokenFormError(f"amount {amount!r} is negative")
    paise_total = value * 100
    if paise_total != paise_total.to_integral_value():
        raise SpokenFormError(f"amount {amount!r} has a fraction of a paisa; round it first")
    rupees, paise = divmod(int(paise_total), 100)
    if rupees > MAX_NUMBER:
        raise SpokenFormError(f"amount {amount!r} is too large to speak")
    return rupees, paise


def check_digits(digits: str) -> str:
    """Return ``digits`` if it is a non-empty string of ASCII digits."""
    # str.isdigit() also accepts Devanagari and superscript digits; keypad input
    # from the telephony provider is ASCII, so anything else is a bug upstream.
    if not isinstance(digits, str) or not _ASCII_DIGITS.fullmatch(digits):
        raise SpokenFormError(f"expected a string of digits 0-9, not {digits!r}")
    return digits


def check_number(n: int) -> int:
    """Return ``n`` if it is a whole number the IVR can speak."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise SpokenFormError(f"expected a whole number, not {type(n).__name__} {n!r}")
    if n < 0:
        raise SpokenFormError(f"cannot speak a negative number ({n})")
    if n > MAX_NUMBER:
        raise SpokenFormError(f"{n} is larger than {MAX_NUMBER}, the largest number spoken")
    return n


def check_date(date: dt.date) -> dt.date:
    """Return ``date`` as a date (the date part of a datetime)."""
    if isinstance(date, dt.datetime):
        return date.date()
    if not isinstance(date, dt.date):
        raise SpokenFormError(f"expected a date, not {type(date).__name__} {date!r}")
    return date


def _hindi_number_words(n: int) -> str:
    # Below 100 crore only: indic-numtowords reads ten or more digits one by one. (Larger
    # numbers are put together by crores in _number_words.)
    # A string, not an int: the library iterates over its argument on some paths.
    words = _nfc(indic_num2words(str(n), lang="hi"))
    return " ".join(HINDI_SPELLING_FIXES.get(word, word) for word in words.split())


def _nfc(text: str) -> str:
    # Nukta letters (ज़, ड़, फ़) have two encodings; one form everywhere keeps spoken
    # words, clip texts and catalogue texts comparable and their hashes stable.
    return unicodedata.normalize("NFC", text)


def value_words(kind: str, value: object, lang: str) -> str:
    """Spell ``value`` as a catalogue placeholder of ``kind`` (amount, date, digits, number)."""
    if kind == "amount":
        return amount_words(value, lang)  # type: ignore[arg-type]
    if kind == "date":
        return date_words(value, lang)  # type: ignore[arg-type]
    if kind == "digits":
        return digits_words(value, lang)  # type: ignore[arg-type]
    if kind == "number":
        return number_words(value, lang)  # type: ignore[arg-type]
    raise SpokenFormError(f"unknown placeholder kind {kind!r}")
