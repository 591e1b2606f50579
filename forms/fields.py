"""Field types of the application forms, and factories for the fields several forms share.

Labels are not given here: :class:`forms.base.BilingualForm` sets every label and option
text from the message catalogue or configuration in the form's language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from stdnum.in_ import aadhaar
from wtforms import DecimalField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.fields.core import UnboundField

from forms.codes import AREA_TYPES, SUPPLY_PHASES
from forms.config import AADHAAR, districts, identity_documents
from forms.messages import LANGUAGES, message
from forms.validators import (
    AccountNumber,
    Code,
    IntegerBetween,
    Kilowatts,
    Length,
    Mobile,
    Optional,
    PersonName,
    PinCode,
    Required,
    ValidChoice,
    clean_text,
)

if TYPE_CHECKING:
    from forms.base import BilingualForm

OptionSource = Callable[["BilingualForm"], list[tuple[str, str]]]
"""A function returning (value, label) options for a select, in the form's language."""

NAME_LENGTH = (2, 100)
ADDRESS_LENGTH = (5, 250)
PLACE_LENGTH = (2, 100)
DETAILS_LENGTH = (3, 500)
CODE_MAX_LENGTH = 20

AADHAAR_DIGITS = 12


class CodeSelectField(SelectField):
    """A select of stable codes whose option texts follow the form's language.

    Options come either from the catalogue (``option_group`` and ``options``: texts are
    ``option.<group>.<code>``) or from a ``source`` function reading configuration.
    """

    def __init__(
        self,
        label: str | None = None,
        validators: Sequence[Any] | None = None,
        *,
        option_group: str | None = None,
        options: Sequence[str] = (),
        source: OptionSource | None = None,
        blank: bool = True,
        **kwargs: Any,
    ) -> None:
        # validate_choice is off: ValidChoice checks membership with a message in the form's
        # language, after Required has dealt with an empty answer.
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.option_group = option_group
        self.options = tuple(options)
        self.source = source
        self.blank = blank

    def localise(self, form: BilingualForm) -> None:
        """Build the options in the form's language."""
        if self.source is not None:
            pairs = self.source(form)
        else:
            pairs = [
                (code, message(f"option.{self.option_group}.{code}", form.lang))
                for code in self.options
            ]
        choices = [SelectChoice("", message("option.blank", form.lang))] if self.blank else []
        self.choices = choices + [SelectChoice(value, label) for value, label in pairs]

    def codes(self) -> list[str]:
        """Return the values a user may choose (the blank placeholder excluded)."""
        return [choice.value for choice in self.choices or [] if choice.value != ""]


