"""SMS: the template catalogue, recording a message, and its retry policy.

The jobs that send recorded messages live in ``callqueue.sms_batch``; the relay
(``callqueue.relay``) hands them to RQ.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, insert, text
from sqlalchemy.orm import Session

from core.config import settings, split_list
from core.database import Prepared, RawCursor
from core.models import MessageStatus, OutboundMessage, UTCDateTime, utcnow

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
