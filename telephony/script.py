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
from dataclasses import dataclass
from xml.etree import ElementTree

from flask import Response

from telephony.xml import Attributes, Element, document

__all__ = ["CallScript", "CallerSide", "Speech", "Verb", "XmlCallScript", "XmlSpeech"]


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


# ------------------------------------------------------------------ a script read back


@dataclass(frozen=True, slots=True)
class Verb:
    """One verb of a script as a provider reads it back (the call simulator, tests).

    ``kind`` is a verb of the script above (``say``, ``play``, ``gather``, ``dial``,
    ``redirect``, ``hangup``, ``reject``) or ``pause``; ``text`` is what is said, the URL
    played or redirected to, or the number dialled; ``action`` is where a gather or a dial
    posts; a gather's prompts are its ``inner`` verbs.
    """

    kind: str
    text: str = ""
    language: str = ""
    action: str = ""
    finish_key: str = ""
    seconds: int = 0
    inner: tuple[Verb, ...] = ()


class CallerSide(ABC):
    """A provider's part toward our webhooks: its parameters, its signature, its reading.

    The call simulator (``flask ivr call --provider``) and the tests post webhooks as each
    provider would through one of these.
    """

    name: str

    def path(self, path: str) -> str:
        """Return the path the provider requests for the app's ``path``."""
        return path

    @abstractmethod
    def call(self, call_id: str, caller: str, dialled: str, status: str) -> dict[str, str]:
        """Return the parameters that name a call in each of its webhooks."""

    @abstractmethod
    def keys(self, keys: str) -> dict[str, str]:
        """Return the parameters of a gather's action when ``keys`` were pressed."""

    @abstractmethod
    def dial_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        """Return the parameters of a dial's action after the other leg ended so."""

    @abstractmethod
    def call_ended(self, status: str, seconds: int | None = None) -> dict[str, str]:
        """Return the parameters of a status callback of a call we placed."""

    @abstractmethod
    def answered_by(self, who: str) -> dict[str, str]:
        """Return the parameters telling who picked up (``human``, ``machine``)."""

    @abstractmethod
    def message_status(self, message_id: str, status: str) -> dict[str, str]:
        """Return the parameters of an SMS delivery report."""

    @abstractmethod
    def incoming_sms(
        self, message_id: str, sender: str, recipient: str, text: str
    ) -> dict[str, str]:
        """Return the parameters of the webhook that brings an SMS a consumer sent."""

    @abstractmethod
    def sign(self, url: str, params: dict[str, str]) -> dict[str, str]:
        """Return the headers that sign a POST of ``params`` to ``url``."""

    @abstractmethod
    def read(self, document: str) -> list[Verb]:
        """Read a script the app answered with; raise ValueError when it is not one."""


def parse_document(document: str) -> ElementTree.Element:
    """Parse an XML script; raise ValueError unless its root is ``<Response>``."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as error:
        raise ValueError(f"not XML: {error}") from error
    if root.tag != "Response":
        raise ValueError(f"the script's root is <{root.tag}>, not <Response>")
    return root


def language_of(tag: str | None) -> str:
    """Return the IVR's language code of a provider's language tag (``hi-IN`` → ``hi``)."""
    return (tag or "hi-IN").split("-")[0]


def read_verbs(document: str, kinds: dict[str, str], dialect: str) -> list[Verb]:
    """Read an XML script back as verbs; ``kinds`` names each element's verb.

    A kind of ``ignore`` skips the element (what the caller does not hear, e.g. a
    recording); an element not in ``kinds`` is an error, as the provider would find it.
    """
    verbs = (_read_verb(element, kinds, dialect) for element in parse_document(document))
    return [verb for verb in verbs if verb is not None]


def _read_verb(element: ElementTree.Element, kinds: dict[str, str], dialect: str) -> Verb | None:
    kind = kinds.get(element.tag)
    if kind is None:
        raise ValueError(f"unexpected {dialect} element <{element.tag}>")
    text = (element.text or "").strip()
    if kind == "ignore":
        return None
    if kind == "say":
        return Verb("say", text, language=language_of(element.get("language")))
    if kind == "pause":
        return Verb("pause", seconds=int(element.get("length", "1")))
    if kind == "gather":
        inner = tuple(verb for verb in (_read_verb(e, kinds, dialect) for e in element) if verb)
        if any(verb.kind not in ("say", "play") for verb in inner):
            raise ValueError(f"<{element.tag}> may hold only what the caller hears")
        return Verb(
            "gather",
            action=element.get("action", ""),
            finish_key=element.get("finishOnKey", "#"),
            inner=inner,
        )
    if kind == "dial":
        number = element.findtext("Number") or text
        return Verb("dial", number.strip(), action=element.get("action", ""))
    if kind == "hangup" and element.get("reason") == "rejected":
        return Verb("reject")  # Plivo's way of refusing a call unanswered
    return Verb(kind, text)
