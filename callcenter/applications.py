"""Applications filled during a call: drafts, submission, numbering, demand note and its SMS.

The views call these functions; each one that writes runs in one ``write_transaction``, so
an application, its number, its demand note and its SMS are recorded together or not at all.

Drafts keep what the operator typed, unvalidated, except that an identity number with an
Aadhaar's shape is kept only masked (XXXX XXXX 1234): after resuming, the operator asks for
the Aadhaar number again before submitting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from stdnum.in_ import aadhaar
from werkzeug.datastructures import MultiDict

from callqueue.sms import record_message
from core.audit import record_audit
from core.database import write_transaction
from core.models import Callback, utcnow
from core.models.applications import Application, ApplicationStatus
from core.phone import mask
from forms import BilingualForm, format_application_number, get_service, price_new_connection
from forms.exceptions import ApplicationNumberError, PricingError, UnknownServiceError
from forms.fields import AADHAAR_DIGITS
from forms.numbers import INDIA_TIME, parse_application_number
from forms.registry import ServiceSpec
from payments.links import plan_payment_link, record_demand_sms

log = logging.getLogger("sampark.applications")

NEW_CONNECTION = "new_connection"
"""The one service priced with a demand note when submitted."""

SMS_WITHOUT_DEMAND = "application_submitted"
"""SMS template: application number only (services without a demand note)."""

NOT_STORED_FIELDS = frozenset({"csrf_token", "action"})
"""Posted names that are not answers: the CSRF token and the button pressed."""

ID_NUMBER_FIELDS = frozenset({"id_number"})
"""Fields that may hold an Aadhaar number, which a draft keeps only masked."""

DEFAULT_LANGUAGE = "hi"

_ALLOCATE_SQL = text(
    """
    INSERT INTO application_counters (prefix, year, last_value)
    VALUES (:prefix, :year, 1)
    ON CONFLICT (prefix, year)
    DO UPDATE SET last_value = application_counters.last_value + 1
    RETURNING last_value
    """
)
"""One statement both databases run atomically: the row lock (PostgreSQL) or the write lock
(SQLite) serialises concurrent submitters, so each gets the next value exactly once."""


# ---------------------------------------------------------------- errors


class ApplicationError(Exception):
    """Base of the errors an operator can cause on an application."""


class UnknownApplicationError(ApplicationError, LookupError):
    """No application has the given id or number."""


class NotADraftError(ApplicationError):
    """The application was already submitted; it cannot be edited or submitted again."""


# ---------------------------------------------------------------- results


@dataclass
class SubmitOutcome:
    """What a submit attempt produced: the application, and the form with any errors."""

    form: BilingualForm
    application: Application
    submitted: bool


# ---------------------------------------------------------------- lookups


def service_spec(code: str) -> ServiceSpec:
    """Return the service ``code`` names; UnknownServiceError otherwise."""
    return get_service(code)


def get_application(session: Session, application_id: int) -> Application:
    """Return the application with ``application_id``; UnknownApplicationError otherwise."""
    application = session.get(Application, application_id)
    if application is None:
        raise UnknownApplicationError(f"no application with id {application_id}")
    return application


def find_by_number(session: Session, number: str) -> Application:
    """Return the application numbered ``number`` (as typed); UnknownApplicationError otherwise."""
    try:
        canonical = str(parse_application_number(number))
    except (ApplicationNumberError, UnknownServiceError) as exc:
        raise UnknownApplicationError(f"{number!r} is not an application number: {exc}") from exc
    application = session.scalar(select(Application).where(Application.number == canonical))
    if application is None:
        raise UnknownApplicationError(f"no application numbered {canonical}")
    return application


# ---------------------------------------------------------------- forms


def build_form(
    service: str,
    *,
    formdata: MultiDict[str, str] | None = None,
    draft: Mapping[str, Any] | None = None,
    lang: str | None = None,
) -> BilingualForm:
    """Build the service's form from posted data, or from a saved draft (needs a request)."""
    form_class = get_service(service).form_class
    if formdata is not None:
        return form_class(formdata=formdata, lang=lang)
    # An empty formdata, not None: None would make Flask-WTF read the request's form.
    return form_class(formdata=MultiDict(), data=dict(draft or {}), lang=lang)


