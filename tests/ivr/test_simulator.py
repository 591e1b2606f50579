"""Whole calls through the simulator, in Hindi and English, with prompts rendered by espeak-ng.

A small part of the catalogue is rendered for real (pyttsx3 with espeak-ng) into a
temporary directory: the language choice, the welcome, the main menu, the goodbye and the
clips of one amount. Everything else falls back to the provider's text-to-speech, as it
does in production while a build is under way, so each call hears both kinds. Every call
runs once per provider, each playing its own part (parameters, signature, dialect).
"""

from __future__ import annotations

import threading
import wave
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from core.extensions import db
from core.models import Callback
from core.models.applications import Application
from ivr.demo import add_consumer
from ivr.simulator import CallSimulator, FlaskTransport, HttpTransport, keys_from_list
from telephony import caller_side
from tests.conftest import PUBLIC_BASE_URL, post_as, provider_settings
from voice_prompts.render import PromptBuilder, Synthesizer
from voice_prompts.spoken import amount_words

IVR_NUMBER = "+911800180001"
CALLER = "+919812345678"
ACCOUNT = "1000004321"
RENDERED = {
    "language_choice",
    "welcome",
    "menu_main",
    "goodbye",
    "bill_amount_due.1",
    "bill_amount_due.2",
    *(f"num/{n}" for n in (1, 5, 20)),
    "word/thousand",
    "word/hundred",
    "word/rupees",
    "word/paise",
    "word/and",
    "num/50",
}


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("prompts")
    builder = PromptBuilder(directory, only=RENDERED - {"word/and"}, synthesizer=Synthesizer())
    builder.build()
    PromptBuilder(
        directory, langs=["en"], only={"word/and"}, synthesizer=builder.synthesizer
    ).build()
    return directory


@pytest.fixture()
def app(make_app, prompts: Path, provider_name: str, provider_apis):
    application = make_app(
        VOICE_PROMPTS_DIR=str(prompts),
        CALL_CENTRE_NUMBER="+911140000099",
        **provider_settings(provider_name, provider_apis),
    )
    with application.app_context():
        add_consumer(
            ACCOUNT,
            [CALLER],
            [
                {
                    "bill_date": date(2026, 11, 1),
                    "due_date": date(2026, 12, 15),
                    "amount_due": Decimal("1520.50"),
                    "amount_after_due": Decimal("1551.00"),
                    "paid_amount": None,
                    "paid_on": None,
                }
            ],
        )
        db.session.add(
            Application(
                number="NC-2026-000123",
                service="new_connection",
                status="demand_issued",
                phone=CALLER,
                demand_total=Decimal("120304.50"),
            )
        )
        db.session.commit()
    return application


def simulate(app, keys: list[str], prompts: Path, **options):
    side = caller_side(app)
    simulator = CallSimulator(
        FlaskTransport(app, side),
        side,
        to=IVR_NUMBER,
        caller=CALLER,
        keys=keys_from_list(keys),
        prompts_directory=prompts,
        **options,
    )
    return simulator.run()


def test_hindi_call_hears_the_bill_gets_an_sms_and_asks_for_a_callback(app, prompts):
    # 0 ("talk to us") dials the call centre; nobody answers, so a callback is offered.
    record = simulate(app, ["1", "1", "1", "1", "0", "1"], prompts, dial_status="no-answer")

    heard = record.said()
    # Played from rendered clips (the manifest's texts) …
    assert "हिंदी के लिए 1 दबाएँ।" in heard
    assert "बिल के लिए 1 दबाएँ" in heard
    assert amount_words(Decimal("1520.50"), "hi") in heard
    # … and said where no clip was rendered.
    assert "बिल जमा करने की आखिरी तारीख पंद्रह दिसंबर दो हज़ार छब्बीस है" in heard
    assert "एसएमएस से भेज दी गई" in heard
    assert record.dialled == ["+911140000099"]
    assert "कॉल बैक अनुरोध दर्ज कर लिया गया" in heard
    assert record.ended_by == "IVR hung up"
    assert any("/ivr/voice/bill" in path for path in record.requests)
    with app.app_context():
        (callback,) = db.session.scalars(select(Callback)).all()
        assert callback.language == "hi"


def test_english_call_hears_the_demand_amount_and_writes_the_audio(app, prompts, tmp_path):
    runner = app.test_cli_runner()
    wav_path = tmp_path / "call.wav"
    result = runner.invoke(
        args=[
            "ivr",
            "call",
            "--to",
            IVR_NUMBER,
            "--from",
            CALLER,
            "--keys",
            "2,2,2026000123#,*,9",
            "--wav",
            str(wav_path),
        ]  # fmt: skip
    )

    assert result.exit_code == 0, result.output
    assert "For English, press 2." in result.output
    assert "Caller | presses 2026000123#" in result.output
    assert "one lakh twenty thousand three hundred and four rupees and fifty paise" in (
        result.output
    )
    assert "Thank you for calling" in result.output, result.output  # ends politely
    with wave.open(str(wav_path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() / 8000 > 20  # a whole call, not one clip


def test_silent_caller_is_reprompted_a_bounded_number_of_times(app, prompts):
    record = simulate(app, [], prompts)

    assert record.ended_by == "IVR hung up"
    assert record.said().count("हिंदी के लिए 1 दबाएँ।") == 3
    assert "कॉल बैक पाने के लिए 1 दबाएँ" in record.said()
    assert len(record.requests) < 20


def test_operator_call_is_dialled_and_a_missed_bridge_offers_a_callback(app, prompts):
    answered = simulate(app, ["2", "0"], prompts)
    assert answered.dialled == ["+911140000099"]

    unanswered = simulate(app, ["2", "0", "1"], prompts, dial_status="no-answer")
    assert "operators are busy" in unanswered.said()
    assert "call back request has been registered" in unanswered.said()


def test_rendered_prompts_play_from_versioned_cacheable_urls(app, prompts):
    client, side = app.test_client(), caller_side(app)
    params = side.call("CA" + "7" * 32, CALLER, IVR_NUMBER, "ringing")
    (gather,) = side.read(post_as(client, side, "/ivr/voice", params).get_data(as_text=True))[:1]

    (play,) = gather.inner
    assert play.kind == "play"
    url = urlsplit(play.text)
    assert f"{url.scheme}://{url.netloc}" == PUBLIC_BASE_URL
    assert url.path == side.path("/ivr/audio/hi/language_choice.wav")
    assert parse_qs(url.query)["v"][0]
    audio = client.get(f"{url.path}?{url.query}")
    assert audio.status_code == 200 and audio.data[:4] == b"RIFF"
    assert "immutable" in audio.headers["Cache-Control"]

    # A prompt with no rendered clip falls back to text-to-speech in the caller's language.
    document = post_as(client, side, "/ivr/voice/fault?lang=en", params).get_data(as_text=True)
    (options, _) = side.read(document)
    assert [(verb.kind, verb.language) for verb in options.inner] == [("say", "en")]


def test_simulator_calls_a_running_server_over_http(app, prompts):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        side = caller_side(app)
        transport = HttpTransport(f"http://127.0.0.1:{server.server_port}", side, PUBLIC_BASE_URL)
        record = CallSimulator(
            transport,
            side,
            to=IVR_NUMBER,
            caller=CALLER,
            keys=keys_from_list(["2", "1", "1"]),
            prompts_directory=prompts,
        ).run()
    finally:
        server.shutdown()
        thread.join()
    # The amount is played from rendered clips, the date (not rendered) said.
    assert "one thousand five hundred and twenty rupees and fifty paise" in record.said()
    assert "fifteenth December two thousand twenty-six" in record.said()
