"""Outgoing SMS and calls: what the flows may ask of a provider, and the outbox."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from core.phone import mask

log = logging.getLogger("sampark.telephony")

REST_TIMEOUT_SECONDS = 10.0
"""How long one REST call may take before it counts as a passing fault."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the provider said when it took a message or a call."""

    provider: str
    sid: str
    status: str


class Provider(Protocol):
    """What the flows may ask of a telephony provider.

    A provider whose ``bridges_calls`` is true also has ``connect(first, then, *,
    caller_id, status_callback, record, timeout)``: it rings the operator and then the
    consumer itself, instead of ringing the operator with the app's bridge script.
    """

    name: str
    bridges_calls: bool
    rings_with_scripts: bool  # place_call can ring a number with the app's call script

    def send_sms(
        self,
        to: str,
        body: str,
        *,
        sender: str,
        status_callback: str | None,
        dlt_template_id: str | None,
    ) -> Receipt: ...

    def place_call(
        self,
        to: str,
        *,
        caller_id: str,
        answer_url: str,
        status_callback: str | None,
        machine_detection: bool = False,
    ) -> Receipt: ...


class OutboxProvider:
    """Keep outgoing messages in the outbox table: nothing leaves the machine.

    The message row already is the outbox entry; this provider only acknowledges it, so a
    development machine with no provider account runs every flow end to end.
    """

    name = "outbox"
    bridges_calls = False
    rings_with_scripts = True

    def send_sms(
        self,
        to: str,
        body: str,
        *,
        sender: str,
        status_callback: str | None,
        dlt_template_id: str | None,
    ) -> Receipt:
        log.info("outbox: SMS to %s (%d characters)", mask(to), len(body))
        return Receipt(self.name, f"OB{uuid.uuid4().hex}", "sent")

    def place_call(
        self,
        to: str,
        *,
        caller_id: str,
        answer_url: str,
        status_callback: str | None,
        machine_detection: bool = False,
    ) -> Receipt:
        log.info("outbox: call to %s", mask(to))
        return Receipt(self.name, f"OB{uuid.uuid4().hex}", "queued")
