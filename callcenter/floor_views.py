"""Console pages of the operator floor: operators' "Ready"/"Away", the supervisors' wallboard,
announcement campaigns (create, pause, resume, cancel) and call recordings."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from redis.exceptions import RedisError
from wtforms import FloatField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from callcenter import floor
from callcenter.auth import role_required
from callcenter.exceptions import (
    CampaignMissing,
    ConsoleError,
    RecordingNotFound,
    RecordingUnavailable,
)
from callcenter.labels import words
from callcenter.language import ConsoleForm
from callcenter.views import forbidden, refuse
from callqueue import campaigns as campaign_runs
from core.database import write_transaction
from core.extensions import db, login_manager
from core.models import OperatorState, Role, utcnow
from core.models.attempts import CallAttempt
from core.models.campaigns import CampaignKind
from telephony import fetch_recording
from telephony.exceptions import PermanentTelephonyError, TelephonyError

floor_bp = Blueprint("floor", __name__, url_prefix="/console", template_folder="templates")

floor_bp.register_error_handler(ConsoleError, refuse)
floor_bp.register_error_handler(403, forbidden)

MAX_CAMPAIGN_RATE = 50.0
"""Calls per second a campaign may ask for from the console."""

MAX_DEMAND_DAYS = 3650

CAMPAIGNS_SHOWN = 50
"""The newest campaigns the page lists (and refreshes); older ones: ``flask campaign status``."""


@floor_bp.before_request
def require_login() -> Any:
    """Send anyone not logged in to the login page."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _refresh_seconds() -> int:
    return max(int(current_app.config["WALLBOARD_REFRESH_SECONDS"]), 2)


# --- the operator's own state ----------------------------------------------------------


class StateForm(ConsoleForm):
    """Ready for the next callback, or away."""

    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice(str(OperatorState.AVAILABLE), _l("Ready")),
            SelectChoice(str(OperatorState.AWAY), _l("Away")),
        ],
        validators=[DataRequired(message=_l("Choose Ready or Away."))],
    )


@floor_bp.post("/state")
def set_state() -> Response:
    """Mark oneself ready for the next callback (ending after-call work) or away."""
    form = StateForm()
    if not form.validate_on_submit():
        problems = "; ".join(str(m) for messages in form.errors.values() for m in messages)
        raise ConsoleError(_("Not changed: %(problems)s", problems=problems))
    state = OperatorState(form.state.data)
    session = db.session
    session.rollback()
    with write_transaction(session):
        floor.set_state(session, current_user.id, state, utcnow())
    flash(
        _("You are ready for the next callback.")
        if state is OperatorState.AVAILABLE
        else _("You are away: no callback is offered to you until you press Ready."),
        "info",
    )
    return redirect(url_for("console.queue_page"))


# --- the wallboard ---------------------------------------------------------------------


@floor_bp.get("/wallboard")
@role_required(Role.SUPERVISOR)
def wallboard() -> str:
    """Show the floor now: operators by state, the queue, calls today, the SLA; refreshing."""
    return render_template(
        "console/wallboard.html", board=floor.wallboard(db.session), refresh=_refresh_seconds()
    )


@floor_bp.get("/wallboard.json")
@role_required(Role.SUPERVISOR)
def wallboard_json() -> Response:
    """Return the wallboard's figures for the page to refresh itself."""
    board = floor.wallboard(db.session)
    for operator in board["operators"]:  # type: ignore[union-attr]
        held = operator["callback_id"]
        operator["callback_url"] = (
            url_for("console.callback_page", callback_id=held) if held else None
        )
    return jsonify(board)


# --- announcement campaigns -----------------------------------------------------------


class CampaignForm(ConsoleForm):
    """A new announcement campaign, as ``flask campaign create`` takes it."""

    kind = SelectField(
        _l("Announce"),
        choices=[
            SelectChoice(str(kind), words(kind, "campaign_kind"))
            for kind in (CampaignKind.OVERDUE_BILLS, CampaignKind.UNPAID_DEMAND)
        ],
        validators=[DataRequired(message=_l("Choose what the campaign announces."))],
    )
    name = StringField(
        _l("Name (optional)"),
        validators=[Optional(), Length(max=80, message=_l("A name has at most 80 characters."))],
    )
    days = IntegerField(
        _l("Demand note older than (days)"),
        default=campaign_runs.DEFAULT_DEMAND_DAYS,
        validators=[
            Optional(),
            NumberRange(
                0, MAX_DEMAND_DAYS, message=_l("Days run from 0 to %(max)s.", max=MAX_DEMAND_DAYS)
            ),
        ],
    )
    rate = FloatField(
        _l("Calls per second (optional)"),
        validators=[
            Optional(),
            NumberRange(
                min=0.01,
                max=MAX_CAMPAIGN_RATE,
                message=_l(
                    "The rate runs from 0.01 to %(max)s calls a second.",
                    max=f"{MAX_CAMPAIGN_RATE:g}",
                ),
            ),
        ],
    )


def _campaign_rows() -> list[dict[str, object]]:
    rows = []
    for campaign_id in campaign_runs.campaign_ids()[:CAMPAIGNS_SHOWN]:
        progress = campaign_runs.campaign_progress(campaign_id)
        rows.append({**progress, "state": campaign_runs.campaign_state(progress)})
    return rows


def _campaigns_page(form: CampaignForm, error: str | None = None, status: int = 200) -> Any:
    page = render_template(
        "console/campaigns.html",
        campaigns=_campaign_rows(),
        statuses=[str(status) for status in campaign_runs.PROGRESS_STATUSES],
        form=form,
        error=error,
        refresh=_refresh_seconds(),
    )
    return page, status


