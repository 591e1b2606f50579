"""Campaign calls we place: announce the amount due, offer a repeat and a callback.

``callqueue.campaigns.place_campaign_call`` rings the consumer with answering-machine
detection. ``answer`` hears who picked up: a machine gets a short message and the call
ends; a person hears the bill's or the demand note's amount in the account's language,
then 1 repeats it, 2 asks for a callback (the same queue a missed call joins) and anything
else ends the call. ``status`` records how the call ended, and busy or unanswered numbers
are called again later.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, url_for

from callqueue.campaigns import (
    current_call,
    mark_answered,
    mark_callback_requested,
    record_call_result,
)
from core.config import settings
from core.extensions import db
from core.models import MissedCallOutcome
from core.models.applications import Application, ApplicationStatus
from core.models.campaigns import CampaignCall, CampaignCallStatus
from ivr import actions
from ivr.accounts import bill_for_caller
from ivr.voice import speak
from telephony.inbound import call_report, call_script, inbound_call, webhook
from telephony.script import Speech
from voice_prompts.languages import LANGUAGES

log = logging.getLogger("sampark.ivr")

announce_bp = Blueprint("announce", __name__, url_prefix="/ivr/announce")


REPEAT, CALLBACK = "1", "2"

DEFAULT_LANGUAGE = "hi"


def _language(call: CampaignCall) -> str:
    return call.language if call.language in LANGUAGES else DEFAULT_LANGUAGE


def _announce(target: Speech, call: CampaignCall, lang: str) -> None:
    """Say what the consumer owes, read afresh: a bill paid since is not announced as due."""
    if call.account_id is not None:
        status = bill_for_caller(call.account_id, call.phone)
        if status is None or status.amount_due is None:
            speak(target, "bill_no_dues", lang)
            return
        speak(target, "bill_amount_due", lang, amount=status.amount_due)
        speak(target, "bill_due_date", lang, due_date=status.due_date)
        speak(target, "bill_amount_after_due_date", lang, amount=status.amount_after_due)
        return
    application = (
        db.session.get(Application, call.application_id)
        if call.application_id is not None
        else None
    )
    if application is None or application.status != ApplicationStatus.DEMAND_ISSUED:
        speak(target, "application_paid", lang)
        return
    speak(target, "application_demand_note_issued", lang, amount=application.demand_total)
    speak(target, "application_next_pay", lang)


def _announcement(call: CampaignCall, *, intro: bool) -> Response:
    lang = _language(call)
    action = url_for("announce.choice", call_id=call.id)
    script = call_script()
    gather = script.gather(
        action,
        timeout=settings().IVR_GATHER_TIMEOUT,
        max_keys=1,
    )
    # Nothing pressed: the gather falls through and the choice hears no keys.
    script.redirect(action)
    if intro:
        speak(gather, "campaign_intro", lang)
    _announce(gather, call, lang)
    speak(gather, "campaign_options", lang)
    return script.response()


def _hang_up(*keys: str, lang: str = DEFAULT_LANGUAGE) -> Response:
    script = call_script()
    for key in keys:
        speak(script, key, lang)
    script.hangup()
    return script.response()


# ------------------------------------------------------------------ webhooks


@announce_bp.post("/<int:call_id>")
@webhook
def answer(call_id: int) -> Response:
    """Leave a machine a short message; announce the amount to a person."""
    answered_by = call_report().answered_by
    call = mark_answered(call_id, inbound_call().call_sid, answered_by)
    if call is None:
        return _hang_up()
    if call.status == CampaignCallStatus.MACHINE:
        log.info("campaign call %s: %s answered", call_id, answered_by)
        return _hang_up("campaign_machine", lang=_language(call))
    return _announcement(call, intro=True)


@announce_bp.post("/<int:call_id>/choice")
@webhook
def choice(call_id: int) -> Response:
    """Follow the consumer's key: 1 repeats, 2 asks for a callback, anything else ends."""
    call = current_call(call_id)
    if call is None:
        return _hang_up()
    lang = _language(call)
    keys = call_report().keys.strip()
    if keys == REPEAT:
        return _announcement(call, intro=False)
    if keys == CALLBACK:
        outcome = actions.request_callback(call.phone, lang)
        if outcome in (MissedCallOutcome.QUEUED, MissedCallOutcome.MERGED):
            mark_callback_requested(call_id)
            return _hang_up("callback_registered", "campaign_goodbye", lang=lang)
        return _hang_up("callback_not_registered", "campaign_goodbye", lang=lang)
    return _hang_up("campaign_goodbye", lang=lang)


@announce_bp.post("/<int:call_id>/status")
@webhook
def status(call_id: int) -> Response:
    """Record how a campaign call ended; a busy or unanswered number is called again later."""
    call = inbound_call()
    record_call_result(call_id, call.call_sid, call.status)
    return Response("", 204)
