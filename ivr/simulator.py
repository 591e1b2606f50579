"""A call simulator that plays a provider's part: signed webhooks in, scripts followed, audio out.

``flask ivr call --to <number>`` and the tests use it to walk whole calls through the IVR:
it posts the voice webhook as the provider would (``--provider``: its parameters, signed
with its auth token), follows the script it gets back (gather, redirect, play, say, dial,
reject, hangup, read back through ``telephony``'s ``CallerSide``), presses the keys
it is given (or reads them from the terminal), prints the conversation and can write the
whole call's audio to one WAV file: the played clips as served, ``<Say>`` texts spoken
with the same pyttsx3/espeak-ng synthesizer the prompts are rendered with.
"""

from __future__ import annotations

import io
import uuid
import wave
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import requests
from flask import Flask

from telephony.script import CallerSide, Verb
from voice_prompts.audio import TELEPHONY_RATE, resample, silence, write_wav
from voice_prompts.library import AUDIO_SUFFIX, read_manifest

ENTRY_PATH = "/ivr/voice"
"""The IVR number's voice webhook: where every call starts."""

MAX_REQUESTS = 200
"""Webhooks one simulated call may make before it is called a loop and stopped."""

PAUSE_MS = 150
"""Silence between two pieces of audio in the recording."""

WAIT_MS = 1000
"""Silence standing for a gather waiting for keys."""

HTTP_TIMEOUT_SECONDS = 15
"""Providers wait about this long for a webhook."""

DEFAULT_CALLER = "+919812345678"


class SimulatorError(RuntimeError):
    """The app answered something a provider would not accept (an error status, a bad script)."""


class Transport(Protocol):
    """How the simulator reaches the app."""

    def post(self, path: str, params: dict[str, str]) -> str: ...

    def get(self, path: str) -> bytes: ...


class _Signer:
    def __init__(self, side: CallerSide, signed_base: str) -> None:
        self.side = side
        self.signed_base = signed_base.rstrip("/")

    def headers(self, path: str, params: dict[str, str]) -> dict[str, str]:
        return {
            **self.side.sign(self.signed_base + path, params),
            "Content-Type": "application/x-www-form-urlencoded",
        }


class FlaskTransport:
    """Post to an app in this process through its test client."""

    def __init__(self, app: Flask, side: CallerSide) -> None:
        self.app = app
        self.client = app.test_client()
        base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
        self.signer = _Signer(side, base)

    def post(self, path: str, params: dict[str, str]) -> str:
        response = self.client.post(
            path, data=urlencode(params), headers=self.signer.headers(path, params)
        )
        if response.status_code != 200:
            raise SimulatorError(f"POST {path} answered {response.status_code}")
        return response.get_data(as_text=True)

    def get(self, path: str) -> bytes:
        response = self.client.get(path)
        if response.status_code != 200:
            raise SimulatorError(f"GET {path} answered {response.status_code}")
        return response.get_data()