def draft_values(formdata: Mapping[str, Any]) -> dict[str, str]:
    """Return the typed answers as a draft may keep them: an Aadhaar-shaped number masked."""
    values: dict[str, str] = {}
    for name, value in formdata.items():
        if name in NOT_STORED_FIELDS or name.startswith("_"):
            continue
        text_value = "" if value is None else str(value)
        if name in ID_NUMBER_FIELDS:
            text_value = _mask_if_aadhaar(text_value, formdata.get("id_document_type"))
        values[name] = text_value
    return values


def _mask_if_aadhaar(value: str, document_type: Any) -> str:
    compact = aadhaar.compact(value)
    digits = "".join(ch for ch in compact if ch.isdigit())
    if document_type == "aadhaar" or (compact.isdigit() and len(compact) == AADHAAR_DIGITS):
        # Whatever was typed, at most its last four digits survive the request.
        return aadhaar.mask(digits) if digits else ""
    return value


def resume(
    session: Session, application_id: int, lang: str | None = None
) -> tuple[Application, BilingualForm]:
    """Return a draft and its form filled with what was typed (an Aadhaar only masked)."""
    application = _draft_for_update(session, application_id)
    return application, build_form(application.service, draft=application.data, lang=lang)


# ---------------------------------------------------------------- drafts


def save_draft(
    session: Session,
    *,
    service: str,
    formdata: Mapping[str, Any],
    operator_id: int | None,
    callback_id: int | None = None,
    phone: str | None = None,
    application_id: int | None = None,
) -> Application:
    """Save what was typed as a draft (new, or over ``application_id``); return it."""
    spec = get_service(service) if application_id is None else None
    values = draft_values(formdata)
    previous_status: str | None = None
    with write_transaction(session):
        if application_id is None:
            assert spec is not None
            application = Application(
                service=spec.code,
                status=ApplicationStatus.DRAFT,
                phone=_consumer_phone(session, callback_id, phone, values),
                callback_id=callback_id,
                operator_id=operator_id,
                language=_language_of(values),
                data=values,
            )
            session.add(application)
        else:
            application = _draft_for_update(session, application_id)
            previous_status = application.status
            application.data = values
            application.language = _language_of(values)
            if operator_id is not None:
                application.operator_id = operator_id
        application.updated_at = utcnow()
        session.flush()
        # Field values stay out of the trail: a draft is rewritten many times during a call.
        _audit(
            session,
            operator_id,
            application,
            "draft_saved",
            {"status": (previous_status, application.status), "fields": (None, sorted(values))},
        )
    log.info("application %s draft saved (%s)", application.id, mask(application.phone))
    return application


def _draft_for_update(session: Session, application_id: int) -> Application:
    application = get_application(session, application_id)
    if application.status != ApplicationStatus.DRAFT:
        raise NotADraftError(f"application {application.number} is already submitted")
    return application


def _consumer_phone(
    session: Session, callback_id: int | None, phone: str | None, values: Mapping[str, Any]
) -> str:
    if phone:
        return phone
    if callback_id is not None:
        callback = session.get(Callback, callback_id)
        if callback is not None:
            return callback.phone
    return str(values.get("mobile") or "")


def _language_of(values: Mapping[str, Any]) -> str:
    language = values.get("preferred_language")
    return language if language in ("hi", "en") else DEFAULT_LANGUAGE


# ---------------------------------------------------------------- submission


