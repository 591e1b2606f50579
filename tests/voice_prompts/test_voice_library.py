"""What the IVR plays for a prompt, and the text it falls back to."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from voice_prompts.catalogue import load_catalogue
from voice_prompts.clips import clip_inventory, clips_text
from voice_prompts.exceptions import MissingValueError, UnknownPromptError
from voice_prompts.library import PromptLibrary, audio_items


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
        "num/1", "word/thousand", "num/5", "word/hundred", "num/20", "word/rupees",
        "num/50", "word/paise",
        "bill_last_payment.2",
        "num/3", "month/1", "num/2", "word/thousand", "num/26",
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
        "आपके बिल की बकाया राशि एक रुपया है।"
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
