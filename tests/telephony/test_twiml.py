"""TwiML is written byte for byte as twilio's own rendering writes it."""

from __future__ import annotations

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Number

from telephony.twiml import Dial, Gather, VoiceResponse, render_twiml, twiml

HINDI = "आपके बिल की बकाया राशि एक हज़ार पाँच सौ बीस रुपये पचास पैसे है।"
AWKWARD = 'R&D <"quoted"> a > b & c\tend\r\nline'


def responses() -> dict[str, VoiceResponse]:
    """Return one response of each shape the flows build, with text that needs escaping."""
    said = VoiceResponse()
    said.say(HINDI, language="hi-IN")
    said.say("Bills & payments <due> > 0", language="en-IN")
    said.redirect("/ivr/voice/bill/options?lang=hi&account=1", method="POST")

    played = VoiceResponse()
    played.play("https://sampark.example.in/ivr/audio/hi/num/7.wav?v=0b9aa4a4d12c")
    played.play("https://sampark.example.in/ivr/audio/hi/word/rupees.wav?v=&x=<1>")
    played.hangup()

    gathered = VoiceResponse()
    gather = Gather(
        action="/ivr/voice/menu/answer?lang=en&attempt=2",
        method="POST",
        timeout=6,
        action_on_empty_result=False,
        num_digits=1,
    )
    gather.say(HINDI, language="hi-IN")
    gather.play("https://sampark.example.in/ivr/audio/en/menu_main.wav?v=abc")
    gathered.append(gather)
    gathered.redirect("/ivr/voice/menu/answer?lang=en&attempt=2", method="POST")

    keyed = VoiceResponse()
    keyed.append(Gather(action="/a?b=1&c=2", finish_on_key="#", action_on_empty_result=True))
    keyed.redirect("/a?b=1&c=2")

    dialled = VoiceResponse()
    dialled.say("Connecting you", language="en-IN")
    dialled.dial("+911140000099", action="/ivr/voice/operator/done?lang=en", timeout=30)
    bridged = VoiceResponse()
    dial = Dial(caller_id="+911140000001", timeout=30, record=False)
    dial.append(Number("+919812345678", status_callback_event="answered completed"))
    bridged.append(dial)

    rejected = VoiceResponse()
    rejected.reject(reason="busy")
    hung_up = VoiceResponse()
    hung_up.hangup()
    awkward = VoiceResponse()
    awkward.say(AWKWARD, voice=AWKWARD)
    empty = VoiceResponse()
    empty.say("")
    # A number and a flag of equal value: "1", then "true".
    flags = VoiceResponse()
    flags.append(Gather(timeout=1, action_on_empty_result=1))
    flags.append(Gather(timeout=True, action_on_empty_result=True))
    return {
        "said": said,
        "played": played,
        "gathered": gathered,
        "keyed": keyed,
        "dialled": dialled,
        "bridged": bridged,
        "rejected": rejected,
        "hung_up": hung_up,
        "awkward": awkward,
        "empty": empty,
        "nothing": VoiceResponse(),
        "flags": flags,
    }


def test_written_as_twilio_writes_it(monkeypatch) -> None:
    expected = {name: str(response).encode() for name, response in responses().items()}
    # Written without twilio's ElementTree rendering, which is the point of the writer.
    monkeypatch.setattr(TwiML, "xml", _not_called)
    for name, response in responses().items():
        assert render_twiml(response) == expected[name], name


def _not_called(_self: TwiML) -> None:
    raise AssertionError("twilio's rendering was used")


def test_what_it_cannot_write_exactly_is_left_to_twilio() -> None:
    # A bare string among a verb's children, as twilio's own nesting API allows.
    mixed = VoiceResponse()
    mixed.say("one ").nest("two & three")
    assert render_twiml(mixed) == str(mixed).encode()
    assert b"two &amp; three" in render_twiml(mixed)


def test_flask_response_carries_the_xml(app) -> None:
    response = responses()["gathered"]
    with app.test_request_context():
        answer = twiml(response)
    assert answer.mimetype == "text/xml"
    assert answer.get_data() == str(response).encode()
