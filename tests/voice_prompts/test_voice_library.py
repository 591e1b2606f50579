"""What the IVR plays for a prompt, and the text it falls back to."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.rendered_prompts import render_stand_ins
from voice_prompts.catalogue import load_catalogue
from voice_prompts.clips import clip_inventory, clips_text
from voice_prompts.exceptions import MissingValueError, UnknownPromptError
from voice_prompts.library import MANIFEST_FILE, PromptLibrary, audio_items


@pytest.fixture
def library(tmp_path: Path) -> PromptLibrary:
    return PromptLibrary(tmp_path / "prompts")


def test_static_prompt_is_one_file(library: PromptLibrary) -> None:
    assert library.sequence("menu_main", "hi") == ["menu_main"]
    assert library.relative_path("menu_main", "hi") == "hi/menu_main.wav"
    assert library.path("num/20", "en") == library.directory / "en" / "num" / "20.wav"


def test_prompt_with_values_interleaves_parts_and_clips(library: PromptLibrary) -> None:
    values = {"amount": Decimal("1520.50"), "paid_on": dt.date(2026, 1, 3)}
    assert library.sequence("bill_last_payment", "hi", **values) == [
        "bill_last_payment.1",
        "num/3", "month/1", "num/2", "word/thousand", "num/26",
        "bill_last_payment.2",
        "num/1", "word/thousand", "num/5", "word/hundred", "num/20", "word/rupees",
        "num/50", "word/paise",
        "bill_last_payment.3",
    ]  # fmt: skip


def test_sequence_says_the_same_as_the_fallback_text(library: PromptLibrary) -> None:
    # The audio sequence and the <Say> fallback must tell the caller the same thing.
    catalogue = library.catalogue
    cases = {
        "bill_last_payment": {"amount": Decimal("1520.50"), "paid_on": dt.date(2026, 1, 3)},
        "bill_amount_due": {"amount": Decimal("120304.50")},
        "bill_due_date": {"due_date": dt.date(2026, 12, 15)},
        "confirm_account": {"last_digits": "4321"},
        "fault_recorded": {"reference": "902113"},
        "goodbye": {},
    }
    for lang in ("hi", "en"):
        items = audio_items(catalogue, lang)
        inventory = clip_inventory(lang)
        for key, values in cases.items():
            sequence = library.sequence(key, lang, **values)
            spoken = " ".join(
                items[item].text if item not in inventory else clips_text([item], lang)
                for item in sequence
            )
            fallback = library.say_text(key, lang, **values)
            assert _words(spoken) == _words(fallback), (key, lang)


def test_say_text_spells_values(library: PromptLibrary) -> None:
    assert library.say_text("fault_recorded", "en", reference="4021") == (
        "Your complaint has been registered. Your complaint number is four zero two one. "
        "Please note it down."
    )
    assert library.say_text("bill_amount_due", "hi", amount=Decimal(1)) == (
        "आपके बिल पर एक रुपया बकाया है।"
    )


def test_missing_or_unexpected_values_are_errors(library: PromptLibrary) -> None:
    with pytest.raises(MissingValueError, match="amount"):
        library.sequence("bill_amount_due", "hi")
    with pytest.raises(MissingValueError, match="unexpected"):
        library.sequence("goodbye", "hi", amount=Decimal(1))
    with pytest.raises(ValueError):
        library.sequence("bill_amount_due", "en", amount=Decimal("-1"))
    with pytest.raises(UnknownPromptError):
        library.path("no_such_prompt", "hi")


def test_nothing_rendered_means_fallback(library: PromptLibrary) -> None:
    assert not library.has("goodbye", "hi")
    assert library.playlist("goodbye", "hi") is None
    assert "goodbye" in library.missing("hi")


def test_every_item_has_a_distinct_safe_file() -> None:
    catalogue = load_catalogue()
    for lang in ("hi", "en"):
        items = audio_items(catalogue, lang)
        paths = [item.relative_path for item in items.values()]
        assert len(paths) == len(set(paths))
        for path in paths:
            assert path.startswith(f"{lang}/") and ".." not in path and path.endswith(".wav")
        for item in items.values():
            assert item.text.strip() and any(char.isalnum() for char in item.text), item.key


def _words(text: str) -> list[str]:
    return [word.strip(".,।") for word in text.split() if word.strip(".,।")]


def test_rendered_prompts_are_kept_until_the_manifest_is_replaced(library: PromptLibrary) -> None:
    render_stand_ins(library.directory, "hi", only={"goodbye"})
    rendered = library.current()
    assert library.current() is rendered  # one stat, no re-read
    assert rendered.tracks("goodbye", "hi") == [("hi/goodbye.wav", "f" * 12)]

    # A re-render replaces the manifest: the next look sees the new version tags.
    render_stand_ins(library.directory, "hi", sha256="e" * 64, only={"goodbye"})
    assert library.current() is not rendered
    assert library.tracks("goodbye", "hi") == [("hi/goodbye.wav", "e" * 12)]
    assert library.version("goodbye", "hi") == "e" * 12


def test_speech_plays_what_is_rendered_and_says_the_rest(library: PromptLibrary) -> None:
    amount = {"amount": Decimal("20.50")}
    parts = {"bill_amount_due.1", "bill_amount_due.2"}
    clips = {"num/20", "word/rupees", "num/50", "word/paise"}
    render_stand_ins(library.directory, "hi", only=parts | clips - {"num/50"})
    # A clip missing: the whole prompt is said, not played in pieces.
    said = library.current().speech("bill_amount_due", "hi", **amount)
    assert said == "आपके बिल पर बीस रुपये पचास पैसे बकाया है।"
    assert library.current().speech("goodbye", "hi") == library.say_text("goodbye", "hi")

    render_stand_ins(library.directory, "hi", only={"num/50"})
    played = library.current().speech("bill_amount_due", "hi", **amount)
    assert [path for path, _version in played] == [
        "hi/bill_amount_due.1.wav",
        "hi/num/20.wav",
        "hi/word/rupees.wav",
        "hi/num/50.wav",
        "hi/word/paise.wav",
        "hi/bill_amount_due.2.wav",
    ]
    # Values are checked even when nothing needs spelling out.
    with pytest.raises(MissingValueError):
        library.current().speech("goodbye", "hi", amount=Decimal(1))
    with pytest.raises(MissingValueError):
        PromptLibrary(library.directory / "none").current().speech("bill_amount_due", "hi")


def test_audio_rendered_from_an_older_text_is_not_played(library: PromptLibrary) -> None:
    render_stand_ins(library.directory, "en", only={"goodbye"})
    manifest_path = library.directory / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["items"]["en/goodbye"]["text"] = "Goodbye."
    replacement = library.directory / "new-manifest.json"
    replacement.write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(replacement, manifest_path)
    assert library.current().speech("goodbye", "en") == "Thank you for calling. Have a good day."
    assert not library.has("goodbye", "en")
