"""The call script is written as TwiML byte for byte as twilio's own builders write it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twilio.twiml import voice_response as twilio

from telephony.script import CallScript
from telephony.twilio import REJECTION, TwimlScript

HINDI = "आपके बिल की बकाया राशि एक हज़ार पाँच सौ बीस रुपये पचास पैसे है।"
AWKWARD = 'R&D <"quoted"> a > b & c\tend\r\nline'
CLIP = "https://sampark.example.in/ivr/audio/hi/num/7.wav?v=0b9aa4a4d12c"
ODD_CLIP = "https://sampark.example.in/ivr/audio/hi/word/rupees.wav?v=&x=<1>"
MENU = "/ivr/voice/menu/answer?lang=en&attempt=2"


def said(script: CallScript) -> None:
    script.say(HINDI, "hi")
    script.say("Bills & payments <due> > 0", "en")
    script.redirect("/ivr/voice/bill/options?lang=hi&account=1")


def said_by_twilio(response: twilio.VoiceResponse) -> None:
    response.say(HINDI, language="hi-IN", voice="Polly.Aditi")
    response.say("Bills & payments <due> > 0", language="en-IN", voice="Polly.Raveena")
    response.redirect("/ivr/voice/bill/options?lang=hi&account=1", method="POST")


def played(script: CallScript) -> None:
    script.play(CLIP)
    script.play_all([ODD_CLIP, "", CLIP])
    script.hangup()


def played_by_twilio(response: twilio.VoiceResponse) -> None:
    for url in (CLIP, ODD_CLIP, "", CLIP):
        response.play(url)
    response.hangup()


def gathered(script: CallScript) -> None:
    gather = script.gather(MENU, timeout=6, max_keys=1)
    script.redirect(MENU)
    # Spoken into the gather after the redirect was added, as the flows do.
    gather.say(HINDI, "hi")
    gather.play_all([CLIP, ODD_CLIP])


def gathered_by_twilio(response: twilio.VoiceResponse) -> None:
    gather = twilio.Gather(
        action=MENU, method="POST", timeout=6, action_on_empty_result=False, num_digits=1
    )
    gather.say(HINDI, language="hi-IN", voice="Polly.Aditi")
    gather.play(CLIP)
    gather.play(ODD_CLIP)
    response.append(gather)
    response.redirect(MENU, method="POST")


def keyed(script: CallScript) -> None:
    script.gather("/a?b=1&c=2", timeout=6, finish_key="#")
    script.redirect("/a?b=1&c=2")


def keyed_by_twilio(response: twilio.VoiceResponse) -> None:
    response.append(
        twilio.Gather(
            action="/a?b=1&c=2",
            method="POST",
            timeout=6,
            finish_on_key="#",
            action_on_empty_result=False,
        )
    )
    response.redirect("/a?b=1&c=2", method="POST")


def dialled(script: CallScript) -> None:
    script.say("Connecting you", "en")
    script.dial("+911140000099", action="/ivr/voice/operator/done?lang=en", timeout=30)


def dialled_by_twilio(response: twilio.VoiceResponse) -> None:
    response.say("Connecting you", language="en-IN", voice="Polly.Raveena")
    dial = twilio.Dial(action="/ivr/voice/operator/done?lang=en", method="POST", timeout=30)
    dial.number("+911140000099")
    response.append(dial)


def bridged(script: CallScript) -> None:
    script.dial(
        "+919812345678",
        action="/ivr/bridge/7/dialled",
        timeout=30,
        caller_id="+911140000001",
        record=True,
    )


def bridged_by_twilio(response: twilio.VoiceResponse) -> None:
    dial = twilio.Dial(
        action="/ivr/bridge/7/dialled",
        method="POST",
        timeout=30,
        caller_id="+911140000001",
        record="record-from-answer-dual",
    )
    dial.number("+919812345678")
    response.append(dial)


def rejected(script: CallScript) -> None:
    script.reject()


def rejected_by_twilio(response: twilio.VoiceResponse) -> None:
    response.reject(reason="busy")


def awkward(script: CallScript) -> None:
    script.say(AWKWARD, "en")
    script.redirect(AWKWARD)
    script.say("", "hi")
    script.say("broken \ud800 text", "hi")


def awkward_by_twilio(response: twilio.VoiceResponse) -> None:
    response.say(AWKWARD, language="en-IN", voice="Polly.Raveena")
    response.redirect(AWKWARD, method="POST")
    response.say("", language="hi-IN", voice="Polly.Aditi")
    response.say("broken \ud800 text", language="hi-IN", voice="Polly.Aditi")


def nothing(script: CallScript) -> None:
    pass


def nothing_by_twilio(response: twilio.VoiceResponse) -> None:
    pass


SHAPES: dict[str, tuple[Callable[[CallScript], None], Callable[..., None]]] = {
    name: (globals()[name], globals()[f"{name}_by_twilio"])
    for name in (
        "said",
        "played",
        "gathered",
        "keyed",
        "dialled",
        "bridged",
        "rejected",
        "awkward",
        "nothing",
    )
}
"""Every shape the flows build: ours, and the same built with twilio's builders."""


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_written_as_twilio_writes_it(shape: str) -> None:
    ours, theirs = SHAPES[shape]
    expected = twilio.VoiceResponse()
    theirs(expected)
    for _ in range(2):  # the second time from the <Play> elements kept the first time
        script = TwimlScript()
        ours(script)
        assert script.render() == str(expected).encode("utf-8", "xmlcharrefreplace")


def test_the_rejection_is_written_once_as_twilio_writes_it() -> None:
    expected = twilio.VoiceResponse()
    expected.reject(reason="busy")
    assert REJECTION == str(expected).encode()


def test_a_language_the_ivr_does_not_speak_is_refused() -> None:
    with pytest.raises(ValueError, match="no voice"):
        TwimlScript().say("Bonjour", "fr")


def test_flask_response_carries_the_xml(app) -> None:
    script = TwimlScript()
    gathered(script)
    with app.test_request_context():
        answer = script.response()
    assert answer.mimetype == "text/xml"
    assert answer.get_data() == script.render()
