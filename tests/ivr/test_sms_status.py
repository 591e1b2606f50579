"""SMS delivery reports update the message they are about."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import OutboundMessage
from tests.conftest import post_webhook, run_jobs
from tests.ivr.test_missed_call import missed_call


def sent_message(app, client) -> str:
    missed_call(client)
    run_jobs(app)
    with app.app_context():
        return db.session.scalars(select(OutboundMessage.provider_sid)).one()


def status_of(app) -> str:
    with app.app_context():
        return db.session.scalars(select(OutboundMessage.status)).one()


def test_delivery_report_marks_the_message_delivered(app, client):
    sid = sent_message(app, client)
    response = post_webhook(
        client, "/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"}
    )
    assert response.status_code == 204
    assert status_of(app) == "delivered"


def test_a_late_sent_report_does_not_undo_delivered(app, client):
    sid = sent_message(app, client)
    post_webhook(client, "/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"})
    post_webhook(client, "/sms/status", {"MessageSid": sid, "MessageStatus": "sent"})
    assert status_of(app) == "delivered"


def test_undelivered_keeps_the_error_code(app, client):
    sid = sent_message(app, client)
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    post_webhook(client, "/sms/status", params)
    with app.app_context():
        message = db.session.scalars(select(OutboundMessage)).one()
        assert (message.status, message.error) == ("undelivered", "provider error 30003")


def test_unknown_message_or_status_changes_nothing(app, client):
    sent_message(app, client)
    assert (
        post_webhook(
            client, "/sms/status", {"MessageSid": "SMnope", "MessageStatus": "delivered"}
        ).status_code
        == 204
    )
    assert (
        post_webhook(
            client, "/sms/status", {"MessageSid": "", "MessageStatus": "bogus"}
        ).status_code
        == 204
    )
    assert status_of(app) == "sent"


def test_forged_delivery_report_is_refused(app, client):
    sid = sent_message(app, client)
    params = {"MessageSid": sid, "MessageStatus": "failed"}
    assert post_webhook(client, "/sms/status", params, signature="forged").status_code == 403
    assert status_of(app) == "sent"
