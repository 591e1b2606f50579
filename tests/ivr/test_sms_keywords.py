"""SMS replies: "CALL MORNING", "शाम", 1/2/3 get or move a callback to a slot, confirmed by SMS."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from core.callback_slots import callback_slots
from core.extensions import db
from core.models import BlockedNumber, Callback, InboundMessage, OutboundMessage, utcnow
from ivr.sms_keywords import SOONEST, read_keyword
from tests.conftest import post_webhook, run_jobs
from tests.ivr.test_missed_call import missed_call

CONSUMER = "+919812345678"
SMS_NUMBER = "+911140000000"


@pytest.mark.parametrize(
    ("message", "slot"),
    [
        ("CALL MORNING", "morning"),
        ("call evening", "evening"),
        ("Call me back in the afternoon, please.", "afternoon"),
        ("सुबह", "morning"),
        ("कॉल शाम", "evening"),
        ("दोपहर में कॉल करें", "afternoon"),
        ("call shaam", "evening"),
        ("2", "afternoon"),
        ("२", "afternoon"),
        (" 3 ", "evening"),
        ("CALL", SOONEST),
        ("0", SOONEST),
        ("call now", SOONEST),
        ("hello", None),
        ("4", None),
        ("", None),
        ("call me, no power since morning", None),
        ("morning evening", None),
    ],
)
def test_keywords_are_read_in_english_hindi_and_digits(message, slot):
    assert read_keyword(message) == slot


def texted(client, body: str, sid: str = "SM" + "1" * 32, sender: str = CONSUMER, **kwargs):
    """Deliver an SMS the consumer sent, as Twilio posts it to the messaging webhook."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 31 + "1",
        "From": sender,
        "To": SMS_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    return post_webhook(client, "/sms/inbound", params, **kwargs)


def callbacks(app) -> list[Callback]:
    with app.app_context():
        return list(db.session.scalars(select(Callback).order_by(Callback.id)))


def replies(app, twilio_api) -> list[str]:
    run_jobs(app)
    return [message["Body"] for message in twilio_api.messages]


def slot_start(app, slot: str, before, after):
    """The slot's next start as of the request (between ``before`` and ``after``)."""
    with app.app_context():
        slots = callback_slots()
        return slots.next_start(slot, before), slots.next_start(slot, after)


def test_a_keyword_opens_a_callback_in_its_slot_and_the_reply_confirms(app, client, twilio_api):
    before = utcnow()
    answer = texted(client, "CALL EVENING")
    after = utcnow()
    assert answer.status_code == 200
    assert ET.fromstring(answer.data).tag == "Response" and len(ET.fromstring(answer.data)) == 0
    (callback,) = callbacks(app)
    assert (callback.phone, callback.slot, callback.status) == (CONSUMER, "evening", "pending")
    earliest, latest = slot_start(app, "evening", before, after)
    assert earliest <= callback.due_at <= latest
    (reply,) = replies(app, twilio_api)
    assert "in the evening, between 16:00 and 21:00" in reply


def test_a_keyword_moves_the_pending_callback_instead_of_opening_another(app, client, twilio_api):
    missed_call(client, CONSUMER, "CA" + "7" * 32)
    (opened,) = callbacks(app)
    assert opened.slot is None
    before = utcnow()
    assert texted(client, "सुबह").status_code == 200
    after = utcnow()
    (moved,) = callbacks(app)
    assert moved.id == opened.id and moved.slot == "morning"
    assert moved.missed_call_count == 1  # an SMS is not a missed call
    earliest, latest = slot_start(app, "morning", before, after)
    assert earliest <= moved.due_at <= latest
    # The missed call's acknowledgement and the move's confirmation, in Hindi (sent in one
    # batch, side by side: they may reach the provider in either order).
    sent = replies(app, twilio_api)
    assert len(sent) == 2 and any("मिस्ड कॉल मिल गई" in body for body in sent)
    assert any("सुबह 09:00 से 12:00 के बीच" in body for body in sent)
    # "CALL" alone: as soon as possible again.
    texted(client, "CALL", sid="SM" + "2" * 32)
    (soonest,) = callbacks(app)
    assert soonest.slot is None and soonest.due_at <= utcnow()


def test_the_same_message_delivered_twice_is_taken_once(app, client, twilio_api):
    assert texted(client, "CALL MORNING").status_code == 200
    assert texted(client, "CALL MORNING").status_code == 200
    assert len(callbacks(app)) == 1
    assert len(replies(app, twilio_api)) == 1
    with app.app_context():
        assert len(db.session.scalars(select(InboundMessage)).all()) == 1


def test_unknown_words_get_the_help_reply_once_a_day(app, client, twilio_api):
    assert texted(client, "when will my bill come?").status_code == 200
    assert texted(client, "???", sid="SM" + "3" * 32).status_code == 200
    assert callbacks(app) == []
    (reply,) = replies(app, twilio_api)
    assert "reply CALL MORNING, CALL AFTERNOON or CALL EVENING" in reply
    # A keyword after that is still taken.
    texted(client, "1", sid="SM" + "4" * 32)
    (callback,) = callbacks(app)
    assert callback.slot == "morning"


def test_hindi_help_reply_for_hindi_words(app, client, twilio_api):
    texted(client, "बिल कब आएगा")
    (reply,) = replies(app, twilio_api)
    assert "सुबह, दोपहर या शाम" in reply


def test_a_blocked_number_gets_no_callback_and_no_reply(app, client, twilio_api):
    with app.app_context():
        db.session.add(BlockedNumber(phone=CONSUMER, reason="abuse"))
        db.session.commit()
    assert texted(client, "CALL MORNING").status_code == 200
    assert callbacks(app) == []
    assert replies(app, twilio_api) == []
    with app.app_context():
        (message,) = db.session.scalars(select(InboundMessage)).all()
        assert message.outcome == "blocked"


def test_a_forged_or_senderless_message_records_nothing(app, client, twilio_api):
    assert texted(client, "CALL MORNING", signature="forged").status_code == 403
    assert texted(client, "CALL MORNING", sender="anonymous").status_code == 200
    assert callbacks(app) == []
    assert replies(app, twilio_api) == []
    with app.app_context():
        assert db.session.scalars(select(OutboundMessage)).all() == []
        assert db.session.scalars(select(InboundMessage)).all() == []
