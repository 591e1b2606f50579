"""Field validators whose messages come from the catalogue, in the form's language.

Each validator reads the language from ``form.lang`` and the DISCOM's rules from
``form.profile`` (both set by :class:`forms.base.BilingualForm`), and names the field in its
message by the (already localised) label. Validators that
accept a value also normalise it in place (E.164 mobile, upper-case codes), so ``form.data``
holds what is stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import phonenumbers
from wtforms import Field, Form
from wtforms.validators import StopValidation, ValidationError

from forms.exceptions import InvalidMobileNumberError
from forms.messages import message

PHONE_REGION = "IN"
"""Region used to read numbers typed without a country code."""

MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
"""Number types accepted as mobile. Indian ranges where landline and mobile numbers overlap
are reported as FIXED_LINE_OR_MOBILE; refusing them would refuse real mobile numbers."""

PIN_CODE_PATTERN = re.compile(r"[1-9][0-9]{5}")
"""Indian PIN code: six digits, the first (the postal region) never 0."""

CODE_PATTERN = re.compile(r"[A-Z0-9/-]+")
"""Pole, meter and transformer numbers as painted in the field: letters, digits, / and -."""

NAME_PUNCTUATION = frozenset(" .'-")
"""Characters allowed in a person's name besides letters and combining marks (matras)."""

MIN_NAME_LETTERS = 2

LOAD_DECIMAL_PLACES = Decimal("0.01")
"""Loads are accepted to two decimal places of a kW (10 W), finer than any meter rating."""

MAX_LOAD_KW = Decimal("100000")
"""No connection a call centre takes asks for more than 100 MW. A bound also keeps the
two-place check within a decimal's 28 digits (1e30 kW cannot be rounded to 10 W)."""


def label_of(field: Field) -> str:
    """Return the field's label text, used to name it in messages."""
    return str(field.label.text)


def fail(form: Form, msg_id: str, **params: Any) -> ValidationError:
    """Build a ValidationError carrying message ``msg_id`` in the form's language."""
    return ValidationError(message(msg_id, getattr(form, "lang", None), **params))


def is_blank(field: Field) -> bool:
    """Tell whether nothing (or only spaces) was entered in ``field``."""
    value = field.raw_data[0] if field.raw_data else field.data
    return value is None or (isinstance(value, str) and not value.strip())


def clean_text(value: Any) -> Any:
    """Return text in Unicode NFC with runs of whitespace collapsed to one space."""
    if not isinstance(value, str):
        return value
    # NFC so that the same Devanagari name typed on two keyboards compares equal.
    return " ".join(unicodedata.normalize("NFC", value).split())


