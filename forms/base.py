"""The base of every application form: language, DISCOM profile, cross-field checks, records.

Build a form inside a request (Flask-WTF reads the posted data and checks the CSRF token)::

    form = NewConnectionForm(lang="hi")
    if form.validate_on_submit():
        save(form.to_record())          # JSON-safe; an Aadhaar number only masked

A form that fails validation re-renders with what the operator typed, except a full
Aadhaar number, which shows as an empty box with the masked number as placeholder.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.in_ import aadhaar
from wtforms import Field
from wtforms.csrf.core import CSRFTokenField

from forms.codes import THREE_PHASE
from forms.config import DiscomProfile, discom_profile, identity_documents
from forms.exceptions import FormNotValidatedError
from forms.fields import CodeSelectField, IdentityNumberField
from forms.messages import CatalogueTranslations, has_message, message, resolve_language

AADHAAR_ERROR_IDS: tuple[tuple[type[StdnumValidationError], str], ...] = (
    (InvalidLength, "aadhaar.length"),
    (InvalidChecksum, "aadhaar.checksum"),
    (StdnumValidationError, "aadhaar.format"),
)
"""python-stdnum's Aadhaar errors, most specific first, and the messages that explain them."""

OTHER = "other"
"""Option code that asks for a written explanation next to it."""


def format_kw(load: Decimal) -> str:
    """Return a load without trailing zeros or exponent: 7, 0.5, 37.5."""
    return f"{load.normalize():f}"


def json_value(value: Any) -> Any:
    """Return ``value`` in a form json.dumps accepts without losing precision."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


class BilingualForm(FlaskForm):
    """A Flask-WTF form whose labels, options and messages follow one language.

    ``lang`` ("hi" or "en") is resolved as :func:`forms.messages.resolve_language` explains.
    Subclasses declare fields and put checks that involve several fields in
    :meth:`check_cross_fields`.
    """

    service_code: ClassVar[str] = ""
    """Code of the service this form applies for, stored in its record."""

    class Meta:
        def get_translations(self, form: BilingualForm) -> CatalogueTranslations:
            """Answer WTForms' own messages (bad number, bad choice) from the catalogue."""
            return CatalogueTranslations(form.lang)

    def __init__(self, *args: Any, lang: str | None = None, **kwargs: Any) -> None:
        # Set before FlaskForm reads the posted data: coercion errors raised while reading
        # it are translated through Meta.get_translations, which needs the language.
        self.lang = resolve_language(lang)
        self.profile: DiscomProfile = discom_profile()
        self.validated: bool | None = None
        super().__init__(*args, **kwargs)
        self._localise()

    def _localise(self) -> None:
        label_params = {"name": self.profile.account_number.name(self.lang)}
        for field in self:
            label_id = f"label.{field.short_name}"
            if has_message(label_id):
                field.label.text = message(label_id, self.lang, **label_params)
            if isinstance(field, CodeSelectField):
                field.localise(self)

    # ------------------------------------------------------------ validation

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        """Validate every field, then the rules that involve several fields."""
        try:
            super().validate(extra_validators=extra_validators)
            self._localise_csrf_errors()
            # Cross-field rules run even when a field failed, so the operator sees every
            # problem at once; each rule skips the fields that already have an error.
            self.check_cross_fields()
        finally:
            # Even if a check blew up, a full Aadhaar number must not outlive validation.
            for field in self:
                if isinstance(field, IdentityNumberField):
                    field.redact()
        self.validated = not self.errors
        return self.validated

    def check_cross_fields(self) -> None:
        """Add errors for rules that involve several fields; subclasses override."""

    def _localise_csrf_errors(self) -> None:
        # Flask-WTF raises its CSRF messages in English without passing them through the
        # form's translations; the operator only needs to know to reload the page.
        for field in self:
            if isinstance(field, CSRFTokenField) and field.errors:
                field.errors = [message("csrf.invalid", self.lang)]

    def add_error(self, field: Field, msg_id: str, **params: Any) -> None:
        """Record message ``msg_id`` as an error of ``field``."""
        field.errors = [*field.errors, message(msg_id, self.lang, **params)]

    @staticmethod
    def usable(*fields: Field) -> bool:
        """Tell whether all ``fields`` passed their own checks and hold a value."""
        return all(not field.errors and field.data not in (None, "") for field in fields)

    def check_load_for_category(self, category: Field, load: Field) -> None:
        """Check the load lies within the configured bounds of the category."""
        if not self.usable(category, load):
            return
        rule = self.profile.categories[category.data]
        if not rule.min_kw <= load.data <= rule.max_kw:
            self.add_error(
                load,
                "load.out_of_bounds",
                category=rule.label(self.lang),
                min=format_kw(rule.min_kw),
                max=format_kw(rule.max_kw),
            )

    def check_phase_for_load(self, phase: Field, load: Field) -> None:
        """Check a load above the configured threshold asks for three-phase supply."""
        if not self.usable(phase, load):
            return
        threshold = self.profile.three_phase_above_kw
        if load.data > threshold and phase.data != THREE_PHASE:
            self.add_error(phase, "phase.three_required", threshold=format_kw(threshold))

    def check_identity_number(self, document_type: Field, number: IdentityNumberField) -> None:
        """Check the number has the chosen document's format; Aadhaar by its check digit."""
        if not self.usable(document_type, number):
            return
        if number.is_aadhaar():
            if number.verified_mask is not None and number.data == number.verified_mask:
                return
            try:
                aadhaar.validate(number.data)
            except StdnumValidationError as exc:
                msg_id = next(mid for kind, mid in AADHAAR_ERROR_IDS if isinstance(exc, kind))
                self.add_error(number, msg_id)
                return
            number.verified_mask = number.masked()
            return
        document = identity_documents()[document_type.data]
        normalised = "".join(number.data.split()).upper()
        if document.pattern is None or not document.pattern.fullmatch(normalised):
            self.add_error(
                number,
                "id_number.invalid",
                document=document.label(self.lang),
                hint=document.hint(self.lang),
            )
            return
        number.data = normalised

    def check_details_for_other(self, choice: Field, details: Field) -> None:
        """Require the details field when "other" is chosen."""
        if choice.errors or details.errors:
            return
        if choice.data == OTHER and not details.data:
            self.add_error(details, "details.required_for_other")

    # ------------------------------------------------------------ results

    @property
    def masked_id_number(self) -> str | None:
        """Return the identity number as it may be stored and shown.

        For Aadhaar that is the masked form (XXXX XXXX 1234); other documents carry no
        masking rule and are returned as normalised. None when the form has no number.
        """
        field = self._fields.get("id_number")
        return field.storable() if isinstance(field, IdentityNumberField) else None

    def to_record(self) -> dict[str, Any]:
        """Return the validated answers as a JSON-safe dict for storage.

        Raises FormNotValidatedError unless :meth:`validate` succeeded: before validation
        the data may hold a full Aadhaar number.
        """
        if self.validated is not True:
            raise FormNotValidatedError(
                f"{type(self).__name__}.to_record() needs a form that passed validate()"
            )
        record: dict[str, Any] = {"service": self.service_code, "discom": self.profile.code}
        for field in self:
            if isinstance(field, CSRFTokenField):
                continue
            if isinstance(field, IdentityNumberField):
                record[field.short_name] = field.storable()
                continue
            record[field.short_name] = json_value(field.data)
        return record
