"""Calls we place: the TwiML that bridges an answering operator to the consumer.

The operator is rung first (``callqueue.calls.place_call``); when they answer, ``answer``
whispers a short prompt in their language and dials the consumer from the DISCOM's number.
The Dial's action, ``dialled``, records how the consumer's leg ended and says goodbye.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, url_for

from callqueue.calls import mark_answered, record_dial_outcome
from telephony.inbound import CallReport, twilio_webhook
from telephony.twiml import Dial, VoiceResponse, twiml

bridge_bp = Blueprint("bridge", __name__, url_prefix="/ivr")

PROMPTS_FILE = Path(__file__).with_name("bridge_prompts.toml")

DIAL_TIMEOUT_SECONDS = 30
"""How long the consumer's phone rings before the Dial gives up (``CALL_DIAL_TIMEOUT``)."""

RECORDING_MODE = "record-from-answer-dual"
"""Record both parties on separate channels, from the moment the consumer answers."""

_TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Voice:
    """How to speak one of our languages through the provider's <Say>."""

    language: str
    voice: str


@lru_cache(maxsize=2)
def _catalogue(path: str) -> dict:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _say(response: VoiceResponse, key: str, language: str) -> None:
    catalogue = _catalogue(str(PROMPTS_FILE))
    voices = catalogue["voices"]
    if language not in voices:
        language = current_app.config["DEFAULT_LANGUAGE"]
        language = language if language in voices else next(iter(voices))
    voice = Voice(**voices[language])
    response.say(catalogue["prompts"][key][language], language=voice.language, voice=voice.voice)


def _recording_on() -> bool:
    value = current_app.config.get("CALL_RECORDING", False)
    return value.strip().lower() in _TRUE_WORDS if isinstance(value, str) else bool(value)


@bridge_bp.post("/bridge/<int:attempt_id>")
@twilio_webhook
def answer(attempt_id: int) -> Response:
    """Whisper to the operator who answered, then dial the consumer."""
    bridge = mark_answered(attempt_id)
    response = VoiceResponse()
    if bridge is None:
        _say(response, "nothing_to_bridge", current_app.config["DEFAULT_LANGUAGE"])
        response.hangup()
        return twiml(response)
    consumer_phone, language = bridge
    _say(response, "whisper", language)
    options: dict[str, object] = {
        "caller_id": current_app.config["CALLER_ID"],
        "action": url_for("bridge.dialled", attempt_id=attempt_id),
        "method": "POST",
        "timeout": int(current_app.config.get("CALL_DIAL_TIMEOUT", DIAL_TIMEOUT_SECONDS)),
    }
    if _recording_on():
        options["record"] = RECORDING_MODE
    dial = Dial(**options)
    dial.number(consumer_phone)
    response.append(dial)
    return twiml(response)


@bridge_bp.post("/bridge/<int:attempt_id>/dialled")
@twilio_webhook
def dialled(attempt_id: int) -> Response:
    """Record how the consumer's leg ended and end the operator's call politely."""
    report = CallReport.from_request()
    result = record_dial_outcome(
        attempt_id,
        report.dial_status[:16],
        duration=report.dial_duration,
        recording_url=report.recording_url,
    )
    response = VoiceResponse()
    if result is None:
        _say(response, "nothing_to_bridge", current_app.config["DEFAULT_LANGUAGE"])
    elif result.answered:
        _say(response, "ended_answered", result.language)
    else:
        _say(response, "ended_unanswered", result.language)
    response.hangup()
    return twiml(response)
