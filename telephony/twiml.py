"""TwiML: the call scripts the flows answer with.

Flows build them with the builder classes exported here (never from the twilio package
directly), so that a provider with another dialect is one module to change.
"""

from __future__ import annotations

from flask import Response
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

__all__ = [
    "Dial",
    "Gather",
    "VoiceResponse",
    "reject_busy",
    "render_twiml",
    "twiml",
    "TWIML_MIMETYPE",
]

TWIML_MIMETYPE = "text/xml"

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
"""What twilio's ``str(response)`` starts with."""


# The missed-call webhook answers every call with the same bytes; rendering them once keeps
# the hot path to a memory copy.
def _render_reject() -> bytes:
    response = VoiceResponse()
    response.reject(reason="busy")
    return str(response).encode()


_REJECT_BUSY = _render_reject()


def twiml(response: VoiceResponse) -> Response:
    """Turn a ``VoiceResponse`` into a Flask response."""
    return Response(render_twiml(response), mimetype=TWIML_MIMETYPE)


def reject_busy() -> Response:
    """Answer ``<Reject reason="busy"/>``: the call is not answered, so the caller pays nothing."""
    return Response(_REJECT_BUSY, mimetype=TWIML_MIMETYPE)


def render_twiml(response: TwiML) -> bytes:
    """Return the bytes of ``str(response)``, written directly from the builder objects.

    twilio's own rendering builds an ElementTree and serialises it, a sixth of an IVR
    step's time. This writes the same bytes (attributes sorted, booleans as true/false,
    the same escaping, ``<Hangup />`` for an empty verb) for what our flows build:
    verbs with attributes and a text, nested. Anything else, such as a bare string among
    a verb's children, is left to twilio.
    """
    out = [XML_DECLARATION]
    try:
        _write(response, out)
        return "".join(out).encode()
    except (_Unsupported, UnicodeEncodeError):
        return str(response).encode()


class _Unsupported(Exception):
    """A builder this writer does not know how to write exactly as twilio would."""


def _write(node: TwiML, out: list[str]) -> None:
    if not isinstance(node, TwiML):
        raise _Unsupported
    name, attrs, value, children = node.name, node.attrs, node.value, node.verbs
    head = "<" + name
    if attrs:
        head += "".join(_attribute(key, attrs[key]) for key in sorted(attrs))
    if value is not None and not isinstance(value, str):
        raise _Unsupported  # twilio writes a dict as JSON and refuses other types
    text = _escape_text(value) if value else ""
    if children:
        out.append(head + ">" + text)
        for child in children:
            _write(child, out)
        out.append("</" + name + ">")
    elif text:
        out.append(head + ">" + text + "</" + name + ">")
    else:
        out.append(head + " />")


def _attribute(key: str, value: object) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return " " + key + '="' + _escape(text, _ATTRIBUTE_ESCAPES) + '"'


# The escaping of xml.etree.ElementTree, which twilio serialises with.
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ESCAPES = (
    *_TEXT_ESCAPES,
    ('"', "&quot;"),
    ("\r", "&#13;"),
    ("\n", "&#10;"),
    ("\t", "&#09;"),
)


def _escape_text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return _escape(text, _TEXT_ESCAPES)
    return text  # nearly every text: nothing to escape


def _escape(text: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for char, entity in escapes:
        if char in text:
            text = text.replace(char, entity)
    return text
