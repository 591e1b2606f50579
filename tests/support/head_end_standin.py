"""A local stand-in of a meter head-end's REST API (``meters.head_end`` speaks to it).

It takes connect and disconnect commands (IEC 61968-9 EndDeviceControl style: our mRID in,
its command id out; the same mRID again is the same command, not a second switching) and
reports each meter's relay state, switched ``delay`` seconds after the command. It can
also misbehave, as real head-ends do: answer too late (``slow_requests``), refuse
(``refusals``: answers with a status, 503 or 422, say), report a state of its own choosing
(``wrong_state``) or not know a meter (``unknown_meters``). It records every request.

For development: ``python -m tests.support.head_end_standin --port 8070 --delay 3``, then
``HEAD_END_URL=http://127.0.0.1:8070 make run``. Every meter it has not heard of is
disconnected until commanded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tests.support.json_standin import Json, JsonStandin, basic_auth

RELAY_PATH_PREFIX = "/end-devices/"
RELAY_PATH_SUFFIX = "/relay"
TARGET_STATES = {"connect": "connected", "disconnect": "disconnected"}


@dataclass
class _Switch:
    """A relay switching to ``state`` at ``at`` (monotonic seconds)."""

    state: str
    at: float
    command_id: str


class HeadEndStandin(JsonStandin):
    """A head-end on a local port."""

    def __init__(
        self,
        *,
        user: str = "",
        password: str = "",
        token: str = "",
        delay: float = 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.user, self.password, self.token = user, password, token
        self._counter = itertools.count(1)
        self.delay = delay
        self.reset()

    def reset(self) -> None:
        """Forget every meter, command and misbehaviour."""
        with self._lock:
            self.requests: list[dict[str, Any]] = []
            self.commands: dict[str, dict[str, Any]] = {}  # by mRID
            self.relays: dict[str, str] = {}
            self._switches: dict[str, _Switch] = {}
            self.unknown_meters: set[str] = set()
            self.connect_result = "connected"  # or "armed": the consumer presses the button
            self.wrong_state: str | None = None
            self.refusals: list[int] = []  # statuses the next commands are answered with
            self.slow_requests = 0  # the next N requests answer after ``slow_seconds``
            self.slow_seconds = 2.0

    # -- the test's side -----------------------------------------------------------------

    def set_relay(self, meter_id: str, state: str) -> None:
        with self._lock:
            self.relays[meter_id] = state
            self._switches.pop(meter_id, None)

    def relay(self, meter_id: str) -> str:
        with self._lock:
            return self._state(meter_id)

    @property
    def switchings(self) -> list[dict[str, Any]]:
        """The distinct commands taken (one per mRID), in order."""
        with self._lock:
            return list(self.commands.values())

    # -- the wire ------------------------------------------------------------------------

    def _authorised(self, authorization: str) -> bool:
        if self.token:
            return authorization == f"Bearer {self.token}"
        if self.user:
            return basic_auth(authorization) == (self.user, self.password)
        return True

    def _take_slowness(self) -> float:
        with self._lock:
            if self.slow_requests > 0:
                self.slow_requests -= 1
                return self.slow_seconds
        return 0.0

    def answer(self, path: str, authorization: str, body: bytes) -> tuple[int, Json]:
        pause = self._take_slowness()
        result = self._command(path, authorization, body)
        # A late answer: the command is taken all the same (the client may have gone).
        time.sleep(pause)
        return result

    def _command(self, path: str, authorization: str, body: bytes) -> tuple[int, Json]:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        with self._lock:
            self.requests.append({"method": "POST", "path": path, "body": request})
            if not self._authorised(authorization):
                return 401, {"error": "unauthorised"}
            if path != "/end-device-controls":
                return 404, {"error": f"no such resource {path}"}
            if self.refusals:
                status = self.refusals.pop(0)
                return status, {"error": f"refused ({status})"}
            if not isinstance(request, dict):
                return 400, {"error": "the body is not a JSON object"}
            mrid = request.get("mRID")
            control = request.get("endDeviceControlType")
            device = request.get("endDevice")
            meter_id = device.get("mRID") if isinstance(device, dict) else None
            if not mrid or control not in TARGET_STATES or not meter_id:
                return 422, {"error": "mRID, endDeviceControlType and endDevice.mRID required"}
            if meter_id in self.unknown_meters:
                return 404, {"error": f"unknown end device {meter_id}"}
            if mrid in self.commands:
                return 202, {"commandId": self.commands[mrid]["commandId"], "mRID": mrid}
            command_id = f"HE-{next(self._counter):06d}"
            self.commands[mrid] = {
                "mRID": mrid,
                "commandId": command_id,
                "control": control,
                "meter": meter_id,
            }
            target = TARGET_STATES[control]
            if target == "connected":
                target = self.connect_result
            self._switches[meter_id] = _Switch(target, time.monotonic() + self.delay, command_id)
            return 202, {"commandId": command_id, "mRID": mrid}

    def answer_get(self, path: str, authorization: str) -> tuple[int, Json]:
        pause = self._take_slowness()
        time.sleep(pause)
        with self._lock:
            self.requests.append({"method": "GET", "path": path})
            if not self._authorised(authorization):
                return 401, {"error": "unauthorised"}
            if not (path.startswith(RELAY_PATH_PREFIX) and path.endswith(RELAY_PATH_SUFFIX)):
                return 404, {"error": f"no such resource {path}"}
            meter_id = unquote(path[len(RELAY_PATH_PREFIX) : -len(RELAY_PATH_SUFFIX)])
            if meter_id in self.unknown_meters:
                return 404, {"error": f"unknown end device {meter_id}"}
            state = self.wrong_state or self._state(meter_id)
            switch = self._switches.get(meter_id)
            return 200, {
                "endDevice": {"mRID": meter_id},
                "relayState": state,
                "commandId": switch.command_id if switch else None,
            }

    def _state(self, meter_id: str) -> str:
        switch = self._switches.get(meter_id)
        if switch is not None and time.monotonic() >= switch.at:
            self.relays[meter_id] = switch.state
        return self.relays.get(meter_id, "disconnected")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--delay", type=float, default=3.0, help="seconds a relay takes")
    parser.add_argument("--armed", action="store_true", help="reconnect arms the relay only")
    args = parser.parse_args()
    standin = HeadEndStandin(delay=args.delay, port=args.port).start()
    if args.armed:
        standin.connect_result = "armed"
    print(f"head-end stand-in on {standin.base_url} (Ctrl-C stops it)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
