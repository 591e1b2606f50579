"""Configuration of the forms: DISCOM profiles, districts and documents, checked at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms.config import (
    DEFAULT_DISCOMS_FILE,
    DEFAULT_IDENTITY_DOCUMENTS_FILE,
    discom_profile,
    districts,
    identity_documents,
)
from forms.exceptions import ConfigurationError


def test_shipped_profiles_carry_the_account_number_formats_of_the_brief():
    assert discom_profile("cspdcl").account_number.length == 10
    assert discom_profile("cspdcl").account_number.name_en == "BP number"
    assert discom_profile("avvnl").account_number.length == 12
    assert discom_profile("avvnl").account_number.name_en == "K number"


def test_the_ivr_says_the_account_numbers_name_in_words():
    # Spoken as written where that speaks well; Bihar's "(CA)" has words of its own.
    assert discom_profile("cspdcl").account_number.spoken("hi") == "बीपी नंबर"
    assert discom_profile("avvnl").account_number.spoken("en") == "K number"
    sbpdcl = discom_profile("sbpdcl").account_number
    assert (sbpdcl.spoken("hi"), sbpdcl.spoken("en")) == ("सीए नंबर", "CA number")
    assert sbpdcl.name("en") == "consumer (CA) number"


def test_default_profile_is_cspdcl_and_config_can_change_it(form_app):
    assert discom_profile().code == "cspdcl"
    form_app.config["DISCOM"] = "sbpdcl"
    with form_app.app_context():
        assert discom_profile().state_en == "Bihar"
        assert districts()[0].value == "Arwal"


def test_unknown_discom_fails_loudly(form_app):
    form_app.config["DISCOM"] = "nowhere"
    with form_app.app_context(), pytest.raises(ConfigurationError, match="no DISCOM profile"):
        discom_profile()


def test_shipped_district_lists_have_no_duplicates_and_hindi_names():
    cspdcl = districts("cspdcl")
    assert len(cspdcl) == 33
    assert all(district.label_hi != district.label_en for district in cspdcl)


def test_configured_district_list_replaces_the_file(form_app):
    form_app.config["DISTRICTS"] = ["Kota", {"en": "Bundi", "hi": "बूंदी"}]
    with form_app.app_context():
        listed = districts()

    assert [(d.value, d.label("hi"), d.label("en")) for d in listed] == [
        ("Kota", "Kota", "Kota"),
        ("Bundi", "बूंदी", "Bundi"),
    ]


@pytest.mark.parametrize(
    ("configured", "complaint"),
    [
        ([], "non-empty list"),
        ("Raipur", "non-empty list"),
        (["Raipur", "Raipur"], "listed twice: Raipur"),
        ([{"en": "Raipur"}], "'hi' must be a non-empty string"),
        ([{"en": "Raipur", "hi": "रायपुर", "mr": "रायपूर"}], "unknown keys mr"),
        ([42], "must be a name or a table"),
    ],
)
def test_malformed_district_config_fails_loudly(form_app, configured, complaint):
    form_app.config["DISTRICTS"] = configured
    with form_app.app_context(), pytest.raises(ConfigurationError, match=complaint):
        districts()


def test_districts_file_can_be_replaced(form_app, tmp_path: Path):
    path = tmp_path / "districts.toml"
    path.write_text(
        '[cspdcl]\ndistricts = [{ en = "Naya Raipur", hi = "नवा रायपुर" }]\n', encoding="utf-8"
    )
    form_app.config["DISTRICTS_FILE"] = str(path)
    with form_app.app_context():
        assert [district.value for district in districts()] == ["Naya Raipur"]


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("min_kw = 0.5\nmax_kw = 50", "min_kw = 60\nmax_kw = 50", "min_kw 60 exceeds max_kw 50"),
        ('pattern = "[0-9]+"', 'pattern = "[0-9+"', "not a regular expression"),
        ("length = 10", "length = 0", "'length' must be a positive whole number"),
        ("three_phase_above_kw = 7", 'three_phase_above_kw = "7"', "must be a number"),
        ("three_phase_above_kw = 7", "three_phase_abve_kw = 7", "unknown keys"),
        ('pin_prefixes = ["49"]', 'pin_prefixes = ["049"]', "pin_prefixes"),
        ('spoken_en = "CA number"', 'spoken_en = "(CA) number"', "words only"),
        ('spoken_hi = "सीए नंबर"', 'spoken_hi = " "', "'spoken_hi' must be a non-empty"),
    ],
)
def test_malformed_discoms_file_fails_loudly(form_app, tmp_path: Path, old, new, complaint):
    text = DEFAULT_DISCOMS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "discoms.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    form_app.config["DISCOMS_FILE"] = str(path)

    with form_app.app_context(), pytest.raises(ConfigurationError, match=complaint):
        discom_profile("sbpdcl")


def test_documents_file_must_list_aadhaar_without_a_pattern(form_app, tmp_path: Path):
    text = DEFAULT_IDENTITY_DOCUMENTS_FILE.read_text(encoding="utf-8")
    without = tmp_path / "without.toml"
    aadhaar_table = text[text.index("[aadhaar]") : text.index("[voter_id]")]
    without.write_text(text.replace(aadhaar_table, ""), encoding="utf-8")
    patterned = tmp_path / "patterned.toml"
    patterned.write_text(
        text.replace('hint_en = "12 digits"', 'hint_en = "12 digits"\npattern = "[0-9]{12}"'),
        encoding="utf-8",
    )

    for path, complaint in [
        (without, r"\[aadhaar\] document must be listed"),
        (patterned, "checked by stdnum"),
    ]:
        form_app.config["IDENTITY_DOCUMENTS_FILE"] = str(path)
        with form_app.app_context(), pytest.raises(ConfigurationError, match=complaint):
            identity_documents()
