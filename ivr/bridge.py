"""Calls we place: the call script that bridges an answering operator to the consumer.

The operator is rung first (``callqueue.calls.place_call``); when they answer, ``answer``
whispers a short prompt in their language and dials the consumer from the DISCOM's number.
The dial's action, ``dialled``, records how the consumer's leg ended and says goodbye.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, url_for

from callqueue.calls import dial_timeout, mark_answered, record_dial_outcome, recording_on
from telephony.inbound import call_report, call_script, webhook
from telephony.script import CallScript
from voice_prompts.languages import LANGUAGES

bridge_bp = Blueprint("bridge", __name__, url_prefix="/ivr")

PROMPTS_FILE = Path(__file__).with_name("bridge_prompts.toml")


@lru_cache(maxsize=2)
def _catalogue(path: str) -> dict:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _say(script: CallScript, key: str, language: str) -> None:
    if language not in LANGUAGES:
        language = current_app.config["DEFAULT_LANGUAGE"]
        language = language if language in LANGUAGES else LANGUAGES[0]
    script.say(_catalogue(str(PROMPTS_FILE))["prompts"][key][language], language)


@bridge_bp.post("/bridge/<int:attempt_id>")
@webhook
def answer(attempt_id: int) -> Response:
    """Whisper to the operator who answered, then dial the consumer."""
    bridge = mark_answered(attempt_id)
    script = call_script()
    if bridge is None:
        _say(script, "nothing_to_bridge", current_app.config["DEFAULT_LANGUAGE"])
        script.hangup()
        return script.response()
    consumer_phone, language = bridge
    _say(script, "whisper", language)
    script.dial(
        consumer_phone,
        action=url_for("bridge.dialled", attempt_id=attempt_id),
        timeout=dial_timeout(),
        caller_id=current_app.config["CALLER_ID"],
        record=recording_on(),
    )
    return script.response()


@bridge_bp.post("/bridge/<int:attempt_id>/dialled")
@webhook
def dialled(attempt_id: int) -> Response:
    """Record how the consumer's leg ended and end the operator's call politely."""
    report = call_report()
    result = record_dial_outcome(
        attempt_id,
        report.dial_status[:16],
        duration=report.dial_duration,
        recording_url=report.recording_url,
    )
    script = call_script()
    if result is None:
        _say(script, "nothing_to_bridge", current_app.config["DEFAULT_LANGUAGE"])
    elif result.answered:
        _say(script, "ended_answered", result.language)
    else:
        _say(script, "ended_unanswered", result.language)
    script.hangup()
    return script.response()
