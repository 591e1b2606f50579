"""The prompt catalogue: complete in both languages, consistent, and strict when loaded."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from voice_prompts.catalogue import Slot, load_catalogue, parse_catalogue
from voice_prompts.exceptions import (
    CatalogueError,
    UnknownPromptError,
    UnsupportedLanguageError,
)

# The prompts the IVR flows are written against.
REQUIRED_PROMPTS = {
    "language_choice": set(),
    "welcome": set(),
    "menu_main": set(),
    "no_input": set(),
    "invalid_key": set(),
    "goodbye": set(),
    "offer_callback": set(),
    "callback_registered": set(),
    "enter_account": set(),
    "confirm_account": {"last_digits"},
    "unknown_account": set(),
    "enter_application": set(),
    "application_submitted": set(),
    "application_under_inspection": set(),
    "application_demand_note_issued": {"amount"},
    "application_paid": set(),
    "application_connected": set(),
    "application_rejected": set(),
    "bill_amount_due": {"amount"},
    "bill_due_date": {"due_date"},
    "bill_amount_after_due_date": {"amount"},
    "bill_last_payment": {"amount", "paid_on"},
    "bill_supply_restored_after_payment": set(),
    "offer_sms": set(),
    "fault_recorded": {"reference"},
    "outside_hours": set(),
}

DEVANAGARI = re.compile(r"[\u0900-\u097F]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")

VALID = """
[placeholders]
amount = "amount"

[prompts.goodbye]
hi = "धन्यवाद।"
en = "Thank you."

[prompts.bill_amount_due]
hi = "आपकी बकाया राशि {amount} है।"
en = "You owe {amount}."
"""


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_every_required_prompt_is_there_with_its_placeholders(catalogue) -> None:
    for key, placeholders in REQUIRED_PROMPTS.items():
        assert catalogue[key].placeholders == placeholders, key


def test_every_prompt_has_hindi_in_devanagari_and_english(catalogue) -> None:
    for key in catalogue:
        prompt = catalogue[key]
        hindi, english = prompt.texts["hi"], prompt.texts["en"]
        assert DEVANAGARI.search(hindi), key
        assert not DEVANAGARI.search(english), key
        assert english.isascii(), key
        assert hindi == unicodedata.normalize("NFC", hindi), key


def test_placeholders_match_between_languages(catalogue) -> None:
    # Checked on the raw texts, independently of the loader's own check.
    for key in catalogue:
        prompt = catalogue[key]
        hindi = set(PLACEHOLDER.findall(prompt.texts["hi"]))
        english = set(PLACEHOLDER.findall(prompt.texts["en"]))
        assert hindi == english == prompt.placeholders, key
        assert prompt.placeholders <= set(catalogue.placeholder_kinds), key


def test_language_choice_speaks_both_languages(catalogue) -> None:
    prompt = catalogue["language_choice"]
    assert prompt.bilingual
    for lang in ("hi", "en"):
        text = catalogue.text("language_choice", lang)
        assert "हिंदी" in text and "1" in text
        assert "English" in text and "2" in text


def test_main_menu_names_four_keys_and_the_repeat_its_own(catalogue) -> None:
    for lang in ("hi", "en"):
        text = catalogue.text("menu_main", lang)
        assert set(re.findall(r"\d", text)) == set("1230"), lang
        assert "9" in catalogue.text("menu_repeat", lang)


def test_the_account_number_is_a_term_with_generic_words(catalogue) -> None:
    prompt = catalogue["enter_account"]
    assert prompt.terms == {"account_term"} and prompt.placeholders == set()
    assert "{account_term}" in prompt.sources["en"]
    assert catalogue.text("enter_account", "en") == (
        "Please key in your account number, then press hash."
    )
    assert "अपना खाता नंबर डालें" in catalogue.text("enter_account", "hi")
    # No formal "क्रमांक" is left for the account number anywhere.
    assert not any("खाता क्रमांक" in catalogue.text(key, "hi") for key in catalogue)


def test_terms_are_written_into_the_texts(catalogue) -> None:
    rajasthan = catalogue.with_terms({"account_term": {"hi": "के नंबर", "en": "K number"}})
    assert rajasthan.text("enter_account", "en") == "Please key in your K number, then press hash."
    assert rajasthan.text("enter_account", "hi").startswith("कृपया अपना के नंबर डालें")
    assert rajasthan["choose_account"].parts("en") == [
        "For the K number ending in ",
        Slot("last_digits"),
        ", press ",
        Slot("choice"),
        ".",
    ]
    assert rajasthan.text("goodbye", "hi") == catalogue.text("goodbye", "hi")
    # Another deployment's words replace these ones, not add to them.
    chhattisgarh = rajasthan.with_terms({"account_term": {"hi": "बीपी नंबर", "en": "BP number"}})
    said = chhattisgarh.text("enter_account", "en")
    assert said == "Please key in your BP number, then press hash."
    assert catalogue.with_terms({}).text("enter_account", "en") == catalogue.text(
        "enter_account", "en"
    )


WITH_TERM = """
[placeholders]
account_term = "term"

