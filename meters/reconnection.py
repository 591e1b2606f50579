"""Reconnecting a smart or prepaid meter once a payment clears the consumer's dues.

The payment side sends ``core.events.dues_cleared`` after it commits. For a consumer whose
meter the head-end switches and whose supply is cut off, ``on_dues_cleared`` records a
``ReconnectionOrder`` (one per account and payment: a signal delivered twice records one)
and queues ``advance_order``. Each run of that job claims the order's next step with a
conditional update, does one thing and queues the step after it:

1. ``waiting``: inside the command hours, ask the head-end to connect the meter under the
   order's correlation id (sent again after a timeout, the head-end takes it once);
2. ``commanded``: read the relay every ``RECONNECT_POLL_SECONDS`` until it reports
   ``connected`` or ``armed``; then the account's supply is active again and the consumer
   gets one SMS (for ``armed``: press the meter's button).

Passing head-end errors are tried again after ``RECONNECT_RETRY_BACKOFF``; after
``RECONNECT_MAX_ATTEMPTS`` of them, a refusal, an unknown meter or a relay that never
reports connected, the order is ``failed`` and the consumer gets a priority callback (a
person looks). Work is recorded in SQL before it reaches Redis: the sweep queues again
the steps Redis lost (``requeue_lost_orders``) and gives a priority callback to a consumer
still disconnected ``RECONNECT_CALLBACK_AFTER_MINUTES`` after paying (``give_callbacks``),
and records the order of a payment whose signal a dying process never sent
(``recover_lost_orders``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from callqueue.context import app_job
from callqueue.queues import METERS_QUEUE, enqueue
from callqueue.sms import record_message
from core.audit import record_audit
from core.config import split_list
from core.database import write_transaction
from core.extensions import db
from core.hours import CallingHours, CallingHoursError, next_calling_time
from core.models import (
    OPEN_CALLBACK_STATUSES,
    BlockedNumber,
    Callback,
    CallbackStatus,
    utcnow,
)
from core.models.consumers import ConsumerAccount, LinkedNumber
from core.models.meters import (
    OPEN_ORDER_STATUSES,
    REMOTE_SWITCHED_KINDS,
    OrderStatus,
    ReconnectionOrder,
)
from core.models.payments import Payment, PaymentOutcome
from core.phone import mask
from core.redis_client import redis_client
from meters.exceptions import (
    HeadEndError,
    HeadEndNotConfigured,
    PermanentHeadEndError,
    TransientHeadEndError,
)
from meters.head_end import RelayState, head_end, head_end_configured

log = logging.getLogger("sampark.meters")

CONNECTED_TEMPLATE = "meter_reconnected"
"""The SMS once the relay reports connected."""

ARMED_TEMPLATE = "meter_reconnect_armed"
"""The SMS once the relay is armed: the consumer presses the meter's button."""

AUDIT_ENTITY = "reconnection_order"

CLAIM_LEASE = timedelta(minutes=5)
"""A run holds its step this long (a head-end request takes at most ``HEAD_END_TIMEOUT``);
past it, the sweep takes the run's worker for dead and queues the step again."""

SWEEP_BATCH = 500
"""Orders looked at per sweep; the next sweep takes the rest."""

RECOVER_WINDOW = timedelta(days=1)
"""How far back the sweep looks for a payment whose ``dues_cleared`` never arrived."""

ALWAYS = "00:00-23:59:59.999999"
"""The command window when only days off or holidays are set."""

_LIVE_JOB_STATUSES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
)


def job_id(order_id: int, step: int) -> str:
    """Return the RQ job id of an order's step (each step is a job of its own)."""
    return f"reconnect-{order_id}-{step}"


# -- settings ---------------------------------------------------------------------------


def command_hours() -> CallingHours | None:
    """Return when head-end commands may be sent, or None for at any time."""
    return current_app.extensions[COMMAND_HOURS_KEY]  # type: ignore[no-any-return]


COMMAND_HOURS_KEY = "head_end_command_hours"
"""Where ``meters.init_app`` keeps the command hours it read at start."""


def read_command_hours(config: Mapping[str, Any]) -> CallingHours | None:
    """Read the ``HEAD_END_COMMAND_*`` settings; raise ``CallingHoursError`` when they are bad."""
    window = config["HEAD_END_COMMAND_HOURS"].strip()
    days_off = config["HEAD_END_COMMAND_DAYS_OFF"]
    holidays = config["HEAD_END_COMMAND_HOLIDAYS"]
    if not (window or split_list(days_off) or split_list(holidays)):
        return None
    try:
        return CallingHours.from_settings(window or ALWAYS, config["TIMEZONE"], days_off, holidays)
    except CallingHoursError as exc:
        # CallingHours names the calling-hours settings; these are the head-end's.
        message = str(exc).replace("CALLING_", "HEAD_END_COMMAND_")
        raise CallingHoursError(message) from exc


