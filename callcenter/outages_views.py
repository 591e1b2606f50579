"""The supervisors' outage page: record an outage, move its restoration time, close it.

Logic and records are the ``outages`` package's; this module turns forms into its calls.
Kept in the console (not a blueprint of ``outages``) so that the console's login, session
lifetimes, security headers and navigation cover it as they cover every console page.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from callcenter.labels import outage_reason, words
from callcenter.language import ConsoleForm
from core.config import settings
from core.extensions import login_manager
from core.models import Role, utcnow
from core.models.outages import OutageKind, OutageState
from outages import records
from outages.exceptions import OutageError
from outages.spoken import REASONS

outages_bp = Blueprint("outages", __name__, url_prefix="/console/outages")

TIME_FORMAT = "%Y-%m-%dT%H:%M"
"""What an ``<input type=datetime-local>`` sends."""


@outages_bp.before_request
def _require_supervisor() -> Any:
    """Let only supervisors and admins in; an operator gets 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.may(Role.SUPERVISOR):
        message = _("Outages are recorded by supervisors; your account may not open this page.")
        return render_template("console/refused.html", message=message), 403
    return None


@outages_bp.errorhandler(OutageError)
def _refused(error: OutageError) -> tuple[str, int]:
    """Explain an outage that cannot be changed (closed already, not found)."""
    return render_template("console/refused.html", message=str(error)), error.status


class OutageForm(ConsoleForm):
    """A new outage."""

    kind = RadioField(
        _l("Outage"),
        choices=[
            SelectChoice(OutageKind.UNPLANNED.value, _l("Unplanned (a fault): SMS at once")),
            SelectChoice(
                OutageKind.PLANNED.value, _l("Planned (maintenance): SMS inside calling hours")
            ),
        ],
        validators=[InputRequired(message=_l("Choose planned or unplanned."))],
    )
    scope = RadioField(
        _l("Where"),
        choices=[SelectChoice("feeder", _l("Feeder")), SelectChoice("area", _l("Area"))],
        default="feeder",
        validators=[InputRequired(message=_l("Choose feeder or area."))],
    )
    place = StringField(
        _l("Feeder code or area name"),
        validators=[
            DataRequired(message=_l("Give the feeder code or the area the outage is in.")),
            Length(max=80, message=_l("A feeder code or area name is at most 80 characters.")),
        ],
    )
    starts_at = DateTimeLocalField(
        _l("Starts (empty: now)"), format=TIME_FORMAT, validators=[Optional()]
    )
    expected_restoration_at = DateTimeLocalField(
        _l("Expected restoration"),
        format=TIME_FORMAT,
        validators=[InputRequired(message=_l("Give the expected restoration time."))],
    )
    reason_code = SelectField(
        _l("Reason (said in the SMS)"),
        choices=[SelectChoice(code, LazyString(outage_reason, code)) for code in REASONS],
        validators=[InputRequired(message=_l("Choose a reason."))],
    )
    reason_note = TextAreaField(
        _l("Note for the console (not sent)"),
        validators=[Optional(), Length(max=500, message=_l("A note is at most 500 characters."))],
    )
    submission = HiddenField(
        validators=[
            Regexp(r"^[0-9a-f]{32}$", message=_l("Reload the page and send the form again."))
        ]
    )


class RestorationForm(ConsoleForm):
    """A new expected restoration time."""

    expected_restoration_at = DateTimeLocalField(
        _l("New expected restoration"),
        format=TIME_FORMAT,
        validators=[InputRequired(message=_l("Give the new expected restoration time."))],
    )


class CloseForm(ConsoleForm):
    """Close an outage as restored or cancelled."""

    state = RadioField(
        _l("Close as"),
        choices=[
            SelectChoice(OutageState.RESTORED.value, _l("Restored")),
            SelectChoice(OutageState.CANCELLED.value, _l("Cancelled")),
        ],
        validators=[InputRequired(message=_l("Choose restored or cancelled."))],
    )


