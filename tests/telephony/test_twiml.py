"""TwiML is written byte for byte as twilio's own builders and rendering write it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from twilio.twiml import voice_response as twilio

from telephony import twiml as ours
from telephony.twiml import VoiceResponse, render_twiml, twiml

HINDI = "आपके बिल की बकाया राशि एक हज़ार पाँच सौ बीस रुपये पचास पैसे है।"
AWKWARD = 'R&D <"quoted"> a > b & c\tend\r\nline'

BUILDERS = {
    "ours": SimpleNamespace(VoiceResponse=ours.VoiceResponse, Gather=ours.Gather, Dial=ours.Dial),
    "twilio": SimpleNamespace(
        VoiceResponse=twilio.VoiceResponse, Gather=twilio.Gather, Dial=twilio.Dial
    ),
}


def responses(kind: Any) -> dict[str, Any]:
    """Return one response of each shape the flows build, with text that needs escaping."""
    said = kind.VoiceResponse()
    said.say(HINDI, language="hi-IN")
    said.say("Bills & payments <due> > 0", language="en-IN", voice="Polly.Aditi")
    said.redirect("/ivr/voice/bill/options?lang=hi&account=1", method="POST")

    played = kind.VoiceResponse()
    played.play("https://sampark.example.in/ivr/audio/hi/num/7.wav?v=0b9aa4a4d12c")
    played.play("https://sampark.example.in/ivr/audio/hi/word/rupees.wav?v=&x=<1>", loop=2)
    played.hangup()

    gathered = kind.VoiceResponse()
    gather = kind.Gather(
        action="/ivr/voice/menu/answer?lang=en&attempt=2",
        method="POST",
        timeout=6,
        action_on_empty_result=False,
        num_digits=1,
    )
    gathered.append(gather)
    gathered.redirect("/ivr/voice/menu/answer?lang=en&attempt=2", method="POST")
    # Spoken into the Gather after it was appended, as the flows do.
    gather.say(HINDI, language="hi-IN")
    gather.play("https://sampark.example.in/ivr/audio/en/menu_main.wav?v=abc")

    keyed = kind.VoiceResponse()
    keyed.append(kind.Gather(action="/a?b=1&c=2", finish_on_key="#", action_on_empty_result=True))
    keyed.redirect("/a?b=1&c=2")

    dialled = kind.VoiceResponse()
    dialled.say("Connecting you", language="en-IN")
    dialled.dial("+911140000099", action="/ivr/voice/operator/done?lang=en", timeout=30)
    bridged = kind.VoiceResponse()
    dial = kind.Dial(caller_id="+911140000001", timeout=30, record=False, method=None)
    dial.number("+919812345678", status_callback_event="answered completed")
    bridged.append(dial)

    rejected = kind.VoiceResponse()
    rejected.reject(reason="busy")
    hung_up = kind.VoiceResponse()
    hung_up.hangup()
    awkward = kind.VoiceResponse()
    awkward.say(AWKWARD, voice=AWKWARD)
    empty = kind.VoiceResponse()
    empty.say("")
    empty.say()
    empty.append(kind.Gather())
    # A number and a flag of equal value: "1", then "true".
    flags = kind.VoiceResponse()
    flags.append(kind.Gather(timeout=1, action_on_empty_result=1))
    flags.append(kind.Gather(timeout=True, action_on_empty_result=True))
    # Python keywords and names that are not identifiers, as twilio renames them.
    renamed = kind.VoiceResponse()
    renamed.say("x", xml_lang="hi-IN", from_="a", for_="b", break_="c", interpret_as="d")
    surrogate = kind.VoiceResponse()
    surrogate.say("broken \ud800 text")
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
        "nothing": kind.VoiceResponse(),
        "flags": flags,
        "renamed": renamed,
        "surrogate": surrogate,
    }


@pytest.mark.parametrize("shape", sorted(responses(BUILDERS["ours"])))
def test_written_as_twilio_writes_it(shape: str) -> None:
    expected = str(responses(BUILDERS["twilio"])[shape]).encode("utf-8", "xmlcharrefreplace")
    assert render_twiml(responses(BUILDERS["ours"])[shape]) == expected


def test_a_verb_twilio_built_cannot_be_appended() -> None:
    with pytest.raises(TypeError):
        VoiceResponse().append(twilio.Gather())  # type: ignore[arg-type]


def test_flask_response_carries_the_xml(app) -> None:
    response = responses(BUILDERS["ours"])["gathered"]
    with app.test_request_context():
        answer = twiml(response)
    assert answer.mimetype == "text/xml"
    assert answer.get_data() == str(responses(BUILDERS["twilio"])["gathered"]).encode()


def test_playing_a_list_of_clips_is_one_play_each_as_twilio_writes_them() -> None:
    urls = [
        "https://sampark.example.in/ivr/audio/hi/num/7.wav?v=0b9aa4a4d12c",
        "https://sampark.example.in/ivr/audio/hi/word/rupees.wav?v=&x=<1>",
        "",
        "https://sampark.example.in/ivr/audio/hi/num/7.wav?v=0b9aa4a4d12c",
    ]
    expected = twilio.VoiceResponse()
    gather = twilio.Gather(num_digits=1)
    for url in urls:
        expected.play(url)
        gather.play(url)
    expected.append(gather)
    for _ in range(2):  # the second time from the verbs kept the first time
        response, ours_gather = ours.VoiceResponse(), ours.Gather(num_digits=1)
        response.play_all(urls)
        ours_gather.play_all(iter(urls))
        response.append(ours_gather)
        assert render_twiml(response) == str(expected).encode()
