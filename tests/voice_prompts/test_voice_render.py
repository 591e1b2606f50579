"""Rendering prompts with pyttsx3 and espeak-ng into 8 kHz telephony WAV files.

These tests speak for real through espeak-ng (Debian package espeak-ng, listed in
system-packages.txt), on a small catalogue so that they stay fast.
"""

from __future__ import annotations

import json
import math
import wave
from array import array
from decimal import Decimal
from pathlib import Path

import pytest

from voice_prompts.catalogue import parse_catalogue
from voice_prompts.exceptions import UnknownPromptError
from voice_prompts.library import MANIFEST_FILE, PromptLibrary
from voice_prompts.render import PromptBuilder, Synthesizer

CATALOGUE = """
[placeholders]
amount = "amount"

[prompts.language_choice]
bilingual = true
hi = "हिंदी के लिए 1 दबाएँ।"
en = "For English, press 2."

[prompts.goodbye]
hi = "हमें कॉल करने के लिए धन्यवाद।"
en = "Thank you for calling."

[prompts.bill_amount_due]
hi = "आपके बिल की बकाया राशि {amount} है।"
en = "The amount due on your bill is {amount}."
"""

# Enough to say "… पाँच रुपये …" / "… five rupees" in both languages.
ONLY = {"language_choice", "goodbye", "bill_amount_due.1", "bill_amount_due.2"}
ONLY |= {"num/5", "word/rupees"}
ITEM_COUNT = 6 + 5  # English has no text after {amount} but the full stop


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    # One for the module: espeak-ng initialises once per process anyway.
    return Synthesizer()


def builder(directory: Path, synthesizer: Synthesizer, text: str = CATALOGUE) -> PromptBuilder:
    return PromptBuilder(
        directory, catalogue=parse_catalogue(text), only=ONLY, synthesizer=synthesizer
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, synthesizer: Synthesizer) -> Path:
    directory = tmp_path_factory.mktemp("prompts")
    summary = builder(directory, synthesizer).build()
    assert (summary.rendered, summary.unchanged, summary.removed) == (ITEM_COUNT, 0, 0)
    return directory


def wav_facts(path: Path) -> tuple[int, int, int, float, float]:
    """Return channels, sample width, rate, duration and RMS, read with the stdlib only."""
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    samples = array("h", frames)
    duration = len(samples) / rate
    level = math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0
    return channels, width, rate, duration, level


def test_files_are_telephony_wav_with_speech(rendered: Path) -> None:
    files = sorted(rendered.glob("*/**/*.wav"))
    assert len(files) == ITEM_COUNT
    for path in files:
        channels, width, rate, duration, level = wav_facts(path)
        assert (channels, width, rate) == (1, 2, 8000), path
        assert duration > 0.2, path
        assert level > 500, path  # silence or a click would be far below this
    assert (rendered / "hi" / "num" / "5.wav").is_file()
    assert (rendered / "en" / "bill_amount_due.1.wav").is_file()
    assert not (rendered / "en" / "bill_amount_due.2.wav").exists()


def test_bilingual_prompt_holds_both_languages(rendered: Path) -> None:
    both = wav_facts(rendered / "hi" / "language_choice.wav")[3]
    hindi_only = wav_facts(rendered / "hi" / "goodbye.wav")[3]
    assert both > 2.0 and both > hindi_only
    # The same speech under both languages (espeak-ng may differ by a sample or two).
    in_english_directory = wav_facts(rendered / "en" / "language_choice.wav")[3]
    assert in_english_directory == pytest.approx(both, rel=0.02)


def test_voices_differ_by_language(synthesizer: Synthesizer) -> None:
    assert synthesizer.voice_id("hi").endswith("hi")
    assert "en" in synthesizer.voice_id("en")


def test_manifest_records_text_and_library_plays_it(rendered: Path) -> None:
    manifest = json.loads((rendered / MANIFEST_FILE).read_text(encoding="utf-8"))["items"]
    assert manifest["hi/goodbye"]["text"] == "हमें कॉल करने के लिए धन्यवाद।"
    assert manifest["hi/num/5"]["file"] == "hi/num/5.wav"
    library = PromptLibrary(rendered, parse_catalogue(CATALOGUE))
    assert library.playlist("bill_amount_due", "hi", amount=Decimal(5)) == [
        "hi/bill_amount_due.1.wav",
        "hi/num/5.wav",
        "hi/word/rupees.wav",
        "hi/bill_amount_due.2.wav",
    ]
    version = library.version("goodbye", "hi")
    assert version and len(version) == 12
    assert library.version("num/6", "hi") is None
    # "छह" (num/6) was not rendered, so the webhook must fall back to <Say>.
    assert library.playlist("bill_amount_due", "hi", amount=Decimal(6)) is None


