"""Callback slots: the part of the calling day a consumer asks to be called back in.

A consumer may ask for the morning, the afternoon or the evening (the IVR's callback
option, or an SMS reply such as "CALL EVENING"). The slots' hours are the setting
``CALLBACK_SLOTS``, clipped to the calling hours; a slot that keeps no time inside them is
not offered. A callback records its slot, and its ``due_at`` is the slot's next start, so
the queue honours the slot through the condition take-next already has (``due_at <= now``,
on ix_callbacks_take_next) and needs no other.

A slot callback not taken before its slot ends stays due: the queue takes it in its usual
order (priority, then due time, so ahead of callbacks that fell due later), in the calling
hours left that day. Moving it on to the next day's slot would make a consumer who waited
all morning wait another day; the console shows the slot, so the operator knows what was
asked for. Retries after an unanswered call go to the slot's next start (``callqueue.calls``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.config import SettingsError, settings, split_list
from core.hours import MAX_DAYS_AHEAD, CallingHours, CallingHoursError

log = logging.getLogger("sampark.config")

MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"
SLOT_NAMES = (MORNING, AFTERNOON, EVENING)
"""The slots a consumer may ask for, in the order of the day."""

SLOT_DIGITS = {"1": MORNING, "2": AFTERNOON, "3": EVENING}
"""The key a caller presses, or the digit a consumer texts, for each slot.

The IVR's prompts (``callback_slot_*`` in voice_prompts/catalogue.toml) and the SMS
templates say these digits.
"""

SOONEST_DIGIT = "0"
"""The key (or digit texted) for "as soon as possible": no slot."""


@dataclass(frozen=True)
class CallbackSlot:
    """One slot's hours on a calling day, in local time, inside the calling hours."""

    name: str
    opens: time
    closes: time


@dataclass(frozen=True)
class CallbackSlots:
    """The slots on offer (in the order of the day) and the calling hours they lie in."""

    slots: tuple[CallbackSlot, ...]
    hours: CallingHours

    @classmethod
    def from_settings(cls, value: str, hours: CallingHours) -> CallbackSlots:
        """Read ``"morning=09:00-12:00,afternoon=12:00-16:00,evening=16:00-21:00"``.

        Raise ``SettingsError`` for an unknown slot name, a slot named twice, or hours
        that cannot be read or close before they open. Each slot is clipped to the
        calling hours; one that keeps no time inside them is left out (and logged).
        """
        read: dict[str, CallbackSlot] = {}
        for item in split_list(value):
            name, sep, window = (part.strip() for part in item.partition("="))
            name = name.lower()
            if not sep or name not in SLOT_NAMES:
                raise SettingsError(
                    f"CALLBACK_SLOTS takes {', '.join(SLOT_NAMES)} as name=HH:MM-HH:MM, "
                    f"not {item!r}"
                )
            if name in read:
                raise SettingsError(f"CALLBACK_SLOTS names {name} twice")
            try:
                hours_of = CallingHours.from_settings(window, hours.zone.key)
            except CallingHoursError as exc:
                message = f"CALLBACK_SLOTS: {name} must look like 09:00-12:00, not {window!r}"
                raise SettingsError(message) from exc
            opens, closes = max(hours_of.opens, hours.opens), min(hours_of.closes, hours.closes)
            if closes <= opens:
                log.warning(
                    "CALLBACK_SLOTS: %s (%s) lies outside CALLING_HOURS: not offered",
                    name,
                    window,
                )
                continue
            read[name] = CallbackSlot(name, opens, closes)
        return cls(tuple(read[name] for name in SLOT_NAMES if name in read), hours)

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the slots on offer."""
        return tuple(slot.name for slot in self.slots)

    def get(self, name: str | None) -> CallbackSlot | None:
        """Return the slot of this name if it is on offer, else None."""
        return next((slot for slot in self.slots if slot.name == name), None)

    def next_start(self, name: str | None, at: datetime) -> datetime:
        """Return when a callback for slot ``name`` falls due, from ``at``.

        Today's slot if it has not ended yet (``at`` itself when the slot is under way),
        else the slot on the next calling day (days off and holidays skipped). No slot,
        or one no longer on offer, falls due at the next calling time, as before slots.
        """
        slot = self.get(name)
        if slot is None:
            return self.hours.next_open(at)
        zone = self.hours.zone
        day = at.astimezone(zone).date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.hours.day_is_open(day):
                starts = datetime.combine(day, slot.opens, zone)
                if at < datetime.combine(day, slot.closes, zone):
                    return max(at, starts.astimezone(at.tzinfo))
            day += timedelta(days=1)
        raise CallingHoursError("no open day in the coming year; check CALLING_HOLIDAYS")


def callback_slots() -> CallbackSlots:
    """Return the app's callback slots (``CALLBACK_SLOTS`` inside the calling hours)."""
    return settings().callback_slots