def submit(
    session: Session,
    *,
    service: str | None = None,
    formdata: MultiDict[str, str],
    operator_id: int | None,
    callback_id: int | None = None,
    phone: str | None = None,
    application_id: int | None = None,
    lang: str | None = None,
) -> SubmitOutcome:
    """Validate and submit an application, new (``service``) or a draft (``application_id``).

    A form that fails validation, or a new connection that cannot be priced, is saved as a
    draft (so nothing typed is lost) and returned with its errors; nothing is submitted.
    """
    if application_id is not None:
        existing = _draft_for_update(session, application_id)
        service = existing.service
    if service is None:
        raise UnknownServiceError("submit needs a service or a draft")
    spec = get_service(service)
    form = build_form(spec.code, formdata=formdata, lang=lang)
    valid = form.validate()
    demand = None
    if valid and spec.code == NEW_CONNECTION:
        try:
            demand = price_new_connection(
                form.category.data,
                form.supply_phase.data,
                form.connected_load_kw.data,
                form.area_type.data,
            )
        except PricingError as exc:
            _field_error(form, "connected_load_kw", exc.localized(form.lang))
            valid = False
    if not valid:
        draft = save_draft(
            session,
            service=spec.code,
            formdata=formdata,
            operator_id=operator_id,
            callback_id=callback_id,
            phone=phone,
            application_id=application_id,
        )
        return SubmitOutcome(form=form, application=draft, submitted=False)

    record = form.to_record()
    with write_transaction(session):
        if application_id is None:
            application = Application(
                service=spec.code,
                phone=_consumer_phone(session, callback_id, phone, record),
                callback_id=callback_id,
                operator_id=operator_id,
            )
            session.add(application)
        else:
            # Re-read inside the transaction: a second submit of the same draft must fail.
            application = _draft_for_update(session, application_id)
            if operator_id is not None:
                application.operator_id = operator_id
            if not application.phone:
                # Saved as a draft before any number was known (no callback, no mobile yet).
                application.phone = str(record.get("mobile") or "")
        # A new application is never saved as a draft: it goes from nothing to submitted.
        old_status = None if application_id is None else application.status
        now = utcnow()
        application.number = allocate_number(session, spec.prefix, now)
        application.data = record
        application.language = _language_of(record)
        application.account_number = record.get("account_number") or None
        application.submitted_at = now
        application.updated_at = now
        if demand is not None:
            application.demand_items = demand.to_record()["items"]
            application.demand_total = demand.total
            application.status = ApplicationStatus.DEMAND_ISSUED
        else:
            application.status = ApplicationStatus.SUBMITTED
        session.flush()
        _record_sms(session, application, spec, record)
        _audit(
            session,
            operator_id,
            application,
            "submitted",
            {
                "status": (old_status, application.status),
                "number": (None, application.number),
                "demand_total": (None, application.demand_total),
            },
        )
    log.info("application %s submitted (%s)", application.number, mask(application.phone))
    return SubmitOutcome(form=form, application=application, submitted=True)


def _field_error(form: BilingualForm, name: str, text_value: str) -> None:
    field = form[name]
    field.errors = [*field.errors, text_value]


def allocate_number(session: Session, prefix: str, at: datetime | None = None) -> str:
    """Take the next application number of ``prefix`` for the year in India at ``at``.

    Run it inside the caller's write transaction, so a rolled-back submit gives its value
    back instead of leaving a gap.
    """
    year = (at or utcnow()).astimezone(INDIA_TIME).year
    sequence = session.execute(_ALLOCATE_SQL, {"prefix": prefix, "year": year}).scalar_one()
    return format_application_number(prefix, sequence, year)


def _record_sms(
    session: Session, application: Application, spec: ServiceSpec, record: Mapping[str, Any]
) -> None:
    if application.demand_total is not None:
        # With the gateway, the link's job sends the demand SMS carrying the link (the
        # submit never waits for the gateway); without it, the SMS says where to pay.
        if plan_payment_link(session, application) is None:
            record_demand_sms(session, application, link_url=None)
        return
    to = record.get("mobile") or application.phone
    if not to:
        return
    values = {"number": application.number, "service_hi": spec.name_hi, "service_en": spec.name_en}
    # No callback_id: outbound messages are unique per (callback, template), and one call
    # may well produce two applications, each owed its own SMS.
    record_message(
        session, key=SMS_WITHOUT_DEMAND, to=to, language=application.language, values=values
    )


def _audit(
    session: Session,
    actor_id: int | None,
    application: Application,
    action: str,
    changes: dict[str, tuple[Any, Any]],
) -> None:
    record_audit(
        session,
        actor_id=actor_id,
        entity="application",
        entity_id=application.id,
        action=action,
        changes=changes,
    )
