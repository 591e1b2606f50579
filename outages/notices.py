"""The SMS notices of an outage: one per outage and number, recorded in batches.

Every number linked to an account on the outage's feeder (or in its area) gets the notice
in the account's language. ``record_notices`` writes them ``OUTAGE_NOTICE_BATCH`` numbers to a
transaction, so a missed-call webhook waits behind one batch at most, never behind a
whole feeder (SQLite has one writer at a time). Each batch first claims its numbers in
``outage_notices`` (unique per outage, kind and number), then records SMS for the numbers
it claimed: recording twice, or two processes at once, sends nobody two notices.

An unplanned outage's notices are due at once; a planned one's from the next opening of
calling hours (``core.hours``): the relay (``callqueue.relay``) leaves an SMS in SQL until
its ``next_attempt_at``. Recording starts on an RQ job when the outage is saved and is
queued again by the sweeper (``requeue_pending_notices``) if Redis was down or a worker died.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from callqueue.context import app_job
from callqueue.queues import MAINTENANCE_QUEUE, enqueue, get_queue
from callqueue.sms import prepare_message, record_messages
from core.config import settings
from core.database import write_transaction
from core.extensions import db
from core.hours import calling_hours
from core.models import MessageStatus, OutboundMessage, utcnow
from core.models.consumers import ConsumerAccount, LinkedNumber
from core.models.outages import NoticeKind, Outage, OutageKind, OutageNotice, OutageState
from outages.spoken import reason_words, sms_time

log = logging.getLogger("sampark.outages")


TEMPLATES = {
    (NoticeKind.NOTICE, OutageKind.PLANNED): "outage_planned",
    (NoticeKind.NOTICE, OutageKind.UNPLANNED): "outage_unplanned",
    (NoticeKind.RESTORED, OutageKind.PLANNED): "outage_restored",
    (NoticeKind.RESTORED, OutageKind.UNPLANNED): "outage_restored",
}
"""The SMS template of each notice, by what it says and what kind of outage it is about."""

SENT_STATUSES = (
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNKNOWN,
)
"""A notice in one of these may have reached the consumer: they hear of the restoration."""


def batch_size() -> int:
    """Return the configured numbers per write transaction."""
    return max(settings().OUTAGE_NOTICE_BATCH, 1)


def job_id(outage_id: int, kind: str) -> str:
    """Return the RQ job id that records an outage's notices of ``kind``."""
    return f"outage-{outage_id}-{kind}"


def start_recording(outage_id: int, kind: NoticeKind = NoticeKind.NOTICE) -> bool:
    """Queue the job that records the notices; False when Redis is down (the sweep does it)."""
    return enqueue(
        MAINTENANCE_QUEUE, record_notices_job, outage_id, str(kind), job_id=job_id(outage_id, kind)
    )


@app_job
def record_notices_job(outage_id: int, kind: str) -> int:
    """Record an outage's notices (an RQ job; safe to run twice)."""
    return record_notices(outage_id, NoticeKind(kind))


def consumers_there(outage: Outage) -> list[tuple[str, str]]:
    """Return (number, language) for each number linked to an account where the outage is."""
    where = (
        ConsumerAccount.feeder == outage.feeder
        if outage.feeder
        else ConsumerAccount.area == outage.area
    )
    rows = db.session.execute(
        select(LinkedNumber.phone, ConsumerAccount.language)
        .join(ConsumerAccount, ConsumerAccount.id == LinkedNumber.account_id)
        .where(where)
        .order_by(LinkedNumber.phone, ConsumerAccount.account_number)
    ).all()
    chosen: dict[str, str] = {}
    for phone, language in rows:
        # A number on two accounts there hears once, in the first account's language.
        chosen.setdefault(phone, language)
    return list(chosen.items())


def _told(outage_id: int) -> list[tuple[str, str]]:
    """Return (number, language) of those whose notice may have reached them."""
    rows = db.session.execute(
        select(OutageNotice.phone, OutboundMessage.language)
        .join(OutboundMessage, OutboundMessage.id == OutageNotice.message_id)
        .where(
            OutageNotice.outage_id == outage_id,
            OutageNotice.kind == NoticeKind.NOTICE,
            OutboundMessage.status.in_(SENT_STATUSES),
        )
        .order_by(OutageNotice.phone)
    ).all()
    return [(row.phone, row.language) for row in rows]


