"""Console pages: login, the queue, a callback with its caller's history, the outbox.

The floor's pages (wallboard, campaigns, recordings) are in ``callcenter.floor_views``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import DateTimeLocalField, RadioField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Optional

from callcenter import dispositions, floor, queue
from callcenter.auth import (
    LoginForm,
    authenticate,
    forget_failed_logins,
    limit_failed_logins,
    role_required,
    seconds_until_reset,
)
from callcenter.exceptions import (
    CallbackNotFound,
    CallingUnavailable,
    CallRefused,
    ConsoleError,
    DispositionError,
    OperatorNotReady,
    TooManyLoginAttempts,
)
from callcenter.history import caller_history
from callcenter.labels import words
from callcenter.language import (
    SESSION_KEY,
    ConsoleForm,
    adopt_login_choice,
    console_language,
    keep_choice_over,
    month_abbreviation,
)
from callcenter.security import end_sessions, home_page, safe_next, start_session
from callqueue.calls import CallError, QueueUnavailable, start_call
from core.audit import audit_trail
from core.config import settings, split_list
from core.extensions import db, login_manager
from core.models import Callback, OperatorStatus, OutboundMessage, Role, User, utcnow
from core.models.attempts import CallAttempt
from core.phone import mask

console_bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)

PUBLIC_ENDPOINTS = frozenset({"console.login", "console.static"})
"""The only console pages open without logging in."""


OUTBOX_PAGE_SIZE = 200

CALL_BACK_FORMAT = "%Y-%m-%dT%H:%M"
"""What an ``<input type=datetime-local>`` sends."""


@console_bp.before_request
def require_login() -> Any:
    """Send anyone not logged in to the login page."""
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@console_bp.errorhandler(ConsoleError)
def refuse(error: ConsoleError) -> Any:
    """Answer a refused action with its message, as JSON or as a page."""
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=str(error)), error.status
    return render_template("console/refused.html", message=str(error)), error.status


@console_bp.errorhandler(403)
def forbidden(_error: Exception) -> Any:
    """Tell the user the page is not for their role."""
    message = _("This page is for supervisors; your account may not open it.")
    return render_template("console/refused.html", message=message), 403


@console_bp.app_template_filter("local_time")
def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """Show a UTC time in the call centre's time zone, the month named in the page's language.

    English keeps strftime's names ("Sep"; CLDR's en_IN has "Sept"); Hindi takes CLDR's.
    """
    if value is None:
        return ""
    local = value.astimezone(_zone())
    if "%b" in fmt:
        fmt = fmt.replace("%b", _month(local.month).replace("%", "%%"))
    return local.strftime(fmt)


@console_bp.app_template_filter("local_date")
def local_date(value: date | None) -> str:
    """Show a date as the pages do ("05 Dec 2026"), the month named in the page's language."""
    if value is None:
        return ""
    return value.strftime("%d ") + _month(value.month) + value.strftime(" %Y")


def _month(month: int) -> str:
    if console_language() == "en":
        return date(2000, month, 1).strftime("%b")
    return month_abbreviation(month)


@console_bp.app_template_filter("masked")
def masked(value: str | None) -> str:
    """Show a phone number with all but its last digits hidden."""
    return mask(value)


def _zone() -> ZoneInfo:
    return settings().zone


# --- login -----------------------------------------------------------------------------


def _too_many_failed_logins(spent: RequestLimit) -> Response:
    """Answer a login refused because too many failed for the username or address."""
    retry_after = seconds_until_reset(spent)
    error = str(TooManyLoginAttempts(retry_after))
    page = render_template("console/login.html", form=LoginForm(), error=error)
    return make_response(page, TooManyLoginAttempts.status, {"Retry-After": str(retry_after)})


