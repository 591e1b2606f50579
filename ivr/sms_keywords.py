"""SMS from consumers: keywords that ask for a callback in a slot, or move the one they have.

A consumer texts "CALL MORNING", "CALL EVENING", "सुबह", "शाम" or just 1, 2 or 3 (the IVR's
keys for the slots) to be called back in that part of the day; "CALL" or 0 asks for the
soonest time. A number with a callback open already has it moved (its slot, and the due
time of a pending one), never a second one opened; a new one is screened like a missed
call (block list). Either way the reply SMS confirms the slot and its hours, through the
outbox like every SMS (DLT template, retries).

Each message is recorded under the provider's id, so a webhook delivered twice is acted
on once. Words we cannot read get the help reply at most once a day per number: an
auto-responder answering each of our replies would otherwise keep both sides sending.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, text

from callqueue.sms import insert_message, prepare_message
from core.callback_slots import AFTERNOON, EVENING, MORNING, SLOT_DIGITS, SOONEST_DIGIT
from core.config import settings
from core.database import Prepared, RawCursor, write_in_group
from core.extensions import db
from core.models import OPEN_CALLBACK_SQL, MissedCallOutcome, UTCDateTime, utcnow
from core.phone import mask, read_caller_id
from ivr.actions import SLOT_WORDS, callback_ack
from ivr.intake import callback_request, choose_slot, open_callback
from telephony.records import IncomingSms

log = logging.getLogger("sampark.sms")

HELP_TEMPLATE = "sms_keyword_help"
"""The reply to a message we could not read."""

HELP_EVERY = timedelta(days=1)
"""A number gets the help reply at most once in this long."""

SOONEST = "soonest"
UNKNOWN = "unknown"
BLOCKED = "blocked"
DUPLICATE = "duplicate"
IGNORED = "ignored"

COMMAND_WORDS = frozenset({"call", "callback", "कॉल", "काल", "कॉलबैक"})
"""Words that ask for a callback; alone, for the soonest time."""

FILLER_WORDS = frozenset(
    {"me", "back", "in", "the", "please", "pls", "plz", "बैक", "में", "को", "कृपया", "करें"}
)
"""Words a reply may carry around its keyword, which say nothing of the slot."""

_SLOT_READINGS = {
    MORNING: ("subah", "subha", "सवेरे"),
    AFTERNOON: ("dopahar", "dopehar"),
    EVENING: ("sham", "shaam", "साँझ"),
}

KEYWORDS: dict[str, str] = {
    **{words[lang]: slot for slot, words in SLOT_WORDS.items() for lang in words},
    **{word: slot for slot, words in _SLOT_READINGS.items() for word in words},
    **SLOT_DIGITS,
    **{word: SOONEST for word in (SOONEST_DIGIT, "now", "asap", "soon", "जल्दी", "अभी")},
}
"""Each word a reply may name a slot (or the soonest time) with, lower case."""

_WORDS = re.compile(r"[^\s.,;:!?'\"()\-।]+")
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def read_keyword(message: str) -> str | None:
    """Return the slot a message asks for, ``SOONEST``, or None when it asks for neither.

    "CALL MORNING", "morning", "सुबह", "call me back in the evening", "2" and "call" are
    read; anything with a word beyond the command, the slot and a few fillers is not, so
    that "call me, no power since morning" is not taken for a slot.
    """
    words = _WORDS.findall(unicodedata.normalize("NFKC", message).casefold())
    words = [str(int(word)) if word.isdigit() and len(word) == 1 else word for word in words]
    commanded = any(word in COMMAND_WORDS for word in words)
    rest = [word for word in words if word not in COMMAND_WORDS and word not in FILLER_WORDS]
    if not rest:
        return SOONEST if commanded else None
    if len(rest) == 1:
        return KEYWORDS.get(rest[0])
    return None


@dataclass(frozen=True)
class ReplyResult:
    """What became of one incoming SMS."""

    outcome: str  # a slot name, SOONEST, UNKNOWN, BLOCKED, DUPLICATE or IGNORED
    callback_id: int | None = None
    replied: bool = False


def take_reply(sms: IncomingSms) -> ReplyResult:
    """Record an incoming SMS once and act on its keyword; the reply waits in the outbox."""
    config = settings()
    caller = read_caller_id(sms.sender, config.DEFAULT_REGION, config.allowed_regions)
    if not sms.message_sid or not caller.usable or caller.e164 is None:
        log.info("incoming SMS without an id or a usable sender: ignored")
        return ReplyResult(IGNORED)
    phone, now = caller.e164, utcnow()
    keyword = read_keyword(sms.text)
    slot = None if keyword in (None, SOONEST) else keyword
    language = _language(phone, sms.text)
    request = callback_request(phone, language, now, slot)
    ack = callback_ack(phone, language, request["slot"])
    help_message = prepare_message(key=HELP_TEMPLATE, to=phone, language=language)
    message = {
        "provider_sid": sms.message_sid,
        "sender": phone,
        "body": sms.text,
        "now": now,
        "since": now - HELP_EVERY,
    }

    def write(cursor: RawCursor) -> ReplyResult:
        if keyword is None:
            earlier = _HELP_SENT.execute(cursor, message).fetchone()[0]
            unknown = message | {"outcome": UNKNOWN, "callback_id": None}
            if _INSERT_INBOUND.insert(cursor, unknown) is None:
                return ReplyResult(DUPLICATE)
            if earlier:
                return ReplyResult(UNKNOWN)
            insert_message(cursor, help_message)
            return ReplyResult(UNKNOWN, replied=True)
        outcome = request["slot"] or SOONEST
        row = _OPEN_CALLBACK.execute(cursor, {"phone": phone}).fetchone()
        if row is not None:
            callback_id = row[0]
            choose_slot(cursor, callback_id, request)
        else:
            screened, callback_id, _opened = open_callback(cursor, request)
            if callback_id is None:
                log.info("SMS from %s not taken: %s", mask(phone), screened)
                outcome = BLOCKED if screened is MissedCallOutcome.BLOCKED else str(screened)
        inbound = message | {"outcome": outcome, "callback_id": callback_id}
        if _INSERT_INBOUND.insert(cursor, inbound) is None:
            raise _AlreadyTaken  # undo the move: the first delivery made it already
        if callback_id is None:
            return ReplyResult(outcome)
        insert_message(cursor, ack)  # not tied to the callback: each choice is confirmed
        return ReplyResult(outcome, callback_id, replied=True)

    try:
        result = write_in_group(db.engine, write)
    except _AlreadyTaken:
        result = ReplyResult(DUPLICATE)
    log.info("SMS from %s: %s", mask(phone), result.outcome)
    return result


class _AlreadyTaken(Exception):
    """This message was recorded already (the provider delivered it twice)."""


def _language(phone: str, message: str) -> str:
    """Reply in the open callback's language, else in the script the consumer wrote in."""
    found = db.session.execute(_OPEN_CALLBACK.statement, {"phone": phone}).first()
    db.session.rollback()  # end the read: the write takes its own turn
    if found is not None:
        return str(found[1])
    return "hi" if _DEVANAGARI.search(message) else "en"


_NOW = bindparam("now", type_=UTCDateTime())

_OPEN_CALLBACK = Prepared(
    text(f"SELECT id, language FROM callbacks WHERE phone = :phone AND {OPEN_CALLBACK_SQL}")
)

_HELP_SENT = Prepared(
    text(
        f"""
    SELECT count(*) FROM inbound_messages
    WHERE sender = :sender AND received_at >= :since AND outcome = '{UNKNOWN}'
    """
    ).bindparams(bindparam("since", type_=UTCDateTime()))
)

_INSERT_INBOUND = Prepared(
    text(
        """
    INSERT INTO inbound_messages (provider_sid, sender, body, outcome, callback_id, received_at)
    VALUES (:provider_sid, :sender, :body, :outcome, :callback_id, :now)
    ON CONFLICT (provider_sid) DO NOTHING
    RETURNING id
    """
    ).bindparams(_NOW)
)
