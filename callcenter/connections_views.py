"""The connection clock's console pages: a field engineer's applications and their stages.

Field engineers see and record the applications of their area; supervisors and admins
see every one and record none (the stages say who did the work in the field); operators
open none of it. The rules live in ``connections``; these views read forms and answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from callcenter.language import ConsoleForm
from connections import stages
from connections.exceptions import NotYourArea, StageError
from connections.reading import read_clock
from core.extensions import db, login_manager
from core.models import Role, User, utcnow
from core.models.applications import Application
from core.models.connections import ConnectionClock

connections_bp = Blueprint(
    "connections", __name__, url_prefix="/console/connections", template_folder="templates"
)

OPEN_LIMIT = 500
"""Open applications listed at most (overdue and due soonest first)."""

CLOSED_LIMIT = 50
"""Recently closed applications listed below the open ones."""

LIST_REFRESH_SECONDS = 60

RECORDABLE = [stage for stage in stages.LABELS if stage != stages.S.PAID]


class StageForm(ConsoleForm):
    """Record the next stage of a paid application."""

    stage = SelectField(
        _l("Stage reached"),
        choices=[SelectChoice(stage.value, stages.LABELS[stage]) for stage in RECORDABLE],
        validators=[InputRequired(message=_l("Choose the stage to record."))],
    )
    # The stage the engineer saw: a change made since (or a second submit) records nothing.
    seen_stage = HiddenField(validators=[InputRequired(message=_l("The form is incomplete."))])
    reason = TextAreaField(
        _l("Reason, if rejecting"),
        validators=[Optional(), Length(max=stages.MAX_REASON)],
    )


@connections_bp.before_request
def _require_field_or_supervisor() -> Any:
    """Let in field engineers, supervisors and admins; an operator gets 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not (current_user.may(Role.FIELD_ENGINEER) or current_user.may(Role.SUPERVISOR)):
        message = _(
            "These pages are for field engineers and supervisors; your account may not open them."
        )
        return render_template("console/refused.html", message=message), 403
    return None


@connections_bp.errorhandler(StageError)
def _refused(error: StageError) -> tuple[str, int]:
    """Explain an application that cannot be opened or changed."""
    return render_template("console/refused.html", message=str(error)), error.status


def _visible() -> Any:
    """Return a query of (clock, application) pairs the current user may see."""
    query = select(ConnectionClock, Application).join(
        Application, Application.id == ConnectionClock.application_id
    )
    if current_user.may(Role.SUPERVISOR):
        return query
    area = stages.engineer_area(current_user)
    if area is None:
        return query.where(False)
    district, subdivision = area
    query = query.where(func.lower(ConnectionClock.district) == district.lower())
    if subdivision:
        query = query.where(func.lower(ConnectionClock.subdivision) == subdivision.lower())
    return query


@connections_bp.get("/")
def index() -> str:
    """List the applications to connect, overdue and due soonest first, then recent closed ones."""
    now = utcnow()
    visible = _visible()
    open_rows = db.session.execute(
        visible.where(ConnectionClock.energised_at.is_(None), ConnectionClock.rejected_at.is_(None))
        .order_by(ConnectionClock.due_at, ConnectionClock.id)
        .limit(OPEN_LIMIT)
    ).all()
    closed_rows = db.session.execute(
        visible.where(
            or_(ConnectionClock.energised_at.is_not(None), ConnectionClock.rejected_at.is_not(None))
        )
        .order_by(ConnectionClock.stage_at.desc(), ConnectionClock.id.desc())
        .limit(CLOSED_LIMIT)
    ).all()
    return render_template(
        "console/connections_index.html",
        open_rows=[(clock, app, read_clock(clock, now)) for clock, app in open_rows],
        closed_rows=[(clock, app, read_clock(clock, now)) for clock, app in closed_rows],
        labels=stages.LABELS,
        area_label=stages.area_label,
        area=current_user.area,
        refresh_seconds=LIST_REFRESH_SECONDS,
    )


def _render(application_id: int, form: StageForm | None = None, error: str | None = None) -> str:
    application, clock = stages.clock_for(application_id, current_user)
    may_record = stages.may_record(current_user, clock)
    form = form or StageForm()
    # The stage this page shows: what a submit from it says the engineer saw.
    form.seen_stage.data = clock.stage
    history = stages.history(application_id)
    return render_template(
        "console/connection.html",
        application=application,
        clock=clock,
        reading=read_clock(clock, utcnow()),
        history=history,
        users=_names({entry.actor_id for entry in history}),
        labels=stages.LABELS,
        area_label=stages.area_label(clock),
        allowed=stages.next_stages(clock.stage) if may_record else (),
        form=form,
        error=error,
    )


def _names(user_ids: set[int | None]) -> dict[int, str]:
    ids = [user_id for user_id in user_ids if user_id is not None]
    if not ids:
        return {}
    return {user.id: user.name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


@connections_bp.get("/<int:application_id>")
def application_page(application_id: int) -> str:
    """Show an application's clock, its stages, and the form for the next one."""
    return _render(application_id)


@connections_bp.post("/<int:application_id>/stage")
def record(application_id: int) -> Any:
    """Record the stage an engineer reached (the next one, or a rejection with its reason)."""
    form = StageForm()
    # Opening the application first: another area's or an unpaid one is refused as such.
    stages.clock_for(application_id, current_user)
    if not form.validate():
        problems = [str(message) for messages in form.errors.values() for message in messages]
        return _render(application_id, form, "; ".join(problems)), 400
    try:
        stages.record_stage(
            application_id,
            current_user,
            stage=form.stage.data,
            seen_stage=form.seen_stage.data,
            reason=form.reason.data or "",
        )
    except NotYourArea:
        raise
    except StageError as exc:
        return _render(application_id, form, str(exc)), exc.status
    flash(_("Recorded: %(stage)s.", stage=stages.LABELS[form.stage.data]), "info")
    return _redirect(application_id)


def _redirect(application_id: int) -> Response:
    return redirect(url_for("connections.application_page", application_id=application_id))
