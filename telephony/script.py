"""The call script: what a call should do next, in words that name no provider.

Flows build a script with the verbs here and nothing else; the provider that sent the
webhook writes it in its own dialect (TwiML, Plivo XML). A script's verbs:

- ``say(text, language)`` and ``play(url)`` / ``play_all(urls)``: what the caller hears;
- ``gather(action, timeout=…, max_keys=1 | finish_key="#")``: collect keys while the
  prompts added to the returned ``Speech`` play, then post them (``keys``) to ``action``.
  When nothing is pressed the call goes on with the script's next verb (flows follow a
  gather with a ``redirect`` to the same action, which then hears no keys);
- ``dial(number, action=…, timeout=…, caller_id=…, record=…)``: connect the caller to
  ``number``; how that leg ended is posted to ``action`` (``dial_status``, its duration,
  the recording's URL);
- ``redirect(url)``, ``hangup()``, ``reject()`` (refuse the call unanswered, so the caller
  pays nothing: a missed call's answer).

Languages are the IVR's own codes (``hi``, ``en``); URLs may be relative to the app: a
dialect whose provider needs absolute ones makes them so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from flask import Response

from telephony.xml import Attributes, Element, document

__all__ = ["CallScript", "Speech", "XmlCallScript", "XmlSpeech"]


class Speech(ABC):
    """What the caller hears: a script's own prompts, or those of a gather."""

    __slots__ = ()

    @abstractmethod
    def say(self, text: str, language: str) -> None:
        """Speak ``text`` with the provider's text-to-speech in ``language`` (``hi``, ``en``)."""

    @abstractmethod
    def play(self, url: str) -> None:
        """Play the audio at ``url``."""

    @abstractmethod
    def play_all(self, urls: Iterable[str]) -> None:
        """Play the audio at each of ``urls`` in turn."""


class CallScript(Speech):
    """The answer to one webhook: what the call does next."""

    __slots__ = ()

    @abstractmethod
    def gather(
        self,
        action: str,
        *,
        timeout: int,
        max_keys: int | None = None,
        finish_key: str | None = None,
    ) -> Speech:
        """Collect ``max_keys`` keys (or keys up to ``finish_key``); post them to ``action``."""

    @abstractmethod
    def dial(
        self,
        number: str,
        *,
        action: str,
        timeout: int,
        caller_id: str | None = None,
        record: bool = False,
    ) -> None:
        """Connect the call to ``number``; post how that leg ended to ``action``."""

    @abstractmethod
    def redirect(self, url: str) -> None:
        """Continue the call with the script at ``url``."""

    @abstractmethod
    def hangup(self) -> None:
        """End the call."""

    @abstractmethod
    def reject(self) -> None:
        """Refuse the call unanswered: the caller is not charged."""

    @abstractmethod
    def response(self) -> Response:
        """Return the script as the provider expects to read it."""


# ------------------------------------------------------------------ the XML dialects' base


class XmlSpeech(Speech):
    """Prompts written as XML elements: ``<Play>`` and the dialect's text-to-speech element."""

    __slots__ = ("_element", "_voices", "_say_name")

    def __init__(self, element: Element, say_name: str, voices: dict[str, Attributes]) -> None:
        self._element = element
        self._say_name = say_name
        self._voices = voices

    def say(self, text: str, language: str) -> None:
        voice = self._voices.get(language)
        if voice is None:
            raise ValueError(f"no voice for language {language!r}")
        self._element.add(self._say_name, text, voice)

    def play(self, url: str) -> None:
        self._element.add("Play", url)

    def play_all(self, urls: Iterable[str]) -> None:
        self._element.play_all(urls)


class XmlCallScript(XmlSpeech, CallScript):
    """A script written as an XML document under ``<Response>``, served as ``text/xml``."""

    __slots__ = ()

    MIMETYPE = "text/xml"

    def __init__(self, say_name: str, voices: dict[str, Attributes]) -> None:
        super().__init__(Element("Response"), say_name, voices)

    def render(self) -> bytes:
        """Return the document's bytes."""
        return document(self._element)

    def response(self) -> Response:
        return Response(self.render(), mimetype=self.MIMETYPE)
