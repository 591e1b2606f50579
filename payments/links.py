"""Payment links: recorded with the demand note, made by a job, sent in the demand SMS.

Submitting an application never waits for the gateway. With the gateway configured, the
submit records a pending ``PaymentLink`` in its own transaction and no SMS; the sweep hands
the link to RQ (as the relay hands SMS), and the job asks the gateway for the link and
records the demand SMS carrying its short URL. A gateway that is down or slow delays that
SMS by the job's retries (``PAYMENT_LINK_MAX_ATTEMPTS``, ``PAYMENT_LINK_RETRY_BACKOFF``);
after the last one the SMS goes out saying where to pay instead. Without the gateway the
submit records the demand SMS at once, saying where to pay.

A link is made once per application: the application number is the link's reference, the
gateway refuses a second link with the same reference, and a job that meets that refusal
(an earlier try made the link, its answer was lost) fetches the link by its reference.
The SMS is recorded by whichever run moves the link out of ``pending``, so once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from rq import Retry
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from callqueue.context import app_job
from callqueue.queues import MAINTENANCE_QUEUE, enqueue
from callqueue.sms import record_message
from core.config import split_list
from core.database import write_transaction
from core.extensions import db
from core.models import utcnow
from core.models.applications import Application
from core.models.payments import LinkStatus, PaymentLink
from core.phone import mask
from forms import get_service
from payments import gateway
from payments.exceptions import GatewayError, PermanentGatewayError, TransientGatewayError
from voice_prompts.spoken import amount_text

log = logging.getLogger("sampark.payments")

SMS_DEMAND_WITH_LINK = "application_demand_link"
"""SMS template: application number, demand amount and the payment link."""

SMS_DEMAND_WHERE_TO_PAY = "application_demand_note"
"""SMS template: application number, demand amount and where to pay (no link)."""

RELAY_BATCH = 100
"""Links handed to RQ per sweep."""

PAISE_PER_RUPEE = 100


def where_to_pay(language: str) -> str:
    """Return the configured text saying where to pay, in ``language``."""
    config = current_app.config
    if language == "hi" and config["PAYMENT_WHERE_TO_PAY_HI"]:
        return str(config["PAYMENT_WHERE_TO_PAY_HI"])
    return str(config["PAYMENT_WHERE_TO_PAY"])


def plan_payment_link(session: Session, application: Application) -> PaymentLink | None:
    """Record the pending link of a demand note in the caller's transaction.

    Returns None when no link is to be made (no gateway configured, no demand): the
    caller then records the demand SMS itself, with ``record_demand_sms``.
    """
    if not gateway.gateway_configured() or application.demand_total is None:
        return None
    link = PaymentLink(
        application_id=application.id,
        reference_id=str(application.number),
        amount=Decimal(application.demand_total),
        status=LinkStatus.PENDING,
        attempts=0,
    )
    session.add(link)
    session.flush()
    return link


def record_demand_sms(session: Session, application: Application, link_url: str | None) -> None:
    """Record the demand SMS: with the link when there is one, else where to pay."""
    to = (application.data or {}).get("mobile") or application.phone
    if not to or application.demand_total is None:
        return
    language = application.language
    spec = get_service(application.service)
    values = {
        "number": application.number,
        "service_hi": spec.name_hi,
        "service_en": spec.name_en,
        "amount": amount_text(Decimal(application.demand_total), language),
    }
    if link_url:
        values["link"] = link_url
        key = SMS_DEMAND_WITH_LINK
    else:
        values["where_to_pay"] = where_to_pay(language)
        key = SMS_DEMAND_WHERE_TO_PAY
    record_message(session, key=key, to=to, language=language, values=values)


# ---------------------------------------------------------------- the sweep's part


def relay_links(limit: int = RELAY_BATCH) -> int:
    """Hand pending links to RQ: new ones, and those whose job Redis may have lost."""
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    session = db.session
    with write_transaction(session):
        ids = list(
            session.scalars(
                select(PaymentLink.id)
                .where(
                    PaymentLink.status == LinkStatus.PENDING,
                    or_(PaymentLink.job_queued_at.is_(None), PaymentLink.job_queued_at < stale),
                )
                .order_by(PaymentLink.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(PaymentLink).where(PaymentLink.id.in_(ids)).values(job_queued_at=now)
            )
    for link_id in ids:
        # False while Redis is down: the link waits, and a later sweep hands it over again.
        enqueue(
            MAINTENANCE_QUEUE,
            create_payment_link,
            link_id,
            job_id=f"payment-link-{link_id}",
            retry=_retry(),
        )
    return len(ids)


def _backoff() -> list[int]:
    waits = [int(item) for item in split_list(current_app.config["PAYMENT_LINK_RETRY_BACKOFF"])]
    retries = max(current_app.config["PAYMENT_LINK_MAX_ATTEMPTS"] - 1, 0)
    return [waits[min(i, len(waits) - 1)] for i in range(retries)] if waits else [30] * retries


def _retry() -> Retry | None:
    waits = _backoff()
    return Retry(max=len(waits), interval=waits) if waits else None


# ---------------------------------------------------------------- the job


@app_job
def create_payment_link(link_id: int) -> str:
    """Ask the gateway for a pending link and record the demand SMS; safe to run twice."""
    session = db.session
    link = session.get(PaymentLink, link_id)
    if link is None or link.status != LinkStatus.PENDING:
        return "not pending (made already, given up, or gone)"
    application = session.get(Application, link.application_id)
    if application is None:
        return "application gone"
    link.attempts += 1
    # Redis holds this job (a retry, or running now): the sweep need not hand it over again.
    link.job_queued_at = utcnow()
    session.commit()
    expire_by = utcnow() + timedelta(hours=current_app.config["PAYMENT_LINK_EXPIRY_HOURS"])
    try:
        receipt = _make_or_find(link, application, int(expire_by.timestamp()))
    except TransientGatewayError as exc:
        if link.attempts >= current_app.config["PAYMENT_LINK_MAX_ATTEMPTS"]:
            return _give_up(link, application, exc)
        link.error = str(exc)[:300]
        session.commit()
        log.warning("payment link %s will be tried again: %s", link.reference_id, exc)
        raise
    except PermanentGatewayError as exc:
        return _give_up(link, application, exc)
    claimed = session.execute(
        update(PaymentLink)
        .where(PaymentLink.id == link_id, PaymentLink.status == LinkStatus.PENDING)
        .values(
            status=LinkStatus.CREATED,
            gateway_link_id=receipt.id,
            short_url=receipt.short_url,
            expire_by=expire_by,
            error=None,
        )
    ).rowcount
    if claimed:
        record_demand_sms(session, application, receipt.short_url)
    session.commit()
    if not claimed:
        return "made by another run"
    log.info("payment link %s made for %s", link.reference_id, mask(application.phone))
    return "created"


def _make_or_find(link: PaymentLink, application: Application, expire_by: int):
    spec = get_service(application.service)
    contact = (application.data or {}).get("mobile") or application.phone
    try:
        return gateway.create_link(
            amount_paise=int(Decimal(link.amount) * PAISE_PER_RUPEE),
            reference_id=link.reference_id,
            expire_by=expire_by,
            description=f"{spec.name_en} {application.number}",
            contact=contact,
            name=str((application.data or {}).get("applicant_name") or "")[:100],
            notes={"application_number": str(application.number), "service": spec.code},
        )
    except PermanentGatewayError:
        # A reference the gateway knows already: an earlier try made the link.
        found = gateway.find_link(link.reference_id)
        if found is None:
            raise
        return found


def _give_up(link: PaymentLink, application: Application, exc: GatewayError) -> str:
    session = db.session
    claimed = session.execute(
        update(PaymentLink)
        .where(PaymentLink.id == link.id, PaymentLink.status == LinkStatus.PENDING)
        .values(status=LinkStatus.UNAVAILABLE, error=str(exc)[:300])
    ).rowcount
    if claimed:
        record_demand_sms(session, application, None)
    session.commit()
    log.error("payment link %s not made, SMS says where to pay: %s", link.reference_id, exc)
    return "unavailable"