def test_second_build_renders_nothing(rendered: Path, synthesizer: Synthesizer) -> None:
    before = {path: path.stat().st_mtime_ns for path in rendered.glob("*/**/*.wav")}
    summary = builder(rendered, synthesizer).build()
    assert (summary.rendered, summary.unchanged) == (0, ITEM_COUNT)
    assert {path: path.stat().st_mtime_ns for path in before} == before


def test_changed_text_renders_only_that_prompt(tmp_path: Path, synthesizer: Synthesizer) -> None:
    builder(tmp_path, synthesizer).build()
    english_goodbye = (tmp_path / "en" / "goodbye.wav").read_bytes()
    hindi_goodbye = (tmp_path / "hi" / "goodbye.wav").read_bytes()
    changed = CATALOGUE.replace("हमें कॉल करने के लिए धन्यवाद।", "धन्यवाद, नमस्कार।")

    library = PromptLibrary(tmp_path, parse_catalogue(changed))
    assert not library.has("goodbye", "hi")  # stale audio is not played
    assert library.has("goodbye", "en")

    summary = builder(tmp_path, synthesizer, changed).build()
    assert (summary.rendered, summary.unchanged) == (1, ITEM_COUNT - 1)
    assert (tmp_path / "hi" / "goodbye.wav").read_bytes() != hindi_goodbye
    assert (tmp_path / "en" / "goodbye.wav").read_bytes() == english_goodbye
    assert library.has("goodbye", "hi")
    old_library = PromptLibrary(tmp_path, parse_catalogue(CATALOGUE))
    assert old_library.version("goodbye", "hi") is None  # its text is no longer current
    assert library.version("goodbye", "hi") != library.version("goodbye", "en")

    forced = builder(tmp_path, synthesizer, changed).build(force=True)
    assert (forced.rendered, forced.unchanged) == (ITEM_COUNT, 0)


def test_prompt_removed_from_catalogue_loses_its_audio(
    tmp_path: Path, synthesizer: Synthesizer
) -> None:
    builder(tmp_path, synthesizer).build()
    without_goodbye = CATALOGUE.replace(
        '[prompts.goodbye]\nhi = "हमें कॉल करने के लिए धन्यवाद।"\nen = "Thank you for calling."\n',
        "",
    )
    assert without_goodbye != CATALOGUE
    pruning = PromptBuilder(
        tmp_path,
        catalogue=parse_catalogue(without_goodbye),
        only=ONLY - {"goodbye"},
        synthesizer=synthesizer,
    )
    summary = pruning.build()
    assert (summary.rendered, summary.removed) == (0, 2)
    assert not (tmp_path / "hi" / "goodbye.wav").exists()
    assert (tmp_path / "hi" / "language_choice.wav").exists()


def test_unknown_key_is_refused_before_rendering(tmp_path: Path, synthesizer: Synthesizer) -> None:
    with pytest.raises(UnknownPromptError, match="num/100"):
        PromptBuilder(
            tmp_path,
            catalogue=parse_catalogue(CATALOGUE),
            only={"num/100"},
            synthesizer=synthesizer,
        ).build()
    assert not (tmp_path / "hi").exists()


def test_samples_arriving_with_the_end_of_an_utterance_are_kept(tmp_path):
    # pyttsx3's own espeak driver writes the file before appending the samples that come
    # with the end-of-message event, losing them (a short word's entire audio, at times).
    import ctypes
    import wave
    from types import SimpleNamespace

    from pyttsx3.drivers import _espeak

    from voice_prompts.espeak_driver import WholeUtteranceDriver

    # Built without __init__: a second live driver would take over espeak-ng's one global
    # callback from the synthesizer the other tests share.
    driver = WholeUtteranceDriver.__new__(WholeUtteranceDriver)
    driver._proxy = SimpleNamespace(notify=lambda *a, **k: None, setBusy=lambda busy: None)
    out = tmp_path / "word.wav"
    driver._save_file, driver._text_to_say, driver._speaking = str(out), "दो", True
    driver._data_buffer = b""
    samples = (ctypes.c_short * 4)(100, -100, 200, -200)
    events = [
        SimpleNamespace(type=_espeak.EVENT_MSG_TERMINATED),
        SimpleNamespace(type=_espeak.EVENT_LIST_TERMINATED),
    ]
    driver._onSynth(ctypes.cast(samples, ctypes.c_void_p).value, 4, events)
    with wave.open(str(out)) as wav:
        assert wav.getnframes() == 4