def retry_waits() -> list[timedelta]:
    """Return the waits after the 1st, 2nd… passing head-end error (the last repeats)."""
    setting = current_app.config["RECONNECT_RETRY_BACKOFF"]
    return [timedelta(seconds=float(item)) for item in split_list(setting)] or [
        timedelta(seconds=60)
    ]


# -- recording an order -----------------------------------------------------------------


def on_dues_cleared(sender: Any, *, account_id: int, paid_at: datetime, **_: Any) -> None:
    """Receive ``core.events.dues_cleared``: record and queue a reconnection when one is due.

    Never raises into the payment that sent the signal (it is committed already); what is
    recorded here reaches Redis now, or through the sweep when Redis is down.
    """
    try:
        order_id = record_order(account_id, paid_at)
    except SQLAlchemyError:
        log.exception("account %s: the reconnection order could not be recorded", account_id)
        return
    if order_id is not None:
        enqueue(METERS_QUEUE, advance_order, order_id, 0, job_id=job_id(order_id, 0))


def record_order(account_id: int, paid_at: datetime, *, now: datetime | None = None) -> int | None:
    """Record a reconnection order for this payment; return its id.

    None when none is due: the meter is not switched by the head-end, the supply is not
    cut off, an order is under way already, or this payment has its order already.
    """
    if paid_at.tzinfo is None:
        paid_at = paid_at.replace(tzinfo=UTC)
    now = now or utcnow()
    # A session of its own: the sender's, committed already, is left as it is.
    with Session(db.engine) as session:
        try:
            with write_transaction(session):
                return _insert_order(session, account_id, paid_at, now)
        except IntegrityError:
            return None  # the same payment's signal, recorded at the same moment


