"""What an IVR caller can ask for that is written down: a callback, a fault report, an SMS."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from sqlalchemy import select

from callqueue.sms import insert_message, prepare_message, record_message
from core.config import settings
from core.database import RawCursor, write_in_group, write_transaction
from core.extensions import db
from core.models import MissedCallOutcome, utcnow
from core.models.consumers import SupplyFault
from core.phone import mask
from ivr.intake import callback_request, open_callback

log = logging.getLogger("sampark.ivr")

CALLBACK_ACK_TEMPLATE = "ivr_callback_ack"
BILL_TEMPLATE = "ivr_bill"
BILL_NO_DUES_TEMPLATE = "ivr_bill_no_dues"
APPLICATION_TEMPLATE = "ivr_application"
APPLICATION_DEMAND_TEMPLATE = "ivr_application_demand"
FAULT_TEMPLATE = "ivr_fault_recorded"

FAULT_REFERENCE_BASE = 1_000_000
"""Fault references are this plus the record's id: seven digits, read one by one."""


@dataclass(frozen=True)
class FaultReport:
    """A recorded fault and whether this call recorded it (or found it open already)."""

    reference: str
    new: bool


def request_callback(phone: str, language: str) -> MissedCallOutcome:
    """Open or join the caller's callback, as a missed call does; acknowledge a new one by SMS."""
    now = utcnow()
    callback = callback_request(phone, language, now)
    message = prepare_message(key=CALLBACK_ACK_TEMPLATE, to=phone, language=language)

    def write(cursor: RawCursor) -> MissedCallOutcome:
        outcome, callback_id, opened = open_callback(cursor, callback)
        if opened:
            insert_message(cursor, message, callback_id=callback_id)
        return outcome

    outcome = write_in_group(db.engine, write)
    log.info("IVR callback request from %s: %s", mask(phone), outcome)
    return outcome


def report_fault(
    phone: str | None, language: str, call_sid: str, account_id: int | None
) -> FaultReport:
    """Record a supply fault with a reference; SMS the reference to a caller we can reach."""
    repeat_hours = settings().IVR_FAULT_REPEAT_HOURS
    now = utcnow()
    db.session.rollback()  # end the read transaction: the write takes the writer's turn
    with write_transaction(db.session):
        if phone:
            # The same outage reported twice in one evening is one report.
            open_reference = db.session.scalar(
                select(SupplyFault.reference)
                .where(
                    SupplyFault.phone == phone,
                    SupplyFault.status == "open",
                    SupplyFault.reported_at >= now - timedelta(hours=repeat_hours),
                )
                .order_by(SupplyFault.reported_at.desc())
                .limit(1)
            )
            if open_reference:
                return FaultReport(open_reference, new=False)
        fault = SupplyFault(
            phone=phone or "",
            account_id=account_id,
            call_sid=call_sid,
            language=language,
            reported_at=now,
        )
        db.session.add(fault)
        db.session.flush()
        fault.reference = str(FAULT_REFERENCE_BASE + fault.id)
        if phone:
            record_message(
                db.session,
                key=FAULT_TEMPLATE,
                to=phone,
                language=language,
                values={"reference": fault.reference},
            )
        reference = fault.reference
    log.info("supply fault %s reported by %s", reference, mask(phone or "withheld"))
    return FaultReport(reference, new=True)


def send_info_sms(phone: str, language: str, key: str, values: dict[str, Any]) -> None:
    """Record an SMS of what the caller just heard; the relay sends it."""
    db.session.rollback()  # end the read transaction: the write takes the writer's turn
    with write_transaction(db.session):
        record_message(db.session, key=key, to=phone, language=language, values=values)


def rupees(amount: Decimal | None) -> str:
    """Format an amount as Indians write it in an SMS: ₹1,20,304.50."""
    return format_currency(amount or Decimal(0), "INR", locale="en_IN")


def sms_date(day: date | None) -> str:
    """Format a date for an SMS: 15-12-2026."""
    return day.strftime("%d-%m-%Y") if day else "-"