class KilowattField(DecimalField):
    """A load in kW, kept as the Decimal typed (no rounding for display)."""

    def __init__(
        self, label: str | None = None, validators: Sequence[Any] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(label, validators, places=None, **kwargs)


class IdentityNumberField(StringField):
    """An identity document number that never puts a full Aadhaar number into a page.

    WTForms re-renders a field with what was typed (its ``data``); for Aadhaar, and for any
    12-digit number (an Aadhaar typed under the wrong document type), this field renders an
    empty value with the masked number as placeholder instead. After validation the form
    calls :meth:`redact`, so ``data`` holds only the masked form.
    """

    def __init__(
        self,
        label: str | None = None,
        validators: Sequence[Any] | None = None,
        *,
        type_field: str = "id_document_type",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("render_kw", {"autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.type_field = type_field
        self.verified_mask: str | None = None
        """Masked form of an Aadhaar number that passed the check, so re-validation holds."""

    def document_type(self) -> str | None:
        """Return the document type chosen in the companion field."""
        return self._form[self.type_field].data

    def is_aadhaar(self) -> bool:
        """Tell whether the chosen document is Aadhaar."""
        return self.document_type() == AADHAAR

    def compact(self) -> str:
        """Return the number without spaces and hyphens."""
        return aadhaar.compact(self.data or "")

    def looks_like_aadhaar(self) -> bool:
        """Tell whether the number has an Aadhaar's shape (12 digits), whatever the type."""
        number = self.compact()
        return number.isdigit() and len(number) == AADHAAR_DIGITS

    def is_sensitive(self) -> bool:
        """Tell whether the value must not be shown in full."""
        return self.is_aadhaar() or self.looks_like_aadhaar()

    def masked(self) -> str | None:
        """Return the number masked to its last four characters (XXXX XXXX 1234)."""
        number = self.compact()
        return aadhaar.mask(number) if number else None

    def storable(self) -> str | None:
        """Return the number as it may be stored: masked for Aadhaar, else as entered."""
        if not self.data:
            return None
        return self.masked() if self.is_aadhaar() else self.data

    def redact(self) -> None:
        """Replace a full Aadhaar number in ``data`` and ``raw_data`` by its masked form."""
        if self.is_aadhaar() or (self.looks_like_aadhaar() and self.errors):
            masked = self.masked()
            self.data = masked
            self.raw_data = [masked] if masked else []

    def _value(self) -> str:
        return "" if self.is_sensitive() else super()._value()

    def __call__(self, **kwargs: Any) -> Any:
        """Render the input; a sensitive number shows only as a masked placeholder."""
        masked = self.masked() if self.is_sensitive() else None
        if masked:
            kwargs.setdefault("placeholder", masked)
        return super().__call__(**kwargs)


# ---------------------------------------------------------------- option sources


def district_options(form: BilingualForm) -> list[tuple[str, str]]:
    """Return the configured districts as options."""
    return [(district.value, district.label(form.lang)) for district in districts()]


def category_options(form: BilingualForm) -> list[tuple[str, str]]:
    """Return the DISCOM's consumer categories as options."""
    return [(code, rule.label(form.lang)) for code, rule in form.profile.categories.items()]


def document_options(form: BilingualForm) -> list[tuple[str, str]]:
    """Return the accepted identity documents as options."""
    return [(code, document.label(form.lang)) for code, document in identity_documents().items()]


# ---------------------------------------------------------------- shared field factories


def name_field() -> UnboundField:
    """Return a required person's-name field."""
    return StringField(
        validators=[Required(), Length(*NAME_LENGTH), PersonName()], filters=[clean_text]
    )


def text_field(length: tuple[int, int], required: bool = True) -> UnboundField:
    """Return a free-text field (address, place, details) of bounded length."""
    first = Required() if required else Optional()
    return StringField(validators=[first, Length(*length)], filters=[clean_text])


def mobile_field(required: bool = True) -> UnboundField:
    """Return an Indian mobile-number field, stored in E.164."""
    return StringField(
        validators=[Required() if required else Optional(), Mobile()],
        filters=[clean_text],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )


def account_number_field(required: bool = True) -> UnboundField:
    """Return a consumer account-number field in the configured DISCOM's format."""
    return StringField(
        validators=[Required() if required else Optional(), AccountNumber()],
        filters=[clean_text],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


def code_field() -> UnboundField:
    """Return an optional pole, meter or transformer number field."""
    return StringField(validators=[Optional(), Code(CODE_MAX_LENGTH)], filters=[clean_text])


def pin_code_field() -> UnboundField:
    """Return a required PIN-code field."""
    return StringField(
        validators=[Required(), PinCode()],
        filters=[clean_text],
        render_kw={"inputmode": "numeric", "maxlength": 7},
    )


def load_field() -> UnboundField:
    """Return a required load-in-kW field; category bounds are checked by the form."""
    return KilowattField(validators=[Required(), Kilowatts()])


def months_field(max_of: Callable[[BilingualForm], int]) -> UnboundField:
    """Return an optional whole-months field; the form decides when it is required."""
    return IntegerField(validators=[Optional(), IntegerBetween(1, max_of)])


def select_field(
    option_group: str | None = None,
    options: Sequence[str] = (),
    *,
    source: OptionSource | None = None,
    default: str | None = None,
) -> UnboundField:
    """Return a required select of codes, with a blank first option unless it has a default."""
    return CodeSelectField(
        validators=[Required(), ValidChoice()],
        option_group=option_group,
        options=options,
        source=source,
        blank=default is None,
        default=default,
    )


def area_type_field() -> UnboundField:
    """Return the urban/rural select."""
    return select_field("area_type", AREA_TYPES)


def supply_phase_field() -> UnboundField:
    """Return the single/three-phase select."""
    return select_field("supply_phase", SUPPLY_PHASES)


def category_field() -> UnboundField:
    """Return a select of the DISCOM's consumer categories."""
    return select_field(source=category_options)


def district_field() -> UnboundField:
    """Return a select of the configured districts."""
    return select_field(source=district_options)


def preferred_language_field() -> UnboundField:
    """Return the consumer's language for SMS and calls, Hindi unless chosen otherwise."""
    return select_field("preferred_language", LANGUAGES, default="hi")


def identity_document_fields() -> tuple[UnboundField, UnboundField]:
    """Return the document-type select and the number field; the form checks the pair."""
    document_type = select_field(source=document_options)
    number = IdentityNumberField(validators=[Required()], filters=[clean_text])
    return document_type, number
