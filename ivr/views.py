"""Webhook routes. One route per call step; each checks the provider's signature first."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy import update

from callqueue.calls import record_bridge_leg, record_call_status
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, utcnow
from ivr.intake import record_missed_call
from ivr.sms_keywords import take_reply
from telephony.inbound import (
    call_report,
    inbound_call,
    incoming_sms,
    message_status,
    reject_call,
    sms_taken,
    webhook,
)

log = logging.getLogger("sampark.ivr")

ivr_bp = Blueprint("ivr", __name__, url_prefix="/ivr")
sms_bp = Blueprint("sms", __name__, url_prefix="/sms")

# Delivery reports we act on, and what they make of a message.
_DELIVERY_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
}


@ivr_bp.route("/missed-call", methods=["GET", "POST"])
@webhook
def missed_call() -> Response:
    """Reject the call at once, so it costs the caller nothing, and record it."""
    call = inbound_call()
    if call.call_sid:
        record_missed_call(call)
    else:
        log.warning("missed-call webhook without a call id: nothing to record")
    return reject_call()


@ivr_bp.post("/call-status")
@webhook
def call_status() -> Response:
    """Record a status callback of a call we placed on its attempt; unknown calls are ignored."""
    call, report = inbound_call(), call_report()
    # The attempt the URL names settles a call whose id its attempt never heard.
    attempt_id = request.args.get("attempt_id", type=int)
    if call.call_sid and report.dial_status:
        # A provider that bridges calls itself reports the consumer's leg here.
        record_bridge_leg(
            call.call_sid,
            report.dial_status,
            attempt_id=attempt_id,
            duration=report.dial_duration,
            recording_url=report.recording_url,
        )
    if call.call_sid and call.status:
        known = record_call_status(
            call.call_sid,
            call.status,
            attempt_id=attempt_id,
            duration=report.call_duration,
            recording_url=report.recording_url,
        )
        if not known:
            log.info("status callback for a call we did not place: %s", call.status)
    return Response(status=204)


@sms_bp.post("/status")
@webhook
def sms_status() -> Response:
    """Record an SMS delivery report; unknown messages and statuses are ignored."""
    report = message_status()
    status = _DELIVERY_STATUSES.get(report.status)
    if report.message_sid and status is not None:
        values: dict[str, object] = {"status": status}
        if status is MessageStatus.DELIVERED:
            values["delivered_at"] = utcnow()
        if report.error_code:
            values["error"] = f"provider error {report.error_code}"
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.provider_sid == report.message_sid)
            # A late "sent" must not undo "delivered": reports can arrive out of order.
            .where(OutboundMessage.status.not_in(_final_after(status)))
            .values(**values)
        )
        db.session.commit()
    return Response(status=204)


@sms_bp.route("/inbound", methods=["GET", "POST"])
@webhook
def sms_inbound() -> Response:
    """Act on a consumer's SMS (a callback slot keyword); any reply goes through the outbox."""
    take_reply(incoming_sms())
    return sms_taken()


def _final_after(status: MessageStatus) -> tuple[MessageStatus, ...]:
    if status is MessageStatus.SENT:
        return (MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED)
    return ()
