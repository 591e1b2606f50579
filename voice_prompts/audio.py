"""Read, resample, trim and write 16-bit mono PCM audio in pure Python.

Telephony wants 8 kHz mono 16-bit WAV; espeak-ng produces 22,050 Hz. ``audioop`` is
deprecated (removed in 3.13) and numpy is not a dependency, so resampling is a small
polyphase windowed-sinc filter here: it band-limits below the new Nyquist frequency
(no aliasing hiss on the line) and is fast enough in pure Python because it computes
only the output samples, about 25 ms per second of speech.
"""

from __future__ import annotations

import math
import os
import sys
import wave
from array import array
from collections.abc import Sequence
from functools import cache
from operator import mul
from pathlib import Path

TELEPHONY_RATE = 8000
"""Sample rate of the rendered prompts: narrowband telephony (G.711)."""

SAMPLE_WIDTH = 2
"""Bytes per sample: 16-bit signed PCM."""

FILTER_HALF_WIDTH = 32
"""Input samples each side of an output sample that the low-pass filter looks at."""

CUTOFF_FRACTION = 0.9
"""Low-pass cutoff as a fraction of the lower Nyquist frequency (3.6 kHz for 8 kHz)."""


def read_wav(path: str | Path) -> tuple[array, int]:
    """Return the samples and sample rate of a 16-bit mono WAV file."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != SAMPLE_WIDTH:
            raise ValueError(f"{path}: expected 16-bit mono, got {wav.getparams()}")
        rate = wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    samples = array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    return samples, rate


def write_wav(path: str | Path, samples: Sequence[int], rate: int) -> None:
    """Write 16-bit mono samples to ``path`` atomically (readers never see half a file)."""
    path = Path(path)
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    temporary = path.with_name(f".{path.name}.tmp")
    with wave.open(str(temporary), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(data.tobytes())
    os.replace(temporary, path)


def resample(samples: Sequence[int], from_rate: int, to_rate: int) -> array:
    """Resample 16-bit samples from ``from_rate`` to ``to_rate`` with a band-limiting filter."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError("sample rates must be positive")
    if from_rate == to_rate:
        return array("h", samples)
    divisor = math.gcd(from_rate, to_rate)
    up, down = to_rate // divisor, from_rate // divisor
    kernels = _kernels(up, down)
    taps = 2 * FILTER_HALF_WIDTH
    # Zero padding so every output sample sees a full window of input.
    padded = [0] * FILTER_HALF_WIDTH + list(samples) + [0] * FILTER_HALF_WIDTH
    output = array("h")
    count = -(-len(samples) * up // down)
    for index in range(count):
        base, phase = divmod(index * down, up)
        start = base + 1
        value = sum(map(mul, kernels[phase], padded[start : start + taps]))
        output.append(max(-32768, min(32767, round(value))))
    return output


@cache
def _kernels(up: int, down: int) -> tuple[tuple[float, ...], ...]:
    # One set of weights per fractional position of an output sample between input
    # samples: the position repeats every `up` outputs, so `up` kernels cover all.
    cutoff = CUTOFF_FRACTION * 0.5 * min(1.0, up / down)  # cycles per input sample
    half = FILTER_HALF_WIDTH
    kernels = []
    for phase in range(up):
        offset = phase / up
        weights = []
        for tap in range(-half + 1, half + 1):
            x = tap - offset  # distance from the output instant, in input samples
            sinc = 2 * cutoff if x == 0 else math.sin(2 * math.pi * cutoff * x) / (math.pi * x)
            u = x / half
            blackman = 0.42 + 0.5 * math.cos(math.pi * u) + 0.08 * math.cos(2 * math.pi * u)
            weights.append(sinc * blackman if abs(u) < 1 else 0.0)
        total = sum(weights)
        # Unit gain at DC for every phase, so a steady level does not ripple.
        kernels.append(tuple(weight / total for weight in weights))
    return tuple(kernels)


def trim_silence(
    samples: Sequence[int], rate: int, *, threshold: int = 300, keep_ms: int = 60
) -> array:
    """Cut leading and trailing silence, keeping ``keep_ms`` of it at each end."""
    # espeak-ng pads each utterance with a pause; clips joined in a call would
    # otherwise sound like "एक … लाख … बीस".
    first = next((i for i, value in enumerate(samples) if abs(value) > threshold), None)
    if first is None:
        return array("h", samples)
    last = next(i for i in range(len(samples) - 1, first - 1, -1) if abs(samples[i]) > threshold)
    keep = rate * keep_ms // 1000
    return array("h", samples[max(0, first - keep) : min(len(samples), last + 1 + keep)])


def silence(rate: int, milliseconds: int) -> array:
    """Return ``milliseconds`` of silence."""
    return array("h", bytes(SAMPLE_WIDTH * (rate * milliseconds // 1000)))


def rms(samples: Sequence[int]) -> float:
    """Return the root-mean-square level of the samples (0 for none)."""
    if not samples:
        return 0.0
    return math.sqrt(sum(value * value for value in samples) / len(samples))
