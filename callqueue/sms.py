"""SMS: the template catalogue, recording a message, and the job that sends it."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app
from rq import Retry
from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.orm import Session

from callqueue.context import app_job
from callqueue.queues import SMS_QUEUE, enqueue_batch, job_data
from core.config import settings, split_list
from core.database import Prepared, RawCursor
from core.extensions import db
from core.models import MessageStatus, OutboundMessage, UTCDateTime, utcnow
from core.phone import mask
from telephony import provider, sms_sender, webhook_url
from telephony.exceptions import PermanentTelephonyError, TransientTelephonyError

log = logging.getLogger("sampark.sms")

DEFAULT_TEMPLATES_FILE = Path(__file__).with_name("sms_templates.toml")

UNANSWERED_NOTE = (
    "the provider may have taken it; check its log, and if it never left, "
    "send it again with `flask queue resend`"
)
"""Why a message is ``unknown``, kept on its record for whoever reads the outbox."""


class TemplateError(LookupError):
    """A template key or language that the catalogue does not have, or a missing value."""


@dataclass(frozen=True)
class SmsTemplate:
    """One template: its texts by language and its DLT template id."""

    key: str
    texts: dict[str, str]
    dlt_template_id: str | None

    def render(self, language: str, values: dict[str, Any]) -> str:
        """Fill the template in ``language``."""
        try:
            return self.texts[language].format_map(values)
        except KeyError as exc:
            raise TemplateError(f"template {self.key!r} lacks {exc.args[0]!r}") from exc


@lru_cache(maxsize=8)
def _read_catalogue(path: str) -> dict[str, dict[str, Any]]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def template(key: str) -> SmsTemplate:
    """Return a template from the catalogue, with its DLT id from the settings when set."""
    cache = current_app.extensions.setdefault("sms_templates", {})
    if key not in cache:
        config = current_app.config
        catalogue = _read_catalogue(str(config["SMS_TEMPLATES_FILE"] or DEFAULT_TEMPLATES_FILE))
        if key not in catalogue:
            raise TemplateError(f"no SMS template {key!r}")
        entry = catalogue[key]
        texts = {lang: text for lang, text in entry.items() if lang != "dlt_template_id"}
        dlt_id = config.get(f"DLT_TEMPLATE_{key.upper()}") or entry.get("dlt_template_id")
        cache[key] = SmsTemplate(key, texts, dlt_id or None)
    return cache[key]


def common_values() -> dict[str, str]:
    """Return the values every template may use (the DISCOM's names, calling hours)."""
    config = settings()
    hours = config.calling_hours
    return {
        "discom_hi": config.DISCOM_NAME_HI,
        "discom_en": config.DISCOM_NAME_EN,
        "opens": hours.opens.strftime("%H:%M"),
        "closes": hours.closes.strftime("%H:%M"),
    }


def prepare_message(
    *, key: str, to: str, language: str, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Render an SMS from its template; the result goes to ``insert_message``."""
    tmpl = template(key)
    language = language if language in tmpl.texts else current_app.config["DEFAULT_LANGUAGE"]
    return {
        "recipient": to,
        "template": key,
        "language": language,
        "body": tmpl.render(language, {**common_values(), **(values or {})}),
        "dlt_template_id": tmpl.dlt_template_id,
        "now": utcnow(),
    }


def insert_message(
    target: Session | RawCursor, prepared: dict[str, Any], *, callback_id: int | None = None
) -> int | None:
    """Record a prepared SMS in the caller's transaction; return its id.

    ``target`` is the caller's session, or the cursor of a ``write_in_group`` on the
    webhook hot path. Returns None when this callback already has a message of this
    template, so that running the same step twice never sends twice. The relay queues it.
    """
    params = {**prepared, "callback_id": callback_id}
    if isinstance(target, RawCursor):
        return _INSERT_MESSAGE.insert(target, params)
    row = target.execute(_INSERT_MESSAGE.statement, params).first()
    return row[0] if row else None


def record_message(
    target: Session | RawCursor,
    *,
    key: str,
    to: str,
    language: str,
    values: dict[str, Any] | None = None,
    callback_id: int | None = None,
) -> int | None:
    """Render and record an SMS in the caller's transaction (see ``insert_message``)."""
    prepared = prepare_message(key=key, to=to, language=language, values=values)
    return insert_message(target, prepared, callback_id=callback_id)


# SQLite and PostgreSQL read the same upsert.
_INSERT_MESSAGE = Prepared(
    text(
        """
        INSERT INTO outbound_messages
            (recipient, template, language, body, dlt_template_id, callback_id, status,
             attempts, created_at, next_attempt_at)
        VALUES (:recipient, :template, :language, :body, :dlt_template_id, :callback_id,
                'queued', 0, :now, :now)
        ON CONFLICT DO NOTHING
        RETURNING id
        """
    ).bindparams(bindparam("now", type_=UTCDateTime()))
)


def backoff_seconds() -> list[int]:
    """Return the waits between attempts, one per retry."""
    waits = [int(item) for item in split_list(current_app.config["SMS_RETRY_BACKOFF"])]
    retries = max(current_app.config["SMS_MAX_ATTEMPTS"] - 1, 0)
    # Too few waits given: the last one repeats.
    return [waits[min(i, len(waits) - 1)] for i in range(retries)] if waits else [60] * retries


def job_id(message_id: int) -> str:
    """Return the RQ job id of a message's send job (one per message, whatever the attempt)."""
    return f"sms-{message_id}"


def _retry() -> Retry | None:
    waits = backoff_seconds()
    return Retry(max=len(waits), interval=waits) if waits else None


def enqueue_messages(message_ids: list[int]) -> None:
    """Queue many messages' send jobs in one round trip; raises ``RedisError`` if Redis is down."""
    retry = _retry()
    jobs = [job_data(send_message, i, job_id=job_id(i), retry=retry) for i in message_ids]
    enqueue_batch(SMS_QUEUE, jobs)


@app_job
def send_message(message_id: int) -> str:
    """Send one recorded SMS; safe to run twice, and raises only to ask RQ for a retry."""
    claimed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == MessageStatus.QUEUED)
        # While sending, next_attempt_at says when this attempt began (the sweep reads it).
        .values(
            status=MessageStatus.SENDING,
            attempts=OutboundMessage.attempts + 1,
            next_attempt_at=utcnow(),
        )
    ).rowcount
    db.session.commit()
    if not claimed:
        return "not queued (sent already, held by another worker, or gone)"
    message = db.session.get(OutboundMessage, message_id)
    assert message is not None  # claimed just now
    config = current_app.config
    try:
        receipt = provider().send_sms(
            message.recipient,
            message.body,
            sender=sms_sender(),
            status_callback=_status_callback_url(),
            dlt_template_id=message.dlt_template_id,
        )
    except TransientTelephonyError as exc:
        if exc.may_have_been_taken:
            # Asking again could send it twice; a person settles it (MessageStatus.UNKNOWN).
            _finish(message, MessageStatus.UNKNOWN, error=f"{exc}: {UNANSWERED_NOTE}")
            log.error(
                "SMS %s to %s: the provider did not answer and may have taken it; not sent again",
                message_id,
                mask(message.recipient),
            )
            return "unknown"
        if message.attempts >= config["SMS_MAX_ATTEMPTS"]:
            _finish(message, MessageStatus.FAILED, error=str(exc))
            log.error("SMS %s to %s failed for good: %s", message_id, mask(message.recipient), exc)
            return "failed"
        waits = backoff_seconds()
        wait = waits[min(message.attempts - 1, len(waits) - 1)] if waits else 60
        message.status = MessageStatus.QUEUED
        message.error = str(exc)
        message.next_attempt_at = utcnow() + timedelta(seconds=wait)
        db.session.commit()
        log.warning("SMS %s to %s will be retried: %s", message_id, mask(message.recipient), exc)
        raise
    except PermanentTelephonyError as exc:
        _finish(message, MessageStatus.FAILED, error=str(exc))
        log.error("SMS %s to %s refused: %s", message_id, mask(message.recipient), exc)
        return "refused"
    message.provider = receipt.provider
    message.provider_sid = receipt.sid
    message.sent_at = utcnow()
    _finish(message, MessageStatus.SENT, error=None)
    log.info("SMS %s sent to %s via %s", message_id, mask(message.recipient), receipt.provider)
    return "sent"


