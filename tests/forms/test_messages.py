"""The message catalogue: both languages everywhere, and the rule that picks one."""

from __future__ import annotations

import string

import pytest
from flask import Flask

from forms import SERVICES
from forms.exceptions import ConfigurationError, UnknownLanguageError
from forms.fields import CodeSelectField
from forms.messages import (
    CatalogueTranslations,
    catalogue,
    message,
    parse_catalogue,
    resolve_language,
)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_hindi_and_english_with_the_same_placeholders():
    for msg_id, texts in catalogue().items():
        assert set(texts) == {"hi", "en"}, msg_id
        assert texts["hi"].strip() and texts["en"].strip(), msg_id
        assert placeholders(texts["hi"]) == placeholders(texts["en"]), msg_id


def test_hindi_messages_are_written_in_devanagari():
    # Option labels for the language itself ("English") are the one allowed exception.
    for msg_id, texts in catalogue().items():
        if msg_id != "option.preferred_language.en":
            assert any("\u0900" <= char <= "\u097f" for char in texts["hi"]), msg_id


@pytest.mark.parametrize("lang", ["hi", "en"])
@pytest.mark.parametrize("spec", SERVICES.values(), ids=lambda spec: spec.code)
def test_every_field_and_option_of_every_form_is_labelled(form_app: Flask, spec, lang):
    with form_app.test_request_context():
        form = spec.form_class(lang=lang)
    account_name = form.profile.account_number.name(lang)
    for field in form:
        # message() raises for an id missing from the catalogue, so equality proves the
        # label came from it rather than from WTForms' default (the field's name).
        assert field.label.text == message(f"label.{field.short_name}", lang, name=account_name), (
            field.short_name
        )
        if isinstance(field, CodeSelectField):
            assert field.codes(), field.short_name
            assert all(choice.label for choice in field.choices), field.short_name
            if field.option_group is not None:
                assert all(choice.label != choice.value for choice in field.choices)


def test_hindi_and_english_labels_differ():
    assert message("label.pin_code", "hi") == "पिन कोड"
    assert message("label.pin_code", "en") == "PIN code"


def test_language_is_the_argument_then_request_then_config_then_hindi(form_app: Flask):
    assert resolve_language() == "hi"
    with form_app.test_request_context("/?lang=en"):
        assert resolve_language() == "en"
        assert resolve_language("hi") == "hi"
    form_app.config["FORM_LANGUAGE"] = "en"
    with form_app.test_request_context("/"):
        assert resolve_language() == "en"
    with form_app.test_request_context("/?lang=hi"):
        assert resolve_language() == "hi"


def test_unknown_language_is_a_named_error(form_app: Flask):
    with pytest.raises(UnknownLanguageError):
        resolve_language("ta")
    form_app.config["FORM_LANGUAGE"] = "english"
    with form_app.app_context(), pytest.raises(UnknownLanguageError):
        resolve_language()


def test_wtforms_own_messages_are_answered_from_the_catalogue():
    assert CatalogueTranslations("hi").gettext("Not a valid integer value.") == (
        "पूर्ण संख्या लिखें, जैसे 3।"
    )
    assert CatalogueTranslations("en").gettext("Something WTForms adds later.") == (
        "Something WTForms adds later."
    )


def test_unknown_message_id_fails_loudly():
    with pytest.raises(ConfigurationError, match="no message 'nope'"):
        message("nope", "en")


@pytest.mark.parametrize(
    ("tree", "complaint"),
    [
        ({"greeting": {"hi": "नमस्ते"}}, "exactly the keys hi, en"),
        ({"greeting": {"hi": "नमस्ते {name}", "en": "Hello"}}, "different placeholders"),
        ({"greeting": {"hi": " ", "en": "Hello"}}, "no hi text"),
        ({"greeting": "Hello"}, "must be a table"),
    ],
)
def test_malformed_catalogue_fails_loudly(tree, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        parse_catalogue(tree, source="test")
