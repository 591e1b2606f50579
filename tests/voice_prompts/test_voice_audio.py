"""The pure-Python resampler and silence trimming behind the 8 kHz prompt files."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import pytest

from voice_prompts.audio import read_wav, resample, rms, silence, trim_silence, write_wav


def tone(frequency: float, rate: int, seconds: float = 0.5, amplitude: int = 10000) -> list[int]:
    return [
        round(amplitude * math.sin(2 * math.pi * frequency * n / rate))
        for n in range(int(rate * seconds))
    ]


def test_speech_band_passes_and_length_scales() -> None:
    source = tone(1000, 22050)
    result = resample(source, 22050, 8000)
    assert len(result) == math.ceil(len(source) * 8000 / 22050)
    # Away from the edges, a 1 kHz tone keeps its level within 1 %.
    assert rms(result[200:-200]) == pytest.approx(rms(source), rel=0.01)


@pytest.mark.parametrize("frequency", [5000, 7000, 10000])
def test_frequencies_above_4khz_are_removed_not_aliased(frequency: int) -> None:
    # Without a low-pass filter these would fold back into the speech band as hiss.
    result = resample(tone(frequency, 22050), 22050, 8000)
    assert rms(result[200:-200]) < 0.02 * rms(tone(frequency, 22050))


def test_same_rate_is_a_copy_and_bad_rates_are_refused() -> None:
    assert list(resample([1, 2, 3], 8000, 8000)) == [1, 2, 3]
    with pytest.raises(ValueError):
        resample([1, 2, 3], 0, 8000)


def test_trim_keeps_a_short_margin_around_the_sound() -> None:
    sound = silence(8000, 500).tolist() + tone(440, 8000, 0.25) + silence(8000, 700).tolist()
    trimmed = trim_silence(sound, 8000, keep_ms=50)
    assert len(trimmed) == pytest.approx(8000 * (0.25 + 2 * 0.05), abs=20)
    assert list(trim_silence([0] * 100, 8000)) == [0] * 100  # nothing to find: unchanged


def test_wav_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    samples = tone(440, 8000, 0.1)
    write_wav(path, samples, 8000)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
    read, rate = read_wav(path)
    assert (list(read), rate) == (samples, 8000)
    assert [p.name for p in tmp_path.iterdir()] == ["tone.wav"]  # no temporary left behind