@floor_bp.get("/campaigns")
@role_required(Role.SUPERVISOR)
def campaigns() -> Any:
    """Show announcement campaigns, newest first, with how far each has got."""
    return _campaigns_page(CampaignForm())


@floor_bp.get("/campaigns.json")
@role_required(Role.SUPERVISOR)
def campaigns_json() -> Response:
    """Return every campaign's progress for the page to refresh itself."""
    rows = _campaign_rows()
    for row in rows:
        row.pop("created_at", None)
        row["state_label"] = str(words(row["state"], "campaign_state"))
    return jsonify(campaigns=rows)


@floor_bp.post("/campaigns")
@role_required(Role.SUPERVISOR)
def create_campaign() -> Any:
    """Choose the consumers, record the campaign and schedule its calls."""
    form = CampaignForm()
    if not form.validate_on_submit():
        problems = "; ".join(str(m) for messages in form.errors.values() for m in messages)
        return _campaigns_page(
            form, _("The campaign was not created: %(problems)s", problems=problems), 400
        )
    days = campaign_runs.DEFAULT_DEMAND_DAYS if form.days.data is None else form.days.data
    try:
        created = campaign_runs.create_campaign(
            CampaignKind(form.kind.data),
            name=(form.name.data or "").strip() or None,
            rate=form.rate.data,
            days=days,
        )
    except campaign_runs.CampaignError as exc:
        return _campaigns_page(
            form, _("The campaign was not created: %(problems)s", problems=exc), 400
        )
    if not created.new:
        flash(
            _("A campaign named “%(name)s” exists already; nothing was added.", name=created.name),
            "info",
        )
        return redirect(url_for("floor.campaigns"))
    flash(
        ngettext(
            "Campaign “%(name)s”: %(num)d number to call.",
            "Campaign “%(name)s”: %(num)d numbers to call.",
            created.calls,
            name=created.name,
        ),
        "info",
    )
    if created.calls:
        _schedule(created.id)
    return redirect(url_for("floor.campaigns"))


def _schedule(campaign_id: int) -> None:
    try:
        campaign_runs.schedule_calls(campaign_id)
    except RedisError:
        flash(
            _(
                "The queue server is unreachable: the calls are recorded and go out once it is "
                "back (press Resume, or wait for the sweep)."
            ),
            "error",
        )


CAMPAIGN_ACTIONS = {
    "pause": (
        campaign_runs.pause_campaign,
        lambda n: ngettext(
            "paused: %(num)d waiting call held back", "paused: %(num)d waiting calls held back", n
        ),
    ),
    "resume": (
        campaign_runs.resume_campaign,
        lambda n: ngettext(
            "resumed: %(num)d call paced from now", "resumed: %(num)d calls paced from now", n
        ),
    ),
    "cancel": (
        campaign_runs.cancel_campaign,
        lambda n: ngettext(
            "cancelled: %(num)d call will not be placed",
            "cancelled: %(num)d calls will not be placed",
            n,
        ),
    ),
}


@floor_bp.post("/campaigns/<int:campaign_id>/<action>")
@role_required(Role.SUPERVISOR)
def campaign_action(campaign_id: int, action: str) -> Any:
    """Pause, resume or cancel a campaign."""
    if action not in CAMPAIGN_ACTIONS:
        raise ConsoleError(
            _("Campaigns can be paused, resumed or cancelled, not %(action)r.", action=action)
        )
    if not FlaskForm().validate_on_submit():
        raise ConsoleError(_("This form has expired; reload the page and try again."))
    run, done = CAMPAIGN_ACTIONS[action]
    try:
        moved = run(campaign_id)
    except campaign_runs.CampaignNotFound as exc:
        raise CampaignMissing(str(exc)) from exc
    except RedisError:
        flash(
            _(
                "Resumed, but the queue server is unreachable: the calls go out once it is back "
                "(the sweep schedules them)."
            ),
            "error",
        )
        return redirect(url_for("floor.campaigns"))
    flash(_("Campaign %(id)s %(done)s.", id=campaign_id, done=done(moved)), "info")
    return redirect(url_for("floor.campaigns"))


# --- call recordings -------------------------------------------------------------------


@floor_bp.get("/recordings/<int:attempt_id>")
@role_required(Role.SUPERVISOR)
def recording(attempt_id: int) -> Response:
    """Play a call's recording, fetched from the provider with its credentials."""
    attempt = db.session.get(CallAttempt, attempt_id)
    if attempt is None or not attempt.recording_url:
        raise RecordingNotFound(_("Call %(id)s has no recording.", id=attempt_id))
    provider_name, url = attempt.provider, attempt.recording_url
    db.session.rollback()  # hold no connection while the audio streams
    try:
        media = fetch_recording(provider_name, url)
    except PermanentTelephonyError as exc:
        current_app.logger.warning("recording of call attempt %s: %s", attempt_id, exc)
        raise RecordingNotFound(
            _("The provider does not hand over this recording (it refused, or no longer has it).")
        ) from exc
    except TelephonyError as exc:
        current_app.logger.warning("recording of call attempt %s: %s", attempt_id, exc)
        raise RecordingUnavailable(
            _("The provider did not answer for this recording; try again in a minute.")
        ) from exc
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if media.length is not None:
        headers["Content-Length"] = str(media.length)
    return Response(
        stream_with_context(media.chunks),
        content_type=media.content_type,
        headers=headers,
        direct_passthrough=True,
    )