def normalise_mobile(text: str) -> str:
    """Return ``text`` as an E.164 Indian mobile number, or raise InvalidMobileNumberError."""
    # phonenumbers reads letters as keypad digits (1-800-FLOWERS) and "ext 5" as an
    # extension; neither belongs in a number we send SMS to.
    if any(char.isalpha() for char in text):
        raise InvalidMobileNumberError(f"{text!r} has letters", msg_id="mobile.invalid")
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidMobileNumberError(
            f"{text!r} is not a phone number", msg_id="mobile.invalid"
        ) from exc
    if number.extension or not phonenumbers.is_valid_number(number):
        raise InvalidMobileNumberError(f"{text!r} is not a valid number", msg_id="mobile.invalid")
    if phonenumbers.region_code_for_number(number) != PHONE_REGION:
        raise InvalidMobileNumberError(
            f"{text!r} is not an Indian number", msg_id="mobile.not_indian"
        )
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidMobileNumberError(f"{text!r} is a landline", msg_id="mobile.not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Required:
    """Stop with "{field} is required" when nothing was entered.

    When something was entered but could not be read (a load of "abc"), the field already
    carries the reading error; stop there rather than add messages about a value it lacks.
    """

    field_flags = {"required": True}

    def __call__(self, form: Form, field: Field) -> None:
        if is_blank(field):
            field.errors[:] = []
            raise StopValidation(message("required", form.lang, field=label_of(field)))
        if field.process_errors:
            raise StopValidation()


class Optional:
    """Stop quietly, clearing reading errors, when nothing was entered."""

    field_flags = {"optional": True}

    def __call__(self, form: Form, field: Field) -> None:
        # Unlike wtforms.validators.Optional this also looks at data, so a form built from
        # a stored record (no raw input) still has its optional fields checked.
        if is_blank(field):
            field.errors[:] = []
            field.data = None
            raise StopValidation()


class Length:
    """Check the text has between ``min`` and ``max`` characters."""

    def __init__(self, min: int, max: int) -> None:
        self.min = min
        self.max = max
        self.field_flags = {"minlength": min, "maxlength": max}

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is not None and not self.min <= len(field.data) <= self.max:
            raise fail(form, "length.between", field=label_of(field), min=self.min, max=self.max)


class PersonName:
    """Check a person's name: letters of any script, matras, spaces and . ' - only."""

    def __call__(self, form: Form, field: Field) -> None:
        name = field.data or ""
        letters = sum(1 for char in name if unicodedata.category(char).startswith("L"))
        allowed = all(
            unicodedata.category(char)[0] in "LM" or char in NAME_PUNCTUATION for char in name
        )
        if not allowed or letters < MIN_NAME_LETTERS:
            raise fail(form, "name.invalid", field=label_of(field))


class Code:
    """Check and upper-case a pole, meter or transformer number of at most ``max`` characters."""

    def __init__(self, max: int) -> None:
        self.max = max
        self.field_flags = {"maxlength": max}

    def __call__(self, form: Form, field: Field) -> None:
        code = "".join((field.data or "").split()).upper()
        if len(code) > self.max or not CODE_PATTERN.fullmatch(code):
            raise fail(form, "code.invalid", field=label_of(field), max=self.max)
        field.data = code


class ValidChoice:
    """Check the value is one of the field's options (the blank placeholder is not one)."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data not in field.codes():
            raise fail(form, "choice.invalid", field=label_of(field))


class Mobile:
    """Check an Indian mobile number and store it in E.164 (+919876543210)."""

    def __call__(self, form: Form, field: Field) -> None:
        try:
            field.data = normalise_mobile(field.data)
        except InvalidMobileNumberError as exc:
            raise fail(form, exc.msg_id) from None


class PinCode:
    """Check a six-digit PIN code that belongs to the DISCOM's state."""

    def __call__(self, form: Form, field: Field) -> None:
        pin = "".join((field.data or "").split())
        if not PIN_CODE_PATTERN.fullmatch(pin):
            raise fail(form, "pin.invalid")
        profile = form.profile
        if profile.pin_prefixes and not pin.startswith(profile.pin_prefixes):
            raise fail(form, "pin.outside_area", pin=pin, state=profile.state(form.lang))
        field.data = pin


class AccountNumber:
    """Check a consumer account number against the configured DISCOM's format."""

    def __call__(self, form: Form, field: Field) -> None:
        account = form.profile.account_number
        if not account.is_valid(field.data or ""):
            raise fail(
                form,
                "account.invalid",
                name=account.name(form.lang),
                hint=account.hint(form.lang),
            )
        field.data = account.normalise(field.data)


class Kilowatts:
    """Check a load is a positive number of kW with at most two decimal places."""

    def __call__(self, form: Form, field: Field) -> None:
        load: Decimal | None = field.data
        if load is None:
            return
        if not load.is_finite() or load <= 0:
            raise fail(form, "load.positive", field=label_of(field))
        if load > MAX_LOAD_KW:
            raise fail(form, "load.too_large", field=label_of(field), max=f"{MAX_LOAD_KW:f}")
        if load != load.quantize(LOAD_DECIMAL_PLACES):
            raise fail(form, "load.precision")


class IntegerBetween:
    """Check a whole number lies between ``min`` and the maximum ``max_of(form)`` returns."""

    def __init__(self, min: int, max_of: Callable[[Form], int]) -> None:
        self.min = min
        self.max_of = max_of

    def __call__(self, form: Form, field: Field) -> None:
        maximum = self.max_of(form)
        if field.data is not None and not self.min <= field.data <= maximum:
            raise fail(form, "integer.between", field=label_of(field), min=self.min, max=maximum)
