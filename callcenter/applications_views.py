"""Console pages for applications: fill, save as draft, resume, submit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from callcenter import applications as service_layer
from callcenter.applications import NotADraftError, UnknownApplicationError
from core.extensions import db
from core.models import Callback, Role
from core.models.applications import Application, ApplicationStatus
from core.request_guards import database_id
from forms import SERVICES, BilingualForm
from forms.exceptions import UnknownServiceError
from forms.messages import LANGUAGES, has_message, message, resolve_language
from payments.ledger import payments_of
from payments.links import where_to_pay

applications_bp = Blueprint(
    "applications", __name__, url_prefix="/console/applications", template_folder="templates"
)

DRAFT_ACTION = "draft"
"""Value of the ``action`` button that saves a draft instead of submitting."""

HTTP_UNPROCESSABLE = 422
"""A submit that failed validation: the page comes back with the errors."""


@applications_bp.before_request
@login_required
def _require_login() -> None:
    """Let only signed-in console users reach application pages."""


@applications_bp.route("/")
def index() -> str:
    """List the services an operator can apply for."""
    return render_template(
        "console/applications_index.html",
        services=SERVICES.values(),
        lang=_lang(),
        callback_id=request.args.get("callback", type=int),
    )


@applications_bp.route("/lookup")
def lookup() -> Response:
    """Open the application with the number typed (e.g. NC-2026-000123)."""
    number = request.args.get("number", "")
    try:
        application = service_layer.find_by_number(db.session, number)
    except UnknownApplicationError:
        _not_found(_("No application numbered %(number)r.", number=number))
    return redirect(url_for(".show", application_id=application.id), code=303)


@applications_bp.route("/new/<service>", methods=["GET", "POST"])
def new(service: str) -> Any:
    """Show an empty form of ``service``; save it as a draft or submit it."""
    spec = _service_or_404(service)
    callback_id = _callback_or_404(request.args.get("callback"))
    lang = _lang()
    if request.method == "GET":
        form = service_layer.build_form(spec.code, lang=lang)
        return _render_form(form, spec.code, None, callback_id)
    if request.form.get("action") == DRAFT_ACTION:
        draft = service_layer.save_draft(
            db.session,
            service=spec.code,
            formdata=request.form,
            operator_id=current_user.id,
            callback_id=callback_id,
        )
        return redirect(url_for(".show", application_id=draft.id, saved=1, lang=lang), code=303)
    outcome = service_layer.submit(
        db.session,
        service=spec.code,
        formdata=request.form,
        operator_id=current_user.id,
        callback_id=callback_id,
        lang=lang,
    )
    return _after_submit(outcome)


@applications_bp.route("/<int:application_id>", methods=["GET", "POST"])
def show(application_id: int) -> Any:
    """Resume a draft (GET), save it (POST), or show a submitted application."""
    application = _application_or_404(application_id)
    lang = _lang()
    if request.method == "POST":
        _refuse_unless_holder(application)
        try:
            service_layer.save_draft(
                db.session,
                service=application.service,
                formdata=request.form,
                operator_id=current_user.id,
                application_id=application.id,
            )
        except NotADraftError:
            return _already_submitted(application)
        return redirect(url_for(".show", application_id=application.id, saved=1, lang=lang), 303)
    if not (_holds(application) or current_user.may(Role.SUPERVISOR)):
        _refuse(application)
    if application.status != ApplicationStatus.DRAFT:
        return _render_result(application)
    application, form = service_layer.resume(db.session, application.id, lang)
    return _render_form(
        form,
        application.service,
        application,
        application.callback_id,
        saved="saved" in request.args,
    )


@applications_bp.route("/<int:application_id>/submit", methods=["POST"])
def submit(application_id: int) -> Any:
    """Submit a saved draft with the answers posted."""
    application = _application_or_404(application_id)
    _refuse_unless_holder(application)
    try:
        outcome = service_layer.submit(
            db.session,
            formdata=request.form,
            operator_id=current_user.id,
            application_id=application.id,
            lang=_lang(),
        )
    except NotADraftError:
        return _already_submitted(application)
    return _after_submit(outcome)


# ---------------------------------------------------------------- helpers


def _after_submit(outcome: service_layer.SubmitOutcome) -> Any:
    application = outcome.application
    if outcome.submitted:
        return redirect(url_for(".show", application_id=application.id, lang=_lang()), code=303)
    return (
        _render_form(outcome.form, application.service, application, application.callback_id),
        HTTP_UNPROCESSABLE,
    )


def _render_form(
    form: BilingualForm,
    service: str,
    application: Application | None,
    callback_id: int | None,
    *,
    saved: bool = False,
) -> str:
    spec = SERVICES[service]
    lang = form.lang
    other = next(code for code in LANGUAGES if code != lang)
    account_names = {code: form.profile.account_number.name(code) for code in LANGUAGES}
    other_labels = {
        field.short_name: message(f"label.{field.short_name}", other, name=account_names[other])
        for field in form
        if has_message(f"label.{field.short_name}")
    }
    if application is None:
        action = url_for(".new", service=service, callback=callback_id, lang=lang)
        draft_action = action
    else:
        action = url_for(".submit", application_id=application.id, lang=lang)
        draft_action = url_for(".show", application_id=application.id, lang=lang)
    return render_template(
        "console/applications_form.html",
        form=form,
        spec=spec,
        lang=lang,
        other_labels=other_labels,
        application=application,
        action=action,
        draft_action=draft_action,
        saved=saved,
        callback_id=callback_id,
    )


def _render_result(application: Application) -> str:
    link, payments = payments_of(db.session, application.id)
    return render_template(
        "console/applications_result.html",
        application=application,
        spec=SERVICES.get(application.service),
        items=application.demand_items or [],
        total=application.demand_total,
        link=link,
        payments=payments,
        where_to_pay={code: where_to_pay(code) for code in ("en", "hi")},
    )


def _already_submitted(application: Application) -> tuple[str, int]:
    text = _(
        "Application %(number)s is already submitted and cannot be changed.",
        number=application.number,
    )
    return render_template("console/applications_error.html", message=text), 409


def _lang() -> str:
    # ?lang= picks the form's language; otherwise FORM_LANGUAGE or Hindi.
    return resolve_language()


def _service_or_404(code: str) -> Any:
    try:
        return service_layer.service_spec(code)
    except UnknownServiceError:
        _not_found(
            _("Unknown service %(code)r; known: %(known)s.", code=code, known=", ".join(SERVICES))
        )


def _callback_or_404(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    callback_id = database_id(raw)
    callback = db.session.get(Callback, callback_id) if callback_id is not None else None
    if callback is None:
        _not_found(_("No callback %(id)r.", id=raw))
    holder = getattr(callback, "claimed_by_id", None)
    if callback.is_open and holder is not None and holder != current_user.id:
        # Another operator is working this consumer; two applications would cross.
        text = _("Callback %(id)s is held by another operator; nothing was saved.", id=callback.id)
        abort(Response(render_template("console/applications_error.html", message=text), 409))
    return callback.id


def _application_or_404(application_id: int) -> Application:
    try:
        return service_layer.get_application(db.session, application_id)
    except UnknownApplicationError:
        _not_found(_("No application %(id)s.", id=application_id))


def _holder_id(application: Application) -> int | None:
    """Return who an application belongs to: the holder of its open callback, else its author."""
    if application.callback_id is not None:
        callback = db.session.get(Callback, application.callback_id)
        if callback is not None and callback.is_open and callback.claimed_by_id is not None:
            return callback.claimed_by_id
    return application.operator_id


def _holds(application: Application) -> bool:
    return _holder_id(application) == current_user.id


def _refuse_unless_holder(application: Application) -> None:
    # Only the operator on the consumer's call may change or submit it (and send its SMS).
    if not _holds(application):
        _refuse(application)


def _refuse(application: Application) -> None:
    text = _(
        "Application %(id)s belongs to another operator's call; nothing was changed.",
        id=application.id,
    )
    abort(Response(render_template("console/applications_error.html", message=text), 403))


def _not_found(text: str) -> Any:
    abort(Response(render_template("console/applications_error.html", message=text), 404))