@console_bp.route("/login", methods=["GET", "POST"])
@limit_failed_logins(on_breach=_too_many_failed_logins)
def login() -> Any:
    """Log in to the console."""
    if current_user.is_authenticated:
        return redirect(home_page())
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        user = authenticate(form.username.data.strip(), form.password.data)
        if user is None:
            error, status = _("Wrong username or password."), 401
        else:
            forget_failed_logins()
            # A fresh session at login, so a session planted before it gains nothing
            # (but the language chosen on the login page stays).
            keep_choice_over(session.clear)
            login_user(user)
            adopt_login_choice()
            start_session()
            return redirect(safe_next(request.args.get("next")))
    return render_template("console/login.html", form=form, error=error), status


@console_bp.post("/logout")
def logout() -> Response:
    """Log out, ending every session of this user (a copied cookie opens nothing after)."""
    user = db.session.get(User, current_user.id) if current_user.is_authenticated else None
    if user is not None:
        end_sessions(user)
        db.session.commit()
    logout_user()
    keep_choice_over(session.clear)
    if user is not None and user.language:
        session[SESSION_KEY] = user.language
    return redirect(url_for("console.login"))


# --- the queue -------------------------------------------------------------------------


@console_bp.get("/")
def queue_page() -> str:
    """Show the pending callbacks, best first."""
    return render_template(
        "console/queue.html",
        rows=queue.pending_queue(),
        claim=queue.current_claim(current_user.id),
        my_state=floor.state_now(db.session.get(OperatorStatus, current_user.id), utcnow()),
        state_labels=floor.STATE_LABELS,
        refresh_seconds=settings().QUEUE_REFRESH_SECONDS,
    )


@console_bp.get("/queue.json")
def queue_json() -> Any:
    """Return the queue's rows for the page to refresh itself."""
    claim = queue.current_claim(current_user.id)
    rows = [
        {
            "id": row.id,
            "phone": row.masked_phone,
            "language": row.required_language or row.language,
            "language_label": str(words(row.required_language or row.language, "language")),
            "priority": row.priority,
            "waited_minutes": row.waited_minutes,
            "missed_calls": row.missed_calls,
            "attempts": row.attempts,
            "due": row.due,
            "due_at": local_time(row.due_at),
            "slot": row.slot,
            "slot_label": str(words(row.slot, "callback_slot")) if row.slot else None,
            "sla": row.sla,
            "url": url_for("console.callback_page", callback_id=row.id),
        }
        for row in queue.pending_queue()
    ]
    return jsonify(
        rows=rows,
        claim=None
        if claim is None
        else {"id": claim.id, "url": url_for("console.callback_page", callback_id=claim.id)},
    )


@console_bp.post("/take-next")
def take_next() -> Response:
    """Claim the best due callback and open it."""
    held = queue.current_claim(current_user.id)
    if held is not None:
        flash(_("You already hold callback %(id)s; finish it first.", id=held.id), "info")
        return redirect(url_for("console.callback_page", callback_id=held.id))
    try:
        callback_id = queue.claim_next(current_user)
    except OperatorNotReady as exc:
        flash(str(exc), "info")
        return redirect(url_for("console.queue_page"))
    if callback_id is None:
        flash(_("No callback is due for you right now."), "info")
        return redirect(url_for("console.queue_page"))
    return redirect(url_for("console.callback_page", callback_id=callback_id))


# --- one callback ----------------------------------------------------------------------


class DispositionForm(ConsoleForm):
    """What the call came to."""

    disposition = RadioField(
        _l("Outcome"),
        choices=[SelectChoice(d.value, dispositions.LABELS[d]) for d in dispositions.Disposition],
        validators=[DataRequired(message=_l("Choose what the call came to."))],
    )
    call_back_at = DateTimeLocalField(
        _l("Call back at"), format=CALL_BACK_FORMAT, validators=[Optional()]
    )
    language = SelectField(_l("Language the consumer speaks"), validators=[Optional()])


def _disposition_form() -> DispositionForm:
    form = DispositionForm()
    codes = split_list(settings().CONSOLE_LANGUAGES)
    form.language.choices = [SelectChoice("", "—")] + [
        SelectChoice(code, words(code, "language")) for code in codes
    ]
    return form


