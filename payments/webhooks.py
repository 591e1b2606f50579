"""The two doors payments come in by: the gateway's webhook and the postings of billers.

``POST /payments/razorpay``: Razorpay's webhook, signed (``X-Razorpay-Signature``, hex
HMAC-SHA256 of the raw body with the webhook secret), delivered at least once and retried
for a day; each event id (``X-Razorpay-Event-Id``) is acted on once. The request only
records: the payment, the application's new status, its SMS, the event id. Signals go after
the commit; their receivers queue any slower work.

``POST /payments/posting``: BBPS billers, cash counters, e-Mitra kiosks. JSON
``{"reference", "amount", "channel", "transaction_id", "paid_at"}``, signed with
``X-Sampark-Signature`` = hex HMAC-SHA256 over ``<X-Sampark-Timestamp>.<raw body>`` with
``POSTING_SHARED_SECRET``; the timestamp (Unix seconds) must be within
``POSTING_MAX_SKEW_SECONDS`` of ours, and the signature covers it, so a request captured
and sent again later is refused; inside the window a resend is a duplicate transaction id.

Both answer 2xx once recorded (again for a duplicate), 4xx with a JSON ``error`` for what
they refuse, never 5xx for anything a sender can put in a request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from core.database import write_transaction
from core.extensions import db
from core.models import utcnow
from core.models.payments import LinkStatus, PaymentEvent, PaymentLink
from payments import gateway
from payments.exceptions import RefusedRequest, UnknownReferenceError
from payments.ledger import MAX_AMOUNT, Receipt, Recorded, announce, mark_paid

log = logging.getLogger("sampark.payments")

payments_bp = Blueprint("payments", __name__, url_prefix="/payments")

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
POSTING_SIGNATURE_HEADER = "X-Sampark-Signature"
POSTING_TIMESTAMP_HEADER = "X-Sampark-Timestamp"

PAID = "payment_link.paid"
PARTIALLY_PAID = "payment_link.partially_paid"
EXPIRED = "payment_link.expired"
PAYMENT_EVENTS = (PAID, PARTIALLY_PAID)

CHANNELS = ("bbps", "cash", "kiosk")
"""Who posts payments to the second door."""

MAX_ID_LENGTH = 64
MAX_REFERENCE_LENGTH = 40
MAX_PAISE = int(MAX_AMOUNT * 100)
EARLIEST_YEAR = 2000
"""A payment time before this is a mistake, not a payment."""


@payments_bp.errorhandler(RefusedRequest)
def _refused(error: RefusedRequest) -> tuple[Response, int]:
    log.info("payment request refused (%s): %s", error.status, error.message)
    return jsonify(error=error.message), error.status


# ---------------------------------------------------------------- the gateway


@dataclass(frozen=True)
class GatewayEvent:
    """What a payment-link event says, read and checked."""

    name: str
    link_id: str
    reference: str
    link_amount_paid: int
    payment_id: str | None
    payment_amount: int | None
    paid_at: datetime


@payments_bp.post("/razorpay")
def razorpay_webhook() -> tuple[Response, int]:
    """Record a payment-link event from the gateway, once per event id."""
    secret = current_app.config["RAZORPAY_WEBHOOK_SECRET"]
    if not secret:
        raise RefusedRequest(404, "the payment gateway is not configured")
    body = request.get_data(cache=False)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise RefusedRequest(400, f"missing {SIGNATURE_HEADER}")
    if not gateway.signature_valid(body, signature, secret):
        raise RefusedRequest(403, "the signature does not match the body")
    event_id = request.headers.get(EVENT_ID_HEADER, "").strip()
    if not event_id or len(event_id) > MAX_ID_LENGTH:
        raise RefusedRequest(400, f"missing or overlong {EVENT_ID_HEADER}")
    payload = _json_object(body)
    name = payload.get("event")
    if not isinstance(name, str):
        raise RefusedRequest(400, "no event name")
    if name not in (*PAYMENT_EVENTS, EXPIRED):
        _remember_event(event_id, name[:40], None)
        return jsonify(status="ignored", event=name[:40]), 200
    event = _read_event(name, payload)
    recorded = _record_gateway_event(event_id, event)
    if recorded is None:
        return jsonify(status="duplicate"), 200
    announce(recorded)
    return jsonify(_answer(recorded)), 200


def _record_gateway_event(event_id: str, event: GatewayEvent) -> Recorded | None:
    """Apply the event in one transaction; None when its id was handled before."""
    session = db.session
    try:
        with write_transaction(session):
            if _seen(event_id):
                return None
            recorded = Recorded(None, "link_" + event.name.rsplit(".", 1)[1])
            if event.name in PAYMENT_EVENTS:
                assert event.payment_id is not None and event.payment_amount is not None
                recorded = mark_paid(
                    session,
                    Receipt(
                        source=gateway.GATEWAY,
                        channel=gateway.GATEWAY,
                        external_id=event.payment_id,
                        reference=event.reference,
                        amount=Decimal(event.payment_amount) / 100,
                        paid_at=event.paid_at,
                        gateway_link_id=event.link_id,
                        link_amount_paid=Decimal(event.link_amount_paid) / 100,
                    ),
                )
            _update_link(event)
            session.add(
                PaymentEvent(
                    source=gateway.GATEWAY,
                    event_id=event_id,
                    event=event.name,
                    payment_id=recorded.payment_id,
                )
            )
    except IntegrityError:
        # The same event (or payment) recorded meanwhile by another delivery.
        return None
    return recorded


def _seen(event_id: str) -> bool:
    return (
        db.session.scalar(
            select(PaymentEvent.id).where(
                PaymentEvent.source == gateway.GATEWAY, PaymentEvent.event_id == event_id
            )
        )
        is not None
    )


def _remember_event(event_id: str, name: str, payment_id: int | None) -> None:
    try:
        with write_transaction(db.session):
            if not _seen(event_id):
                db.session.add(
                    PaymentEvent(
                        source=gateway.GATEWAY, event_id=event_id, event=name, payment_id=payment_id
                    )
                )
    except IntegrityError:
        pass


def _update_link(event: GatewayEvent) -> None:
    status = {PAID: LinkStatus.PAID, PARTIALLY_PAID: LinkStatus.PARTIALLY_PAID}.get(
        event.name, LinkStatus.EXPIRED
    )
    # A paid link stays paid, whatever arrives after.
    db.session.execute(
        update(PaymentLink)
        .where(PaymentLink.gateway_link_id == event.link_id, PaymentLink.status != LinkStatus.PAID)
        .values(status=status, updated_at=utcnow())
    )


def _read_event(name: str, payload: dict[str, Any]) -> GatewayEvent:
    entities = payload.get("payload")
    if not isinstance(entities, dict):
        raise RefusedRequest(400, "no payload")
    link = _entity(entities, "payment_link")
    payment = _entity(entities, "payment") if name in PAYMENT_EVENTS else None
    return GatewayEvent(
        name=name,
        link_id=_text(link, "id", MAX_ID_LENGTH),
        reference=_text(link, "reference_id", MAX_REFERENCE_LENGTH),
        link_amount_paid=_paise(link, "amount_paid", allow_zero=True),
        payment_id=_text(payment, "id", MAX_ID_LENGTH) if payment else None,
        payment_amount=_paise(payment, "amount") if payment else None,
        paid_at=_unix_time(payment.get("created_at") if payment else payload.get("created_at")),
    )


def _entity(entities: dict[str, Any], name: str) -> dict[str, Any]:
    wrapper = entities.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    if not isinstance(entity, dict):
        raise RefusedRequest(400, f"no {name} entity")
    return entity


def _text(entity: dict[str, Any], key: str, longest: int) -> str:
    value = entity.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise RefusedRequest(400, f"{key} missing, empty or longer than {longest}")
    return value.strip()


def _paise(entity: dict[str, Any], key: str, *, allow_zero: bool = False) -> int:
    value = entity.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RefusedRequest(400, f"{key} is not a whole number of paise")
    if value < (0 if allow_zero else 1) or value > MAX_PAISE:
        raise RefusedRequest(400, f"{key} is out of range")
    return value


def _unix_time(value: Any) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**10:
        return datetime.fromtimestamp(value, UTC)
    return utcnow()


# ---------------------------------------------------------------- billers, counters, kiosks


@payments_bp.post("/posting")
def posting() -> tuple[Response, int]:
    """Record a payment posted by a BBPS biller, a cash counter or a kiosk."""
    secret = current_app.config["POSTING_SHARED_SECRET"]
    if not secret:
        raise RefusedRequest(404, "payment postings are not configured")
    body = request.get_data(cache=False)
    stamp = request.headers.get(POSTING_TIMESTAMP_HEADER, "").strip()
    signature = request.headers.get(POSTING_SIGNATURE_HEADER, "").strip()
    if not stamp or not signature:
        raise RefusedRequest(
            400, f"missing {POSTING_TIMESTAMP_HEADER} or {POSTING_SIGNATURE_HEADER}"
        )
    expected = posting_signature(secret, stamp, body)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace")):
        raise RefusedRequest(403, "the signature does not match the timestamp and body")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise RefusedRequest(400, f"{POSTING_TIMESTAMP_HEADER} is not Unix seconds")
    if abs(time.time() - int(stamp)) > current_app.config["POSTING_MAX_SKEW_SECONDS"]:
        raise RefusedRequest(403, "the timestamp is outside the allowed window (a replay?)")
    receipt = _read_posting(_json_object(body))
    try:
        with write_transaction(db.session):
            recorded = mark_paid(db.session, receipt, unknown_is_error=True)
    except UnknownReferenceError as exc:
        raise RefusedRequest(404, str(exc)) from exc
    except IntegrityError:
        return jsonify(status="duplicate"), 200
    announce(recorded)
    return jsonify(_answer(recorded)), 200


def posting_signature(secret: str, stamp: str, body: bytes) -> str:
    """Return the ``X-Sampark-Signature`` of a posting: HMAC-SHA256 of ``stamp.body``."""
    message = stamp.encode("utf-8", "replace") + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _read_posting(data: dict[str, Any]) -> Receipt:
    channel = data.get("channel")
    if channel not in CHANNELS:
        raise RefusedRequest(400, f"channel must be one of {', '.join(CHANNELS)}")
    return Receipt(
        source=str(channel),
        channel=str(channel),
        external_id=_text(data, "transaction_id", MAX_ID_LENGTH),
        reference=_text(data, "reference", MAX_REFERENCE_LENGTH),
        amount=_rupees(data.get("amount")),
        paid_at=_paid_at(data.get("paid_at")),
    )


def _rupees(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RefusedRequest(400, "amount must be a number of rupees")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RefusedRequest(400, "amount must be a number of rupees") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise RefusedRequest(400, "amount is out of range")
    if amount != amount.quantize(Decimal("0.01")):
        raise RefusedRequest(400, "amount has fractions of a paisa")
    return amount.quantize(Decimal("0.01"))


def _paid_at(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise RefusedRequest(400, "paid_at must be an ISO 8601 time with its offset")
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise RefusedRequest(400, "paid_at needs its offset (e.g. +05:30)")
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise RefusedRequest(400, "paid_at must be an ISO 8601 time with its offset") from None
    if moment.year < EARLIEST_YEAR:
        raise RefusedRequest(400, "paid_at is too far in the past")
    if moment.timestamp() > time.time() + current_app.config["POSTING_MAX_SKEW_SECONDS"]:
        raise RefusedRequest(400, "paid_at is in the future")
    return moment


# ---------------------------------------------------------------- both


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise RefusedRequest(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise RefusedRequest(400, "the body is not a JSON object")
    return data


def _answer(recorded: Recorded) -> dict[str, Any]:
    return {
        "status": "duplicate" if recorded.duplicate else "recorded",
        "payment_id": recorded.payment_id,
        "outcome": recorded.outcome,
        "flagged": recorded.flagged,
    }
