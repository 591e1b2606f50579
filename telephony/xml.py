"""A fast writer for the XML call scripts providers read (TwiML, Plivo XML).

What it buys: a webhook answers with a dozen elements, and building an SDK's element
objects and then an ElementTree cost more than the rest of a step; this writes each
element's text as it is added (``make bench``, README). The bytes are ElementTree's: its
escaping, ``<Name />`` for an empty element, and the XML declaration the SDKs write.
What removing it costs: each dialect would build its SDK's objects instead (twilio's
``VoiceResponse``, plivo's ``ResponseElement``) and the webhooks would slow down.
"""

from __future__ import annotations

from collections.abc import Iterable

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
"""What twilio's and plivo's ``to_string()`` start with."""

Attributes = tuple[tuple[str, object], ...]
"""An element's attributes as (name, value) pairs, in the order they are written."""

MAX_KEPT_PLAY_ELEMENTS = 10_000
"""How many ``<Play>`` elements are kept written (the clips of every prompt, several versions)."""

_PLAY_ELEMENTS: dict[str, str] = {}
"""``<Play>`` elements by URL, as ``Element.play_all`` writes them."""


class Element:
    """An element that holds others: its start tag and what it holds.

    Each added child is kept as its finished text; a child that holds others is kept as
    itself, so that what is added to it after it was added is still written.
    """

    __slots__ = ("_name", "_head", "_children")

    def __init__(self, name: str, attributes: Attributes = ()) -> None:
        self._name = name
        self._head = start_tag(name, attributes)
        self._children: list[str | Element] = []

    def add(self, name: str, text: str | None = None, attributes: Attributes = ()) -> None:
        """Add a child element with ``text`` (none when empty or None)."""
        head = start_tag(name, attributes)
        if text:
            self._children.append(head + ">" + escape_text(text) + "</" + name + ">")
        else:
            self._children.append(head + " />")

    def add_text(self, text: str) -> None:
        """Add text directly inside this element."""
        if text:
            self._children.append(escape_text(text))

    def nest(self, child: Element) -> Element:
        """Add an element that holds others; return it, to be filled later."""
        self._children.append(child)
        return child

    def play_all(self, urls: Iterable[str]) -> None:
        """Add a ``<Play>`` of each URL in turn, as ``add("Play", url)`` for each would.

        An announcement is dozens of clips: the clips are few, so each one's element is
        written once and kept.
        """
        children = self._children
        for url in urls:
            element = _PLAY_ELEMENTS.get(url)
            if element is None:
                element = "<Play>" + escape_text(url) + "</Play>" if url else "<Play />"
                if len(_PLAY_ELEMENTS) < MAX_KEPT_PLAY_ELEMENTS:
                    _PLAY_ELEMENTS[url] = element
            children.append(element)

    def write(self, out: list[str]) -> None:
        """Append this element's text to ``out``."""
        if not self._children:
            out.append(self._head + " />")
            return
        out.append(self._head + ">")
        for child in self._children:
            if type(child) is str:
                out.append(child)
            else:
                child.write(out)  # type: ignore[union-attr]
        out.append("</" + self._name + ">")


def document(root: Element) -> bytes:
    """Return the whole document's bytes, declaration first."""
    out = [XML_DECLARATION]
    root.write(out)
    # ElementTree writes what UTF-8 cannot hold (a lone surrogate) as a character reference.
    return "".join(out).encode("utf-8", "xmlcharrefreplace")


def start_tag(name: str, attributes: Attributes) -> str:
    """Return ``<name a="1" …`` (unclosed); attributes given as None are left out."""
    head = "<" + name
    for attribute, value in attributes:
        if value is not None:
            if value is True or value is False:
                text = "true" if value else "false"
            else:
                text = escape_attribute(str(value))
            head += " " + attribute + '="' + text + '"'
    return head


# The escaping of xml.etree.ElementTree, which the providers' SDKs serialise with.
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ESCAPES = (
    *_TEXT_ESCAPES,
    ('"', "&quot;"),
    ("\r", "&#13;"),
    ("\n", "&#10;"),
    ("\t", "&#09;"),
)


def escape_text(text: str) -> str:
    """Escape element text as ElementTree does."""
    if "&" in text or "<" in text or ">" in text:
        return _escape(text, _TEXT_ESCAPES)
    return text  # nearly every text: nothing to escape


def escape_attribute(text: str) -> str:
    """Escape an attribute value as ElementTree does."""
    return _escape(text, _ATTRIBUTE_ESCAPES)


def _escape(text: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for char, entity in escapes:
        if char in text:
            text = text.replace(char, entity)
    return text