[terms.account_term]
hi = "खाता नंबर"
en = "account number"

[prompts.enter_account]
hi = "कृपया अपना {account_term} डालें।"
en = "Please key in your {account_term}."
"""


def test_a_term_placeholder_the_catalogue_does_not_know_is_refused() -> None:
    assert parse_catalogue(WITH_TERM).text("enter_account", "en") == (
        "Please key in your account number."
    )
    # Used in a text but never declared.
    with pytest.raises(CatalogueError, match="not in \\[placeholders\\]"):
        parse_catalogue(WITH_TERM.replace("{account_term}", "{meter_term}"))
    # Declared a term, but with no words of its own.
    no_words = WITH_TERM.replace('account_term = "term"', 'account_term = "term"\nmeter = "term"')
    with pytest.raises(CatalogueError, match=r"\['meter'\] have no \[terms.<name>\] wording"):
        parse_catalogue(no_words)
    # Words for a term no placeholder declares.
    with pytest.raises(CatalogueError, match="meter_term.* is not a placeholder of kind 'term'"):
        parse_catalogue(WITH_TERM.replace("[terms.account_term]", "[terms.meter_term]"))
    # Words given for a term the catalogue does not have.
    catalogue = parse_catalogue(WITH_TERM)
    with pytest.raises(CatalogueError, match="no term meter_term"):
        catalogue.with_terms({"meter_term": {"hi": "मीटर नंबर", "en": "meter number"}})
    with pytest.raises(CatalogueError, match="missing 'hi' words"):
        catalogue.with_terms({"account_term": {"en": "K number"}})
    with pytest.raises(CatalogueError, match="braces"):
        catalogue.with_terms({"account_term": {"hi": "के नंबर", "en": "{K} number"}})


def test_hindi_spelling_of_numbers_matches_the_spoken_forms(catalogue) -> None:
    # Clips say 99 as निन्यानवे (see voice_prompts.spoken); prompts must not say the
    # CLDR variant nor the library's misspellings, or a caller hears two versions.
    variants = ["निन्यानबे", "छः", "अट्ठारह", "सरसठ"]
    for key in catalogue:
        for variant in variants:
            assert variant not in catalogue.text(key, "hi"), (key, variant)


def test_unknown_key_and_language_are_named_errors(catalogue) -> None:
    with pytest.raises(UnknownPromptError, match="no_such_prompt"):
        catalogue["no_such_prompt"]
    with pytest.raises(UnknownPromptError):
        catalogue.text("no_such_prompt", "hi")
    with pytest.raises(UnsupportedLanguageError):
        catalogue.text("goodbye", "fr")


def test_parts_split_around_placeholders() -> None:
    catalogue = parse_catalogue(VALID)
    assert catalogue["bill_amount_due"].parts("hi") == [
        "आपकी बकाया राशि ",
        Slot("amount"),
        " है।",
    ]
    assert catalogue["goodbye"].is_static
    # Split once and kept: a caller changing its copy changes nobody else's.
    prompt = catalogue["bill_amount_due"]
    prompt.parts("hi").clear()
    assert len(prompt.parts("hi")) == 3
    assert prompt.template("hi") is prompt.template("hi")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('en = "Thank you."', ""), "missing 'en' text"),
        (('hi = "धन्यवाद।"', 'hi = "  "'), "missing 'hi' text"),
        (("You owe {amount}.", "You owe {total}."), "placeholders differ"),
        (('amount = "amount"', 'amount = "money"'), "kind 'money'"),
        (('amount = "amount"', 'total = "amount"'), "not in \\[placeholders\\]"),
        (("{amount} है", "{amount:>5} है"), "plain names"),
        (("[prompts.goodbye]", "[prompts.Good-Bye]"), "lower-case"),
        (('en = "Thank you."', 'en = "Thank you."\nfr = "Merci."'), "unknown fields"),
        (("[prompts.goodbye]", "[prompts.goodbye]\nbilingual = 1"), "true or false"),
        (("[prompts.goodbye]", "[prompts.goodbye"), "not valid TOML"),
    ],
)
def test_malformed_catalogue_is_a_clear_error(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in VALID
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(VALID.replace(old, new, 1))


def test_load_from_a_file_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(VALID, encoding="utf-8")
    assert set(load_catalogue(path)) == {"goodbye", "bill_amount_due"}
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "absent.toml")