def record_notices(
    outage_id: int,
    kind: NoticeKind = NoticeKind.NOTICE,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Record the notices of ``kind`` not recorded yet, in batches; return how many were new."""
    session = db.session
    outage = session.get(Outage, outage_id)
    if outage is None:
        session.rollback()
        return 0
    done_column = (
        "notices_recorded_at" if kind is NoticeKind.NOTICE else "restored_notices_recorded_at"
    )
    wanted_state = OutageState.ANNOUNCED if kind is NoticeKind.NOTICE else OutageState.RESTORED
    if getattr(outage, done_column) is not None or outage.state != wanted_state:
        session.rollback()
        return 0
    targets = consumers_there(outage) if kind is NoticeKind.NOTICE else _told(outage_id)
    template = TEMPLATES[(kind, OutageKind(outage.kind))]
    values = _values(outage)
    not_before = _not_before(outage, kind)
    session.rollback()  # a read, done: nothing is held while the batches are written
    claim = _claim_numbers(session.get_bind().dialect.name)
    fallback = values.get(current_app.config["DEFAULT_LANGUAGE"], values["en"])
    recorded = 0
    size = batch_size()
    for first in range(0, len(targets), size):
        batch = targets[first : first + size]
        # Rendered before the transaction: the writer's turn (one at a time on SQLite) is
        # held for the SQL only, and a waiting webhook gets it between two batches.
        prepared = {
            phone: prepare_message(
                key=template, to=phone, language=language, values=values.get(language, fallback)
            )
            for phone, language in batch
        }
        now = utcnow()
        with write_transaction(session):
            claimed = session.execute(
                claim,
                [
                    {"outage_id": outage_id, "kind": str(kind), "phone": phone, "created_at": now}
                    for phone, _ in batch
                ],
            ).all()
            if claimed:
                message_ids = record_messages(
                    session, [prepared[row.phone] for row in claimed], not_before=not_before
                )
                notices = OutageNotice.__table__
                session.execute(
                    update(notices)
                    .where(notices.c.id == bindparam("notice_id"))
                    .values(message_id=bindparam("message_id")),
                    [
                        {"notice_id": row.id, "message_id": message_id}
                        for row, message_id in zip(claimed, message_ids, strict=True)
                    ],
                )
        recorded += len(claimed)
        if progress is not None:
            progress(len(batch))
    with write_transaction(session):
        session.execute(
            update(Outage)
            .where(Outage.id == outage_id, getattr(Outage, done_column).is_(None))
            .values({done_column: utcnow()})
        )
    log.info(
        "outage %s: %d %s SMS recorded for %d numbers", outage_id, recorded, kind, len(targets)
    )
    return recorded


def _claim_numbers(dialect: str) -> Insert:
    """Return the INSERT that claims numbers for notices, skipping those claimed already."""
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        dialect_insert(OutageNotice)
        .on_conflict_do_nothing(index_elements=["outage_id", "kind", "phone"])
        .returning(OutageNotice.id, OutageNotice.phone)
    )


def _values(outage: Outage) -> dict[str, dict[str, Any]]:
    zone = calling_hours().zone
    values = {}
    for lang in ("hi", "en"):
        if outage.feeder:
            place = f"फ़ीडर {outage.feeder}" if lang == "hi" else f"feeder {outage.feeder}"
        else:
            place = outage.area or ""
        values[lang] = {
            "place": place,
            "start": sms_time(outage.starts_at, zone, lang),
            "until": sms_time(outage.expected_restoration_at, zone, lang),
            "reason": reason_words(outage.reason_code, lang),
        }
    return values


def _not_before(outage: Outage, kind: NoticeKind) -> datetime:
    now = utcnow()
    if kind is NoticeKind.NOTICE and outage.kind == OutageKind.PLANNED:
        # Told ahead of time, and never at night: from the next opening of calling hours.
        return calling_hours().next_open(now)
    return now


def withdraw_unsent(outage_id: int) -> int:
    """Stop the outage's notices that have not gone yet (the caller's transaction); how many."""
    unsent = (
        select(OutageNotice.message_id)
        .where(OutageNotice.outage_id == outage_id, OutageNotice.message_id.is_not(None))
        .scalar_subquery()
    )
    return db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(unsent), OutboundMessage.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.FAILED, error="withdrawn: the outage ended before it went")
        .execution_options(synchronize_session=False)
    ).rowcount


PENDING_PER_SWEEP = 20
"""Outages looked at in one sweep; the next sweep takes the rest."""

_LIVE_JOB_STATUSES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
)


def requeue_pending_notices() -> dict[str, int]:
    """Queue again the recording of notices whose job Redis lost or a dead worker left (sweep).

    The sweeper only queues: recording a lakh of notices itself would hold up the relay.
    An outage is looked at once a reconciliation period has passed since it was recorded
    (or closed), and only when its job is not waiting or running.
    """
    grace = timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    before = utcnow() - grace
    rows = db.session.execute(
        select(Outage.id, Outage.state)
        .where(
            (
                (Outage.state == OutageState.ANNOUNCED)
                & Outage.notices_recorded_at.is_(None)
                & (Outage.created_at <= before)
            )
            | (
                (Outage.state == OutageState.RESTORED)
                & Outage.restored_notices_recorded_at.is_(None)
                & (Outage.closed_at <= before)
            )
        )
        .order_by(Outage.id)
        .limit(PENDING_PER_SWEEP)
    ).all()
    db.session.rollback()
    connection = get_queue(MAINTENANCE_QUEUE).connection
    queued = 0
    for outage_id, state in rows:
        kind = NoticeKind.NOTICE if state == OutageState.ANNOUNCED else NoticeKind.RESTORED
        try:
            status = Job.fetch(job_id(outage_id, kind), connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status not in _LIVE_JOB_STATUSES and start_recording(outage_id, kind):
            queued += 1
    if queued:
        log.info("outages: queued again the notices of %d outage(s)", queued)
    return {"outage_notices_requeued": queued}
