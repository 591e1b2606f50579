"""What a webhook reports, in words that name no provider.

Each provider's module reads its own parameters into these records and turns its own
status words into the ones here, so flows never see a provider's dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FIELD_LIMIT = 64
"""Longest caller ID, number or id we keep; anything longer is junk."""

CALL_STATUSES = frozenset(
    {
        "queued",
        "initiated",
        "ringing",
        "in-progress",
        "completed",
        "busy",
        "no-answer",
        "failed",
        "canceled",
        "answered",  # a dialled leg picked up (and may still be talking)
    }
)
"""How a call (or one leg of a dial) stands; any other word a provider sends is dropped."""

MESSAGE_STATUSES = frozenset({"queued", "sent", "delivered", "undelivered", "failed"})
"""How an SMS stands, as delivery reports say; any other word is dropped."""


@dataclass(frozen=True, slots=True)
class InboundCall:
    """A voice webhook's view of the call."""

    call_sid: str  # the provider's id of the call ("" when the webhook named none)
    caller: str  # the caller's number as the provider gives it
    dialled: str  # the number that was called
    status: str  # one of CALL_STATUSES, or "" when unknown


@dataclass(frozen=True, slots=True)
class CallReport:
    """What a voice webhook reports beyond the call itself: keys, a dial's outcome, timings."""

    keys: str  # keys the caller pressed at a prompt; empty when they pressed none
    dial_status: str  # how the other leg of a dial ended (CALL_STATUSES); empty otherwise
    dial_duration: int | None
    call_duration: int | None
    recording_url: str | None
    answered_by: str  # "human", "machine" or "fax" on calls placed with machine detection


@dataclass(frozen=True, slots=True)
class MessageStatusReport:
    """An SMS delivery report."""

    message_sid: str
    status: str  # one of MESSAGE_STATUSES, or ""
    error_code: str


MESSAGE_LIMIT = 1600
"""Longest SMS text we keep (ten concatenated segments); anything longer is junk."""


@dataclass(frozen=True, slots=True)
class IncomingSms:
    """An SMS a consumer sent to one of our numbers."""

    message_sid: str  # the provider's id of the message ("" when the webhook named none)
    sender: str  # the sender's number as the provider gives it
    recipient: str  # our number it was sent to
    text: str  # what it says, trimmed

    @classmethod
    def read(cls, params: Mapping[str, str], *, ids: tuple[str, ...], text: str) -> IncomingSms:
        """Read one from a webhook's parameters, in the provider's names for its id and text.

        The id is under the first of ``ids`` given; every provider names the sender and
        our number ``From`` and ``To``.
        """
        message_sid = next((params[name] for name in ids if params.get(name)), "")
        return cls(
            message_sid=clean(message_sid),
            sender=clean(params.get("From", "")),
            recipient=clean(params.get("To", "")),
            text=clean_text(params.get(text, "")),
        )


def clean(value: str) -> str:
    """Return a parameter cut to FIELD_LIMIT and without unprintable characters."""
    # Junk in a form field must not reach the database: PostgreSQL refuses NUL bytes.
    value = value[:FIELD_LIMIT]
    return value if value.isprintable() else "".join(ch for ch in value if ch.isprintable())


def clean_text(value: str) -> str:
    """Return a message's text cut to MESSAGE_LIMIT, unprintable characters as spaces."""
    value = value[:MESSAGE_LIMIT]
    if not value.isprintable():
        value = "".join(ch if ch.isprintable() else " " for ch in value)
    return value.strip()


def seconds(value: str) -> int | None:
    """Return a duration parameter in whole seconds, or None when it is not one."""
    # isdigit() is also true of "²" and other digits int() refuses: ASCII digits only.
    if value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None


def status_word(value: str, words: frozenset[str], aliases: dict[str, str]) -> str:
    """Return a provider's status word in our words, or "" when it is none of them."""
    value = clean(value).lower()
    value = aliases.get(value, value)
    return value if value in words else ""


def clean_url(value: str) -> str | None:
    """Return an http(s) URL kept whole but printable, or None."""
    value = "".join(ch for ch in value[:500] if ch.isprintable())
    return value if value.startswith(("https://", "http://")) else None