def _load(callback_id: int) -> Callback:
    callback = db.session.get(Callback, callback_id)
    if callback is None:
        raise CallbackNotFound(_("No callback %(id)s.", id=callback_id))
    return callback


def _render_callback(callback: Callback, form: DispositionForm, error: str | None = None) -> str:
    holder = db.session.get(User, callback.claimed_by_id) if callback.claimed_by_id else None
    return render_template(
        "console/callback.html",
        callback=callback,
        holder=holder,
        mine=holder is not None
        and holder.id == current_user.id
        and callback.status in queue.HELD_STATUSES,
        history=caller_history(callback.phone, current_callback_id=callback.id),
        # Every call placed for this callback, the one under way included; the callback's
        # own counter only counts calls that ended after ringing the consumer.
        calls_placed=db.session.scalar(
            select(func.count(CallAttempt.id)).where(CallAttempt.callback_id == callback.id)
        ),
        recordings=current_user.may(Role.SUPERVISOR),
        trail=audit_trail(db.session, queue.AUDIT_ENTITY, callback.id),
        names={user_id: name for user_id, name in db.session.execute(select(User.id, User.name))},
        form=form,
        error=error,
    )


@console_bp.get("/callbacks/<int:callback_id>")
def callback_page(callback_id: int) -> str:
    """Show a callback, its caller's history, and what may be done with it."""
    return _render_callback(_load(callback_id), _disposition_form())


@console_bp.post("/callbacks/<int:callback_id>/call")
def call(callback_id: int) -> Response:
    """Ring the operator's phone and bridge them to the consumer."""
    queue.require_holder(_load(callback_id), current_user)
    try:
        start_call(callback_id, current_user.id)
    except QueueUnavailable as exc:
        raise CallingUnavailable(str(exc)) from exc
    except CallError as exc:
        raise CallRefused(str(exc)) from exc
    flash(_("Your phone will ring; answer it to be connected to the consumer."), "info")
    return redirect(url_for("console.callback_page", callback_id=callback_id))


@console_bp.post("/callbacks/<int:callback_id>/release")
def release(callback_id: int) -> Response:
    """Give the callback back to the queue."""
    queue.release(callback_id, current_user)
    flash(_("Callback %(id)s is back in the queue.", id=callback_id), "info")
    return redirect(url_for("console.queue_page"))


@console_bp.post("/callbacks/<int:callback_id>/disposition")
def disposition(callback_id: int) -> Any:
    """Record what the call came to."""
    form = _disposition_form()
    callback = _load(callback_id)
    if not form.validate():
        problems = [str(message) for messages in form.errors.values() for message in messages]
        return _render_callback(callback, form, "; ".join(problems)), 400
    outcome = dispositions.Disposition(form.disposition.data)
    call_back_at = None
    if form.call_back_at.data is not None:
        call_back_at = form.call_back_at.data.replace(tzinfo=_zone())
    try:
        dispositions.record_disposition(
            callback_id,
            current_user,
            outcome,
            call_back_at=call_back_at,
            language=form.language.data or None,
        )
    except DispositionError as exc:
        return _render_callback(_load(callback_id), form, str(exc)), exc.status
    flash(
        _("Callback %(id)s: %(outcome)s.", id=callback_id, outcome=dispositions.LABELS[outcome]),
        "info",
    )
    return redirect(url_for("console.queue_page"))


# --- supervisors -----------------------------------------------------------------------


@console_bp.get("/outbox")
@role_required(Role.SUPERVISOR)
def outbox() -> str:
    """Show the SMS we sent or mean to send, newest first."""
    messages = db.session.scalars(
        select(OutboundMessage)
        # Newest first by id: ids are given in the order messages are recorded, and the
        # primary key serves the order without reading a year of SMS to sort them.
        .order_by(OutboundMessage.id.desc())
        .limit(OUTBOX_PAGE_SIZE)
    )
    return render_template("console/outbox.html", messages=list(messages))
