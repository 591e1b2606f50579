"""pyttsx3's espeak-ng driver, with the end of each utterance kept.

pyttsx3 2.99 appends a callback's samples only after it has handled that callback's
events; when the samples arrive together with the end-of-message event, the file has
already been written and they are lost. Short prompts then come out empty, longer ones cut
short, at random. This driver takes the samples first. It is registered as the pyttsx3
driver ``sampark_espeak`` (pyttsx3 loads drivers by module name under its ``drivers``).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from pyttsx3.drivers import espeak

DRIVER_NAME = "sampark_espeak"
"""The name to pass to ``pyttsx3.init``."""


class WholeUtteranceDriver(espeak.EspeakDriver):
    """The espeak driver, appending samples before handling the end of the message."""

    def _onSynth(self, wav: Any, numsamples: int, events: Any) -> int:  # noqa: N802
        if self._speaking and numsamples > 0:
            self._data_buffer += ctypes.string_at(wav, numsamples * ctypes.sizeof(ctypes.c_short))
            numsamples = 0
        return super()._onSynth(wav, numsamples, events)


def buildDriver(proxy: Any) -> WholeUtteranceDriver:  # noqa: N802 - pyttsx3's name
    """Build the driver for pyttsx3's driver proxy."""
    return WholeUtteranceDriver(proxy)


def register() -> str:
    """Make the driver loadable by ``pyttsx3.init``; return its name."""
    sys.modules.setdefault(f"pyttsx3.drivers.{DRIVER_NAME}", sys.modules[__name__])
    return DRIVER_NAME