def _zone() -> ZoneInfo:
    return settings().zone


def _utc(local: datetime) -> datetime:
    """Read a time typed in the call centre's zone."""
    return local.replace(tzinfo=_zone()).astimezone(utcnow().tzinfo)


def _page(form: OutageForm | None = None, status: int = 200) -> tuple[str, int]:
    if form is None:
        form = OutageForm()
    if not form.submission.data:
        form.submission.data = secrets.token_hex(16)
    return (
        render_template(
            "console/outages.html",
            form=form,
            rows=records.listed_outages(),
            feeders=records.known_places("feeder"),
            areas=records.known_places("area"),
            restoration_form=RestorationForm(),
            close_form=CloseForm(),
            refresh_seconds=int(current_app.config["OUTAGE_REFRESH_SECONDS"]),
        ),
        status,
    )


@outages_bp.get("/")
def index() -> tuple[str, int]:
    """Show the form for a new outage, and the current and recent outages."""
    return _page()


@outages_bp.get("/list")
def listing() -> str:
    """Return the outages' rows for the page to refresh itself."""
    return render_template(
        "console/outages_rows.html",
        rows=records.listed_outages(),
        restoration_form=RestorationForm(),
        close_form=CloseForm(),
    )


@outages_bp.post("/")
def create() -> Response | tuple[str, int]:
    """Record an outage; its notices start at once (planned ones wait for calling hours)."""
    form = OutageForm()
    if not form.validate():
        return _page(form, 400)
    starts_at = _utc(form.starts_at.data) if form.starts_at.data else utcnow()
    new = records.NewOutage(
        kind=OutageKind(form.kind.data),
        scope=form.scope.data,
        place=form.place.data,
        starts_at=starts_at,
        expected_restoration_at=_utc(form.expected_restoration_at.data),
        reason_code=form.reason_code.data,
        reason_note=form.reason_note.data or "",
        submission_key=form.submission.data,
    )
    try:
        outage, created = records.record_outage(new, current_user.id)
    except OutageError as exc:
        form.form_errors.append(str(exc))
        return _page(form, exc.status)
    if created:
        flash(
            _(
                "Outage %(id)s on %(place)s recorded; its SMS notices are on their way.",
                id=outage.id,
                place=outage.place,
            ),
            "info",
        )
    else:
        flash(
            _("Outage %(id)s was recorded already; nothing was sent twice.", id=outage.id), "info"
        )
    return redirect(url_for("outages.index"), 303)


def _invalid(form: FlaskForm) -> tuple[str, int]:
    """Say what was wrong with a row's form; nothing was changed."""
    problems = [str(error) for errors in form.errors.values() for error in errors]
    return render_template("console/refused.html", message=" ".join(problems)), 400


@outages_bp.post("/<int:outage_id>/restoration")
def move_restoration(outage_id: int) -> Response | tuple[str, int]:
    """Move an outage's expected restoration time."""
    form = RestorationForm()
    if not form.validate():
        return _invalid(form)
    outage = records.update_restoration(
        outage_id, _utc(form.expected_restoration_at.data), current_user.id
    )
    flash(_("Outage %(id)s: the expected restoration is moved.", id=outage.id), "info")
    return redirect(url_for("outages.index"), 303)


@outages_bp.post("/<int:outage_id>/close")
def close(outage_id: int) -> Response | tuple[str, int]:
    """Close an outage as restored or cancelled."""
    form = CloseForm()
    if not form.validate():
        return _invalid(form)
    outage = records.close_outage(outage_id, OutageState(form.state.data), current_user.id)
    flash(
        _(
            "Outage %(id)s on %(place)s closed as %(state)s.",
            id=outage.id,
            place=outage.place,
            state=words(outage.state, "outage_state"),
        ),
        "info",
    )
    return redirect(url_for("outages.index"), 303)