def _finish(message: OutboundMessage, status: MessageStatus, *, error: str | None) -> None:
    message.status = status
    message.error = error
    db.session.commit()


def _status_callback_url() -> str | None:
    # Without a public URL the provider could not reach us: ask for no reports.
    return webhook_url("sms.sms_status") if current_app.config["PUBLIC_BASE_URL"] else None


def record_messages(
    session: Session, prepared: list[dict[str, Any]], *, not_before: datetime | None = None
) -> list[int]:
    """Record many prepared SMS (``prepare_message``) in the caller's transaction; return ids.

    For bulk notices (an outage to a whole feeder): one multi-row INSERT instead of one
    statement a message, ids in the order given. Nothing stops one number getting a
    template twice here; callers keep their own unique record of whom they told. The relay
    queues each message once ``not_before`` (default: at once) has come.
    """
    if not prepared:
        return []
    rows = [
        {
            "recipient": each["recipient"],
            "template": each["template"],
            "language": each["language"],
            "body": each["body"],
            "dlt_template_id": each["dlt_template_id"],
            "status": MessageStatus.QUEUED,
            "attempts": 0,
            "created_at": each["now"],
            "next_attempt_at": not_before or each["now"],
        }
        for each in prepared
    ]
    statement = insert(OutboundMessage).returning(OutboundMessage.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))