class HttpTransport:
    """Post to a running server, signing for the public URL the provider would use."""

    def __init__(self, base_url: str, side: CallerSide, public_base_url: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = _Signer(side, public_base_url or self.base_url)
        self.session = requests.Session()

    def post(self, path: str, params: dict[str, str]) -> str:
        response = self.session.post(
            self.base_url + path,
            data=urlencode(params),
            headers=self.signer.headers(path, params),
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        if response.status_code != 200:
            raise SimulatorError(f"POST {path} answered {response.status_code}")
        return response.text

    def get(self, path: str) -> bytes:
        response = self.session.get(self.base_url + path, timeout=HTTP_TIMEOUT_SECONDS)
        if response.status_code != 200:
            raise SimulatorError(f"GET {path} answered {response.status_code}")
        return response.content


@dataclass
class Turn:
    """One thing that happened in the call, as a line of the conversation."""

    who: str  # "ivr", "caller" or "network"
    text: str

    def __str__(self) -> str:
        label = {"ivr": "IVR   ", "caller": "Caller", "network": "      "}[self.who]
        return f"{label} | {self.text}"


@dataclass
class CallRecord:
    """A finished simulated call."""

    turns: list[Turn] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    ended_by: str = ""
    dialled: list[str] = field(default_factory=list)
    samples: array = field(default_factory=lambda: array("h"))

    def said(self) -> str:
        """Return everything the IVR said, joined."""
        return " ".join(turn.text for turn in self.turns if turn.who == "ivr")

    def write_wav(self, path: str | Path) -> None:
        """Write the call's audio as 8 kHz mono WAV."""
        write_wav(path, self.samples, TELEPHONY_RATE)


KeySource = Callable[[], str | None]
"""Returns the keys pressed at a gather ("" for none), or None when the caller hangs up."""


def keys_from_list(keys: Iterable[str]) -> KeySource:
    """Press the given entries one per gather; when they run out, press nothing."""
    remaining: Iterator[str] = iter(list(keys))
    return lambda: next(remaining, "")


class CallSimulator:
    """Play one call against the IVR, as the provider would."""

    def __init__(
        self,
        transport: Transport,
        side: CallerSide,
        *,
        to: str,
        caller: str = DEFAULT_CALLER,
        keys: KeySource | None = None,
        prompts_directory: str | Path | None = None,
        record_audio: bool = False,
        dial_status: str = "completed",
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.transport = transport
        self.keys = keys or keys_from_list(())
        self.record_audio = record_audio
        self.dial_status = dial_status
        self.echo = echo
        self.manifest = read_manifest(prompts_directory) if prompts_directory else {}
        self.side = side
        self.params = side.call("CA" + uuid.uuid4().hex, caller, to, "in-progress")
        self._synthesizer = None
        self.record = CallRecord()

    def run(self) -> CallRecord:
        """Place the call and follow it to its end."""
        path: str | None = self.side.path(ENTRY_PATH)
        extra: dict[str, str] = {}
        while path is not None:
            if len(self.record.requests) >= MAX_REQUESTS:
                self._note("network", f"stopped after {MAX_REQUESTS} webhooks (a loop?)")
                self.record.ended_by = "loop"
                break
            self.record.requests.append(path)
            document = self.transport.post(path, {**self.params, **extra})
            path, extra = self._follow(document)
        return self.record

    def _follow(self, document: str) -> tuple[str | None, dict[str, str]]:
        try:
            verbs = self.side.read(document)
        except ValueError as error:
            raise SimulatorError(f"not a {self.side.name} script: {error}") from error
        for verb in verbs:
            if verb.kind in ("say", "play"):
                self._speech(verb)
            elif verb.kind == "pause":
                self._silence(verb.seconds * 1000)
            elif verb.kind == "gather":
                for inner in verb.inner:
                    self._speech(inner)
                keys = self.keys()
                if keys is None:
                    self._end("caller hung up")
                    return None, {}
                finish = verb.finish_key
                if keys:
                    self._note("caller", f"presses {keys}")
                    self._silence(WAIT_MS // 2)
                    digits = keys[:-1] if finish and keys.endswith(finish) else keys
                    return _path(verb.action), self.side.keys(digits)
                self._note("caller", "(presses nothing)")
                self._silence(WAIT_MS)
            elif verb.kind == "redirect":
                return _path(verb.text), {}
            elif verb.kind == "dial":
                self.record.dialled.append(verb.text)
                self._note("network", f"dials {verb.text}: {self.dial_status}")
                if verb.action:
                    return _path(verb.action), self.side.dial_ended(self.dial_status)
            elif verb.kind == "reject":
                self._end("rejected")
                return None, {}
            elif verb.kind == "hangup":
                self._end("IVR hung up")
                return None, {}
        self._end("end of the script: the call ends")
        return None, {}

    def _speech(self, verb: Verb) -> None:
        if verb.kind == "say":
            self._note("ivr", verb.text)
            if self.record_audio:
                self._append(self._synthesize(verb.text, verb.language))
        else:
            self._note("ivr", self._describe(verb.text))
            if self.record_audio:
                self._append(_wav_samples(self.transport.get(_path(verb.text))))

    def _describe(self, url: str) -> str:
        # The audio URL ends in <lang>/<key>.wav; the manifest knows what that file says.
        relative = urlsplit(url).path.split("/audio/", 1)[-1]
        entry = self.manifest.get(relative.removesuffix(AUDIO_SUFFIX))
        return entry["text"] if entry and "text" in entry else f"[plays {relative}]"

    def _note(self, who: str, text: str) -> None:
        # Consecutive clips of one sentence read as one line.
        turns = self.record.turns
        if who == "ivr" and turns and turns[-1].who == "ivr":
            turns[-1].text += " " + text
            return
        if turns and self.echo is not None:
            self.echo(str(turns[-1]))
        turns.append(Turn(who, text))

    def _end(self, how: str) -> None:
        self._note("network", how)
        self.record.ended_by = how
        if self.echo is not None:
            self.echo(str(self.record.turns[-1]))

    def _append(self, samples: array) -> None:
        if self.record.samples:
            self._silence(PAUSE_MS)
        self.record.samples.extend(samples)

    def _silence(self, milliseconds: int) -> None:
        if self.record_audio:
            self.record.samples.extend(silence(TELEPHONY_RATE, milliseconds))

    def _synthesize(self, text: str, lang: str) -> array:
        if self._synthesizer is None:
            from voice_prompts.render import Synthesizer

            self._synthesizer = Synthesizer()
        return array("h", self._synthesizer.synthesize(text, lang))


def _path(url: str) -> str:
    """Return the path and query of a URL, relative or absolute, to post to the app."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _wav_samples(data: bytes) -> array:
    with wave.open(io.BytesIO(data), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    if width != 2 or channels != 1:
        raise SimulatorError(f"played audio is not 16-bit mono ({width * 8}-bit, {channels} ch)")
    samples = array("h")
    samples.frombytes(frames)
    return resample(samples, rate, TELEPHONY_RATE) if rate != TELEPHONY_RATE else samples
