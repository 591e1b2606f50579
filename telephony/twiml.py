"""TwiML: the call scripts the flows answer with.

Flows build them with the builder classes here (never from the twilio package directly),
so that a provider with another dialect is one module to change. The builders take the
arguments twilio's own builders take (``say(text, language="hi-IN")``,
``Gather(action=…, num_digits=1)``) for the verbs the flows use, and write each verb's
text as it is added: a webhook answers with a dozen verbs, and building twilio's verb
objects and then its ElementTree cost more than the rest of a step. The bytes are
twilio's own, byte for byte (attributes named and sorted as twilio names them, booleans
as true/false, ElementTree's escaping); the tests compare each shape with twilio's
rendering.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response

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


class _Verbs:
    """A verb that holds others (Response, Gather, Dial): its start tag and what it holds.

    Each added verb is kept as its finished text; a verb that holds others is kept as
    itself, so that what is added to it after it was appended is still written.
    """

    __slots__ = ("_name", "_head", "_children")

    def __init__(self, name: str, attrs: dict[str, Any]) -> None:
        self._name = name
        self._head = _start_tag(name, attrs)
        self._children: list[str | _Verbs] = []

    def append(self, verb: _Verbs) -> _Verbs:
        """Add a verb built on its own (a Gather, a Dial); return self, as twilio does."""
        if not isinstance(verb, _Verbs):
            raise TypeError(f"only verbs built here can be appended, not {type(verb).__name__}")
        self._children.append(verb)
        return self

    def _add(self, name: str, text: str | None, attrs: dict[str, Any]) -> None:
        head = _start_tag(name, attrs)
        if text:
            self._children.append(head + ">" + _escape_text(text) + "</" + name + ">")
        else:
            self._children.append(head + " />")

    def _write(self, out: list[str]) -> None:
        if not self._children:
            out.append(self._head + " />")
            return
        out.append(self._head + ">")
        for child in self._children:
            if type(child) is str:
                out.append(child)
            else:
                child._write(out)  # type: ignore[union-attr]
        out.append("</" + self._name + ">")


class _Speaks(_Verbs):
    """The verbs a caller hears, which both a response and a Gather hold."""

    __slots__ = ()

    def say(self, message: str | None = None, **attrs: Any) -> None:
        """Speak ``message`` with the provider's text-to-speech (``language``, ``voice``)."""
        self._add("Say", message, attrs)

    def play(self, url: str | None = None, **attrs: Any) -> None:
        """Play the audio at ``url``."""
        self._add("Play", url, attrs)

    def play_all(self, urls: Iterable[str]) -> None:
        """Play the audio at each of ``urls`` in turn, as ``play(url)`` for each would.

        An announcement is dozens of clips, each a ``<Play>``: the clips are few, so each
        one's verb is written once and kept.
        """
        children = self._children
        for url in urls:
            verb = _PLAY_VERBS.get(url)
            if verb is None:
                verb = "<Play>" + _escape_text(url) + "</Play>" if url else "<Play />"
                if len(_PLAY_VERBS) < MAX_KEPT_PLAY_VERBS:
                    _PLAY_VERBS[url] = verb
            children.append(verb)


class Gather(_Speaks):
    """``<Gather>``: collect keys while its prompts play, then post them to ``action``."""

    __slots__ = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__("Gather", attrs)


class Dial(_Verbs):
    """``<Dial>``: connect the call to another party."""

    __slots__ = ()

    def __init__(self, number: str | None = None, **attrs: Any) -> None:
        super().__init__("Dial", attrs)
        if number:
            self._children.append(_escape_text(number))

    def number(self, phone_number: str, **attrs: Any) -> None:
        """Dial ``phone_number`` (with its own ``status_callback`` and the like)."""
        self._add("Number", phone_number, attrs)


class VoiceResponse(_Speaks):
    """``<Response>``: the script of one webhook's answer."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("Response", {})

    def redirect(self, url: str, **attrs: Any) -> None:
        """Continue the call with the TwiML at ``url``."""
        self._add("Redirect", url, attrs)

    def hangup(self) -> None:
        """End the call."""
        self._add("Hangup", None, {})

    def reject(self, **attrs: Any) -> None:
        """Refuse the call unanswered (``reason="busy"``): the caller is not charged."""
        self._add("Reject", None, attrs)

    def dial(self, number: str | None = None, **attrs: Any) -> Dial:
        """Connect the call to ``number``; return the Dial."""
        dial = Dial(number, **attrs)
        self._children.append(dial)
        return dial


def twiml(response: VoiceResponse) -> Response:
    """Turn a ``VoiceResponse`` into a Flask response."""
    return Response(render_twiml(response), mimetype=TWIML_MIMETYPE)


def render_twiml(response: VoiceResponse) -> bytes:
    """Return the response's bytes, as twilio's ``str(response).encode()`` gives them."""
    out = [XML_DECLARATION]
    response._write(out)
    # ElementTree writes what UTF-8 cannot hold (a lone surrogate) as a character reference.
    return "".join(out).encode("utf-8", "xmlcharrefreplace")


def reject_busy() -> Response:
    """Answer ``<Reject reason="busy"/>``: the call is not answered, so the caller pays nothing."""
    return Response(_REJECT_BUSY, mimetype=TWIML_MIMETYPE)


# ------------------------------------------------------------------ writing, as twilio writes

_RENAMED = {
    "from_": "from",
    "xml_lang": "xml:lang",
    "interpret_as": "interpret-as",
    "for_": "for",
    "break_": "break",
}
"""Arguments that are Python keywords or not identifiers, as twilio names them."""

MAX_KEPT_PLAY_VERBS = 10_000
"""How many ``<Play>`` verbs are kept written (the clips of every prompt, several versions)."""

_PLAY_VERBS: dict[str, str] = {}
"""``<Play>`` verbs by URL, as ``play_all`` writes them."""

_ORDERS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
"""For each set of argument names seen: (attribute, argument) pairs in attribute order."""


def _start_tag(name: str, attrs: dict[str, Any]) -> str:
    if not attrs:
        return "<" + name
    order = _ORDERS.get(tuple(attrs))
    if order is None:
        order = _attribute_order(tuple(attrs))
    head = "<" + name
    for attribute, argument in order:
        value = attrs[argument]
        if value is not None:  # twilio leaves out an attribute given as None
            if value is True or value is False:
                text = "true" if value else "false"
            else:
                text = _escape_attribute(str(value))
            head += " " + attribute + '="' + text + '"'
    return head


def _attribute_order(arguments: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # Argument names become attribute names as twilio makes them (num_digits → numDigits),
    # written sorted by attribute name, as twilio sorts them.
    order = tuple(sorted((_lower_camel(_RENAMED.get(each, each)), each) for each in arguments))
    if len(_ORDERS) < 1000:  # a flow passes a handful of different sets
        _ORDERS[arguments] = order
    return order


def _lower_camel(name: str) -> str:
    # twilio.twiml.lower_camel
    if "_" not in name:
        return name
    joined = "".join(part.title() for part in name.split("_"))
    return joined[0].lower() + joined[1:]


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


def _escape_attribute(text: str) -> str:
    return _escape(text, _ATTRIBUTE_ESCAPES)


def _escape(text: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for char, entity in escapes:
        if char in text:
            text = text.replace(char, entity)
    return text


# The missed-call webhook answers every call with the same bytes; rendering them once keeps
# the hot path to a memory copy.
def _render_reject() -> bytes:
    response = VoiceResponse()
    response.reject(reason="busy")
    return render_twiml(response)


_REJECT_BUSY = _render_reject()
