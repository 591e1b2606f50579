"""The IVR's application status speaks the stage after payment and the days left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import utcnow
from tests.connections.support import paid_application
from tests.ivr.test_voice import CALLER, answer, follow, said, webhook


@pytest.fixture()
def app(make_app, tmp_path):
    # No rendered prompts: every prompt is a <Say> whose text the test reads.
    return make_app(VOICE_PROMPTS_DIR=str(tmp_path / "prompts"))


def status_heard(client, lang):
    entry = webhook(client, f"/ivr/voice/application/enter?lang={lang}")
    return said(follow(client, answer(client, entry, "2026000123#")))


def test_a_paid_application_hears_its_days_left(app, client):
    paid_application(app, "NC-2026-000123", utcnow(), phone=CALLER)
    heard = status_heard(client, "en")
    assert "We have your payment" in heard
    assert "Your connection is due within five days." in heard
    assert "आपका कनेक्शन पाँच दिन के अंदर लग जाना चाहिए।" in status_heard(client, "hi")


def test_a_late_connection_hears_the_delay_in_hindi(app, client):
    paid_application(app, "NC-2026-000123", utcnow() - timedelta(days=7, hours=1), phone=CALLER)
    heard = status_heard(client, "hi")
    assert "आपकी डिमांड राशि जमा हो गई है" in heard
    # Due two days and an hour ago: the third day of delay has begun.
    assert "तीन दिन की देरी" in heard and "मुआवज़ा" in heard
