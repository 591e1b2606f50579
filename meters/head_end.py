"""The adapter to the meter head-end (the head-end / MDM system that talks to the meters).

Modelled on IEC 61968-9's EndDeviceControl: we ask for a control (``connect`` or
``disconnect``) of one end device (the meter, by its head-end id) under an mRID of our
own, the correlation id; the head-end answers with its command id and switches the relay
(DLMS/COSEM class 70: remote_reconnect, remote_disconnect) in its own time. We then read
the relay's state back: ``connected``, ``disconnected`` or ``armed`` (reconnection armed:
the consumer presses the meter's button).

The wire, JSON over HTTP(S):

- ``POST {HEAD_END_URL}/end-device-controls`` with ``{"mRID": "<correlation id>",
  "endDeviceControlType": "connect", "endDevice": {"mRID": "<meter>"}}``
  → 2xx ``{"commandId": "...", "mRID": "<correlation id>"}``. The same mRID again is the
  same command (the same command id, no second switching), so a command may be sent
  again after a timeout.
- ``GET {HEAD_END_URL}/end-devices/<meter>/relay`` → 200
  ``{"relayState": "connected", "commandId": "..."}``.
- 404: no such meter; other 4xx: refused; 5xx, 429, timeouts, refused connections: passing.

Credentials: HTTP Basic (``HEAD_END_USER``/``HEAD_END_PASSWORD``) or a bearer token
(``HEAD_END_TOKEN``). Nothing here knows about orders or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import requests
from flask import current_app

from meters.exceptions import (
    HeadEndNotConfigured,
    PermanentHeadEndError,
    TransientHeadEndError,
    UnknownMeter,
)


class RelayState(StrEnum):
    """What the head-end says of a meter's relay."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ARMED = "armed"  # reconnection armed: the consumer presses the button


class ControlType(StrEnum):
    """The controls we ask for."""

    CONNECT = "connect"
    DISCONNECT = "disconnect"


@dataclass(frozen=True)
class CommandReceipt:
    """The head-end's answer to a control request."""

    command_id: str
    correlation_id: str


@dataclass(frozen=True)
class RelayReading:
    """A meter's relay state as read back; ``state`` is as the head-end spelt it."""

    meter_id: str
    state: str
    command_id: str | None

    @property
    def known_state(self) -> RelayState | None:
        """The state, or None when the head-end said something we do not know."""
        try:
            return RelayState(self.state)
        except ValueError:
            return None


class HeadEnd:
    """A client of one head-end."""

    def __init__(
        self,
        base_url: str,
        *,
        user: str = "",
        password: str = "",
        token: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif user:
            self.session.auth = (user, password)

    def command(self, meter_id: str, control: ControlType, correlation_id: str) -> CommandReceipt:
        """Ask for a control of one meter; the same ``correlation_id`` is the same command."""
        answer = self._request(
            "POST",
            "/end-device-controls",
            meter_id,
            json={
                "mRID": correlation_id,
                "endDeviceControlType": str(control),
                "endDevice": {"mRID": meter_id},
            },
        )
        command_id = answer.get("commandId")
        if not command_id:
            raise TransientHeadEndError("the head-end took the command but named no commandId")
        return CommandReceipt(str(command_id)[:64], correlation_id)

    def connect(self, meter_id: str, correlation_id: str) -> CommandReceipt:
        """Ask the head-end to reconnect a meter."""
        return self.command(meter_id, ControlType.CONNECT, correlation_id)

    def disconnect(self, meter_id: str, correlation_id: str) -> CommandReceipt:
        """Ask the head-end to disconnect a meter."""
        return self.command(meter_id, ControlType.DISCONNECT, correlation_id)

    def relay_state(self, meter_id: str) -> RelayReading:
        """Read a meter's relay state."""
        answer = self._request("GET", f"/end-devices/{quote(meter_id, safe='')}/relay", meter_id)
        state = str(answer.get("relayState") or "").strip().lower()[:20]
        command_id = answer.get("commandId")
        return RelayReading(meter_id, state, str(command_id) if command_id else None)

    def _request(self, method: str, path: str, meter_id: str, **body: Any) -> dict[str, Any]:
        try:
            answer = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **body
            )
        except requests.RequestException as exc:
            raise TransientHeadEndError(f"head-end unreachable: {exc.__class__.__name__}") from exc
        try:
            payload = answer.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        status = answer.status_code
        if status < 400:
            return payload
        reason = str(payload.get("error") or answer.reason or "")[:200]
        message = f"head-end {status}: {reason}"
        if status == 404:
            raise UnknownMeter(f"the head-end knows no meter {meter_id!r} ({message})", status=404)
        if status >= 500 or status == 429:
            raise TransientHeadEndError(message, status=status)
        raise PermanentHeadEndError(message, status=status)


def head_end() -> HeadEnd:
    """Return the app's head-end client; raise ``HeadEndNotConfigured`` without ``HEAD_END_URL``."""
    client = current_app.extensions.get("head_end")
    if client is None:
        config = current_app.config
        if not config["HEAD_END_URL"]:
            raise HeadEndNotConfigured("HEAD_END_URL is not set")
        client = HeadEnd(
            config["HEAD_END_URL"],
            user=config["HEAD_END_USER"],
            password=config["HEAD_END_PASSWORD"],
            token=config["HEAD_END_TOKEN"],
            timeout=float(config["HEAD_END_TIMEOUT"]),
        )
        current_app.extensions["head_end"] = client
    return client


def head_end_configured() -> bool:
    """Tell whether commands can be sent (``HEAD_END_URL`` is set)."""
    return bool(current_app.config["HEAD_END_URL"])
