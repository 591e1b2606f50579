"""Webhook routes. One route per call step; each checks the provider's signature first."""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from sqlalchemy import update

from callqueue.calls import record_call_status
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, utcnow
from ivr.intake import record_missed_call
from telephony.inbound import CallReport, InboundCall, MessageStatusReport, twilio_webhook
from telephony.twiml import reject_busy

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


@ivr_bp.post("/missed-call")
@twilio_webhook
def missed_call() -> Response:
    """Reject the call at once, so it costs the caller nothing, and record it."""
    call = InboundCall.from_request()
    if call.call_sid:
        record_missed_call(call)
    else:
        log.warning("missed-call webhook without a CallSid: nothing to record")
    return reject_busy()


@ivr_bp.post("/call-status")
@twilio_webhook
def call_status() -> Response:
    """Record a status callback of a call we placed on its attempt; unknown calls are ignored."""
    call, report = InboundCall.from_request(), CallReport.from_request()
    if call.call_sid and call.status:
        known = record_call_status(
            call.call_sid,
            call.status.lower(),
            duration=report.call_duration,
            recording_url=report.recording_url,
        )
        if not known:
            log.info("status callback for a call we did not place: %s", call.status)
    return Response(status=204)


@sms_bp.post("/status")
@twilio_webhook
def sms_status() -> Response:
    """Record an SMS delivery report; unknown messages and statuses are ignored."""
    report = MessageStatusReport.from_request()
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


def _final_after(status: MessageStatus) -> tuple[MessageStatus, ...]:
    if status is MessageStatus.SENT:
        return (MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED)
    return ()
