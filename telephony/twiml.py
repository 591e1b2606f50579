"""TwiML: the call scripts the flows answer with.

Flows build them with the builder classes exported here (never from the twilio package
directly), so that a provider with another dialect is one module to change.
"""

from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

__all__ = ["Dial", "Gather", "VoiceResponse", "reject_busy", "twiml", "TWIML_MIMETYPE"]

TWIML_MIMETYPE = "text/xml"


# The missed-call webhook answers every call with the same bytes; rendering them once keeps
# the hot path to a memory copy.
def _render_reject() -> bytes:
    response = VoiceResponse()
    response.reject(reason="busy")
    return str(response).encode()


_REJECT_BUSY = _render_reject()


def twiml(response: VoiceResponse) -> Response:
    """Turn a ``VoiceResponse`` into a Flask response."""
    return Response(str(response), mimetype=TWIML_MIMETYPE)


def reject_busy() -> Response:
    """Answer ``<Reject reason="busy"/>``: the call is not answered, so the caller pays nothing."""
    return Response(_REJECT_BUSY, mimetype=TWIML_MIMETYPE)