def _insert_order(
    session: Session, account_id: int, paid_at: datetime, now: datetime
) -> int | None:
    account = session.get(ConsumerAccount, account_id)
    if account is None:
        log.warning("dues cleared for account %s, which does not exist", account_id)
        return None
    if account.meter_kind not in REMOTE_SWITCHED_KINDS or account.supply_status != "disconnected":
        return None
    if not account.head_end_meter_id:
        log.error("account %s: a %s meter without a head-end id", account_id, account.meter_kind)
        return None
    earlier = session.scalars(
        select(ReconnectionOrder).where(
            ReconnectionOrder.account_id == account_id,
            (ReconnectionOrder.paid_at == paid_at)
            | ReconnectionOrder.status.in_(OPEN_ORDER_STATUSES),
        )
    ).first()
    if earlier is not None:
        return None
    order = ReconnectionOrder(
        account_id=account_id,
        paid_at=paid_at,
        meter_id=account.head_end_meter_id,
        status=OrderStatus.WAITING,
        correlation_id=f"sampark-reconnect-{uuid.uuid4().hex}",
        step=0,
        failures=0,
        polls=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(order)
    session.flush()
    record_audit(
        session,
        actor_id=None,
        entity=AUDIT_ENTITY,
        entity_id=order.id,
        action="recorded",
        changes={"status": (None, OrderStatus.WAITING), "account_id": (None, account_id)},
    )
    log.info("account %s: reconnection order %s recorded", account_id, order.id)
    return order.id


# -- the job ----------------------------------------------------------------------------


@app_job
def advance_order(order_id: int, step: int) -> str:
    """Take an order one step on (command, or read the relay); safe to run twice."""
    if not head_end_configured():
        # Left as it is: the sweep queues it again once HEAD_END_URL is set.
        return "no head-end configured"
    now = utcnow()
    session = db.session
    with write_transaction(session):
        claimed = session.execute(
            update(ReconnectionOrder)
            .where(
                ReconnectionOrder.id == order_id,
                ReconnectionOrder.step == step,
                ReconnectionOrder.status.in_(OPEN_ORDER_STATUSES),
            )
            .values(step=step + 1, next_attempt_at=now + CLAIM_LEASE)
        ).rowcount
    if not claimed:
        return "not this run's step (run already, or the order is finished or gone)"
    order = session.get(ReconnectionOrder, order_id)
    assert order is not None  # claimed just now
    # Read once and let go: no transaction stays open while the head-end is asked.
    session.expunge(order)
    session.rollback()
    if order.status == OrderStatus.WAITING:
        hours = command_hours()
        if hours is not None and not hours.is_open(now):
            opens = hours.next_open(now)
            _schedule(order_id, step + 1, opens, note="waiting for the command hours to open")
            return "outside command hours"
        return _command(order, step + 1)
    return _read_relay(order, step + 1)


def _command(order: ReconnectionOrder, step: int) -> str:
    try:
        receipt = head_end().connect(order.meter_id, order.correlation_id or "")
    except HeadEndError as exc:
        return _head_end_failed(order, step, exc)
    now = utcnow()
    wait = timedelta(seconds=current_app.config["RECONNECT_POLL_SECONDS"])
    session = db.session
    with write_transaction(session):
        current = session.get(ReconnectionOrder, order.id, with_for_update=True)
        assert current is not None
        current.status = OrderStatus.COMMANDED
        current.command_id = receipt.command_id
        current.commanded_at = now
        current.error = None
        current.next_attempt_at = now + wait
        _audit(session, current.id, "commanded", {"status": (OrderStatus.WAITING, "commanded")})
    log.info("order %s: head-end took the connect command %s", order.id, receipt.command_id)
    _enqueue(order.id, step, now + wait)
    return "commanded"


def _read_relay(order: ReconnectionOrder, step: int) -> str:
    try:
        reading = head_end().relay_state(order.meter_id)
    except HeadEndError as exc:
        return _head_end_failed(order, step, exc)
    state = reading.known_state
    if state in (RelayState.CONNECTED, RelayState.ARMED):
        return _finish(order.id, state)
    config = current_app.config
    polls = order.polls + 1
    if polls >= config["RECONNECT_MAX_POLLS"]:
        reason = (
            f"the head-end still reports the relay {reading.state or 'without a state'!r} "
            f"after {polls} reads since the connect command"
        )
        _give_up(order.id, reason, relay_state=reading.state)
        return "failed"
    wait = timedelta(seconds=config["RECONNECT_POLL_SECONDS"])
    at = utcnow() + wait
    session = db.session
    with write_transaction(session):
        current = session.get(ReconnectionOrder, order.id, with_for_update=True)
        assert current is not None
        current.polls = polls
        current.relay_state = reading.state
        current.next_attempt_at = at
    _enqueue(order.id, step, at)
    return f"relay {reading.state or 'unknown'}"


def _head_end_failed(order: ReconnectionOrder, step: int, exc: HeadEndError) -> str:
    if isinstance(exc, HeadEndNotConfigured):
        return "no head-end configured"
    if isinstance(exc, PermanentHeadEndError):
        _give_up(order.id, f"the head-end refused: {exc}")
        return "refused"
    assert isinstance(exc, TransientHeadEndError)
    failures = order.failures + 1
    if failures >= current_app.config["RECONNECT_MAX_ATTEMPTS"]:
        _give_up(order.id, f"the head-end failed {failures} times; last: {exc}")
        return "failed"
    waits = retry_waits()
    at = utcnow() + waits[min(failures - 1, len(waits) - 1)]
    session = db.session
    with write_transaction(session):
        current = session.get(ReconnectionOrder, order.id, with_for_update=True)
        assert current is not None
        current.failures = failures
        current.error = str(exc)[:500]
        current.next_attempt_at = at
    log.warning("order %s: head-end error, tried again at %s: %s", order.id, at, exc)
    _enqueue(order.id, step, at)
    return "retrying"


def _finish(order_id: int, state: RelayState) -> str:
    """The relay is connected (or armed): supply active, one SMS, the order closed."""
    now = utcnow()
    session = db.session
    with write_transaction(session):
        order = session.get(ReconnectionOrder, order_id, with_for_update=True)
        assert order is not None
        account = session.get(ConsumerAccount, order.account_id, with_for_update=True)
        assert account is not None
        old_status = order.status
        order.status = OrderStatus(state)
        order.relay_state = str(state)
        order.finished_at = now
        order.error = None
        order.callback_checked_at = order.callback_checked_at or now
        if account.supply_status != "active":
            record_audit(
                session,
                actor_id=None,
                entity="consumer_account",
                entity_id=account.id,
                action="supply_reconnected",
                changes={"supply_status": (account.supply_status, "active")},
            )
            account.supply_status = "active"
        phone = _consumer_phone(session, account.id)
        if phone is not None:
            order.sms_message_id = record_message(
                session,
                key=ARMED_TEMPLATE if state == RelayState.ARMED else CONNECTED_TEMPLATE,
                to=phone,
                language=account.language,
                values={"account": _masked(account.account_number)},
            )
        _audit(session, order.id, str(state), {"status": (old_status, str(state))})
    log.info("order %s: relay %s; supply of account %s active", order_id, state, order.account_id)
    return str(state)


def _give_up(order_id: int, reason: str, *, relay_state: str | None = None) -> None:
    """Close the order as failed; the sweep gives the consumer a priority callback."""
    session = db.session
    with write_transaction(session):
        order = session.get(ReconnectionOrder, order_id, with_for_update=True)
        assert order is not None
        old_status = order.status
        order.status = OrderStatus.FAILED
        order.error = reason[:500]
        order.finished_at = utcnow()
        if relay_state is not None:
            order.relay_state = relay_state[:20]
        _audit(
            session, order.id, "failed", {"status": (old_status, "failed"), "error": (None, reason)}
        )
    log.error("order %s: reconnection failed, a person must look: %s", order_id, reason)


def _schedule(order_id: int, step: int, at: datetime, *, note: str) -> None:
    session = db.session
    with write_transaction(session):
        session.execute(
            update(ReconnectionOrder)
            .where(ReconnectionOrder.id == order_id)
            .values(next_attempt_at=at, error=note)
        )
    _enqueue(order_id, step, at)


def _enqueue(order_id: int, step: int, at: datetime) -> None:
    # False means Redis is down: the step is recorded, and the sweep queues it.
    enqueue(METERS_QUEUE, advance_order, order_id, step, job_id=job_id(order_id, step), at=at)


def _audit(session: Session, order_id: int, action: str, changes: dict[str, Any]) -> None:
    record_audit(
        session,
        actor_id=None,
        entity=AUDIT_ENTITY,
        entity_id=order_id,
        action=action,
        changes=changes,
    )


def _consumer_phone(session: Session, account_id: int) -> str | None:
    return session.scalar(
        select(LinkedNumber.phone)
        .where(LinkedNumber.account_id == account_id)
        .order_by(LinkedNumber.id)
        .limit(1)
    )


def _masked(account_number: str) -> str:
    return "X" * max(len(account_number) - 4, 0) + account_number[-4:]


# -- housekeeping -----------------------------------------------------------------------


def requeue_lost_orders(*, now: datetime | None = None) -> int:
    """Queue again the steps of open orders whose job Redis no longer has; return how many.

    Covers an order recorded while Redis was down, a step whose job Redis lost, and a
    step whose worker died holding it (its claim lapsed).
    """
    if not head_end_configured():
        return 0
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    session = db.session
    session.rollback()
    overdue = session.execute(
        select(ReconnectionOrder.id, ReconnectionOrder.step)
        .where(
            ReconnectionOrder.status.in_(OPEN_ORDER_STATUSES),
            ReconnectionOrder.next_attempt_at <= cutoff,
        )
        .order_by(ReconnectionOrder.next_attempt_at)
        .limit(SWEEP_BATCH)
    ).all()
    session.rollback()
    connection = redis_client()
    requeued = 0
    for order_id, step in overdue:
        try:
            status = Job.fetch(job_id(order_id, step), connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status in _LIVE_JOB_STATUSES:
            continue
        if status is not None:
            # A run that ended without taking its step (it failed before its claim, or
            # found no head-end): the same step runs again under the same id.
            Job.fetch(job_id(order_id, step), connection=connection).delete()
        if enqueue(METERS_QUEUE, advance_order, order_id, step, job_id=job_id(order_id, step)):
            requeued += 1
    if requeued:
        log.info("sweep: queued again %d reconnection order(s)", requeued)
    return requeued


def recover_lost_orders(*, now: datetime | None = None) -> int:
    """Record the orders of payments whose ``dues_cleared`` never arrived; return how many.

    A payment commits before its signal is sent, so a process that dies between the two
    leaves a consumer who paid cut off with no order (and no callback: ``give_callbacks``
    looks at orders). The payments that settled a bill in the last ``RECOVER_WINDOW``, at
    least ``RECONCILE_AFTER_SECONDS`` ago (the signal has had its chance), of accounts still
    cut off and switched by the head-end, without an order for that payment, are given
    one now. ``record_order`` is idempotent per payment, so a signal arriving at the same
    moment records nothing twice.
    """
    now = now or utcnow()
    settled = now - timedelta(seconds=current_app.config["RECONCILE_AFTER_SECONDS"])
    session = db.session
    session.rollback()
    lost = session.execute(
        select(Payment.account_id, Payment.paid_at)
        .join(ConsumerAccount, ConsumerAccount.id == Payment.account_id)
        .outerjoin(
            ReconnectionOrder,
            (ReconnectionOrder.account_id == Payment.account_id)
            & (ReconnectionOrder.paid_at == Payment.paid_at),
        )
        .where(
            Payment.recorded_at >= now - RECOVER_WINDOW,
            Payment.recorded_at <= settled,
            Payment.outcome == PaymentOutcome.PAID,
            Payment.account_id.is_not(None),
            ConsumerAccount.supply_status == "disconnected",
            ConsumerAccount.meter_kind.in_(sorted(REMOTE_SWITCHED_KINDS)),
            ReconnectionOrder.id.is_(None),
        )
        .order_by(Payment.recorded_at)
        .limit(SWEEP_BATCH)
    ).all()
    session.rollback()
    recovered = 0
    for account_id, paid_at in lost:
        order_id = record_order(account_id, paid_at, now=now)
        if order_id is None:
            continue  # an order under way already, or recorded meanwhile
        recovered += 1
        log.warning("account %s: reconnection order %s recorded by the sweep", account_id, order_id)
        # Redis down: requeue_lost_orders queues it later, as any order recorded then.
        enqueue(METERS_QUEUE, advance_order, order_id, 0, job_id=job_id(order_id, 0))
    return recovered


def give_callbacks(*, now: datetime | None = None) -> int:
    """Give a priority callback to consumers who paid and are still disconnected; return how many.

    A failed order gets one at once (a person must look); an open one once
    ``RECONNECT_CALLBACK_AFTER_MINUTES`` have passed since the payment. Once per order.
    """
    now = now or utcnow()
    config = current_app.config
    since = now - timedelta(minutes=config["RECONNECT_CALLBACK_AFTER_MINUTES"])
    session = db.session
    session.rollback()
    due = session.scalars(
        select(ReconnectionOrder.id)
        .where(
            ReconnectionOrder.callback_checked_at.is_(None),
            (ReconnectionOrder.status == OrderStatus.FAILED) | (ReconnectionOrder.paid_at <= since),
        )
        .order_by(ReconnectionOrder.paid_at)
        .limit(SWEEP_BATCH)
    ).all()
    session.rollback()
    given = 0
    for order_id in due:
        for _ in range(2):  # a missed call opening the same number's callback meanwhile
            try:
                with write_transaction(session):
                    given += _give_callback(session, order_id, now)
                break
            except IntegrityError:
                continue
    if given:
        log.info("sweep: %d priority callback(s) for consumers still disconnected", given)
    return given


def _give_callback(session: Session, order_id: int, now: datetime) -> int:
    order = session.get(ReconnectionOrder, order_id, with_for_update=True)
    if order is None or order.callback_checked_at is not None:
        return 0
    order.callback_checked_at = now
    account = session.get(ConsumerAccount, order.account_id)
    phone = _consumer_phone(session, order.account_id)
    if account is None or account.supply_status != "disconnected" or phone is None:
        return 0
    if session.get(BlockedNumber, phone) is not None:
        log.warning("order %s: %s is blocked; no callback", order_id, mask(phone))
        return 0
    priority = current_app.config["RECONNECT_CALLBACK_PRIORITY"]
    callback = session.scalars(
        select(Callback)
        .where(Callback.phone == phone, Callback.status.in_(OPEN_CALLBACK_STATUSES))
        .with_for_update()
    ).first()
    due_at = next_calling_time(now)
    if callback is None:
        callback = Callback(
            phone=phone,
            language=account.language,
            status=CallbackStatus.PENDING,
            priority=priority,
            due_at=due_at,
            missed_call_count=1,
            first_missed_at=now,
            last_missed_at=now,
            attempts=0,
            created_at=now,
        )
        session.add(callback)
        session.flush()
        changes: dict[str, Any] = {
            "status": (None, CallbackStatus.PENDING),
            "priority": (None, priority),
        }
    else:
        changes = {"priority": (callback.priority, max(callback.priority, priority))}
        callback.priority = max(callback.priority, priority)
        if callback.status == CallbackStatus.PENDING and callback.due_at > due_at:
            changes["due_at"] = (callback.due_at, due_at)
            callback.due_at = due_at
    order.callback_id = callback.id
    record_audit(
        session,
        actor_id=None,
        entity="callback",
        entity_id=callback.id,
        action="reconnection_callback",
        changes={**changes, "reconnection_order": (None, order.id)},
    )
    log.info("order %s: priority callback %s for %s", order_id, callback.id, mask(phone))
    return 1
