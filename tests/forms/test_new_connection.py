"""The new-connection form: every field's rule, with the messages an operator reads."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from forms import NewConnectionForm
from forms.config import DEFAULT_DISCOMS_FILE
from forms.exceptions import FormNotValidatedError


def errors_of(form, field: str) -> list[str]:
    return list(form[field].errors)


def test_valid_application_gives_a_json_safe_normalised_record(submit, new_connection_data):
    form = submit(NewConnectionForm, new_connection_data)

    assert form.errors == {}
    record = form.to_record()
    assert json.loads(json.dumps(record)) == record
    assert record["service"] == "new_connection"
    assert record["discom"] == "cspdcl"
    assert record["mobile"] == "+919876543210"
    assert record["alternate_mobile"] is None
    assert record["connected_load_kw"] == "3.5"
    assert record["district"] == "Raipur"
    assert record["applicant_name"] == "रामेश्वर प्रसाद साहू"
    assert "csrf_token" not in record


def test_record_is_refused_before_validation(form_app, new_connection_data):
    with form_app.test_request_context(method="POST", data=new_connection_data):
        form = NewConnectionForm(lang="en")
        with pytest.raises(FormNotValidatedError):
            form.to_record()


def test_record_is_refused_after_failed_validation(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, pin_code="12"))

    with pytest.raises(FormNotValidatedError):
        form.to_record()


def test_failed_validation_re_renders_what_was_typed(submit, new_connection_data):
    typed = dict(
        new_connection_data,
        pin_code="4936",
        connected_load_kw="abc",
        address="Gali no. 3, Purani Basti",
        pole_number="p-44/7",
    )
    form = submit(NewConnectionForm, typed)

    assert set(form.errors) == {"pin_code", "connected_load_kw"}
    assert 'value="4936"' in form.pin_code()
    assert 'value="abc"' in form.connected_load_kw()
    assert 'value="Gali no. 3, Purani Basti"' in form.address()
    assert 'value="रामेश्वर प्रसाद साहू"' in form.applicant_name()
    assert '<option selected value="Raipur">' in form.district()


# ---------------------------------------------------------------- required fields


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("applicant_name", "Applicant's name is required."),
        ("father_or_husband_name", "Father's or husband's name is required."),
        ("mobile", "Mobile number is required."),
        ("address", "Address is required."),
        ("village_town", "Village / town is required."),
        ("block_tehsil", "Block / tehsil is required."),
        ("district", "District is required."),
        ("pin_code", "PIN code is required."),
        ("area_type", "Area is required."),
        ("category", "Category is required."),
        ("connected_load_kw", "Connected load (kW) is required."),
        ("supply_phase", "Supply phase is required."),
        ("id_document_type", "Identity document is required."),
        ("id_number", "Identity document number is required."),
    ],
)
def test_required_fields_say_so_in_english(submit, new_connection_data, field, message):
    form = submit(NewConnectionForm, dict(new_connection_data, **{field: "   "}))

    assert errors_of(form, field) == [message]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("applicant_name", "आवेदक का नाम भरना आवश्यक है।"),
        ("pin_code", "पिन कोड भरना आवश्यक है।"),
        ("connected_load_kw", "संबद्ध भार (किलोवाट) भरना आवश्यक है।"),
    ],
)
def test_required_fields_say_so_in_hindi(submit, new_connection_data, field, message):
    form = submit(NewConnectionForm, dict(new_connection_data, **{field: ""}), lang="hi")

    assert errors_of(form, field) == [message]


@pytest.mark.parametrize("field", ["alternate_mobile", "pole_number", "neighbour_account_number"])
def test_optional_fields_may_be_left_empty_and_are_stored_as_none(
    submit, new_connection_data, field
):
    form = submit(NewConnectionForm, dict(new_connection_data, **{field: " "}))

    assert form.errors == {}
    assert form.to_record()[field] is None


def test_preferred_language_defaults_to_hindi(submit, new_connection_data):
    data = dict(new_connection_data)
    del data["preferred_language"]

    form = submit(NewConnectionForm, data)

    assert form.to_record()["preferred_language"] == "hi"


# ---------------------------------------------------------------- names and texts


@pytest.mark.parametrize(
    "name", ["Ram Kumar", "डॉ. राम कुमार", "D'Souza", "Anne-Marie Kujur", "सीता"]
)
def test_names_in_any_script_are_accepted(submit, new_connection_data, name):
    form = submit(NewConnectionForm, dict(new_connection_data, applicant_name=name))

    assert form.errors == {}


def test_names_are_stored_with_spaces_collapsed(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, applicant_name="  Ram   Kumar "))

    assert form.to_record()["applicant_name"] == "Ram Kumar"


@pytest.mark.parametrize("name", ["R2D2", "Ram@Kumar", "१२३४", "Ram_Kumar"])
def test_names_with_digits_or_symbols_are_refused(submit, new_connection_data, name):
    form = submit(NewConnectionForm, dict(new_connection_data, applicant_name=name))

    assert errors_of(form, "applicant_name") == [
        "Applicant's name may contain only letters, spaces, dots (.), apostrophes (') "
        "and hyphens (-)."
    ]


def test_one_letter_name_is_too_short(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, father_or_husband_name="R"))

    assert "Father's or husband's name must be 2 to 100 characters long." in errors_of(
        form, "father_or_husband_name"
    )


@pytest.mark.parametrize(
    ("address", "ok"), [("Ward", False), ("Ward 5", True), ("x" * 250, True), ("x" * 251, False)]
)
def test_address_length_bounds(submit, new_connection_data, address, ok):
    form = submit(NewConnectionForm, dict(new_connection_data, address=address))

    if ok:
        assert form.errors == {}
    else:
        assert errors_of(form, "address") == ["Address must be 5 to 250 characters long."]


# ---------------------------------------------------------------- mobile numbers


@pytest.mark.parametrize(
    "typed",
    ["9876543210", "98765 43210", "098765-43210", "+91 98765 43210", "(98765) 43210", "९८७६५४३२१०"],
)
def test_mobile_numbers_are_stored_in_e164(submit, new_connection_data, typed):
    form = submit(NewConnectionForm, dict(new_connection_data, mobile=typed))

    assert form.errors == {}
    assert form.to_record()["mobile"] == "+919876543210"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12345", "Enter a valid 10-digit mobile number."),
        ("98765432109", "Enter a valid 10-digit mobile number."),
        ("98765 43210 ext 5", "Enter a valid 10-digit mobile number."),
        ("987654321O", "Enter a valid 10-digit mobile number."),
        ("+1 415 555 2671", "Enter an Indian (+91) mobile number."),
        (
            "011 2345 6789",
            "This is not a mobile number (landline or toll-free); "
            "enter a mobile number that can receive SMS.",
        ),
        (
            "1800 180 1551",
            "This is not a mobile number (landline or toll-free); "
            "enter a mobile number that can receive SMS.",
        ),
    ],
)
def test_bad_mobile_numbers_are_refused(submit, new_connection_data, typed, message):
    form = submit(NewConnectionForm, dict(new_connection_data, mobile=typed))

    assert errors_of(form, "mobile") == [message]


def test_landline_message_in_hindi(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, mobile="0141 2740000"), lang="hi")

    assert errors_of(form, "mobile") == [
        "यह मोबाइल नंबर नहीं है (लैंडलाइन या टोल-फ़्री); SMS पाने वाला मोबाइल नंबर लिखें।"
    ]


def test_alternate_mobile_must_differ_from_mobile(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, alternate_mobile="+919876543210"))

    assert errors_of(form, "alternate_mobile") == [
        "The alternate mobile number must differ from the mobile number."
    ]


def test_alternate_mobile_is_validated_and_normalised(submit, new_connection_data):
    good = submit(NewConnectionForm, dict(new_connection_data, alternate_mobile="70000 12345"))
    bad = submit(NewConnectionForm, dict(new_connection_data, alternate_mobile="70000"))

    assert good.to_record()["alternate_mobile"] == "+917000012345"
    assert errors_of(bad, "alternate_mobile") == ["Enter a valid 10-digit mobile number."]


# ---------------------------------------------------------------- district and PIN code


def test_district_must_be_one_the_discom_serves(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, district="Jaipur"))

    assert errors_of(form, "district") == ["Choose one of the listed options for District."]


def test_district_options_are_shown_in_the_form_language(form_app):
    with form_app.test_request_context():
        hindi = NewConnectionForm(lang="hi").district()
        english = NewConnectionForm(lang="en").district()

    assert '<option value="Raipur">रायपुर</option>' in hindi
    assert '<option value="Raipur">Raipur</option>' in english
    assert '<option value="">— चुनें —</option>' in hindi
    assert english.count("<option") == 33 + 1


def test_districts_come_from_app_config(submit, form_app, new_connection_data):
    form_app.config["DISTRICTS"] = ["Jaipur", {"en": "Tonk", "hi": "टोंक"}]

    jaipur = submit(NewConnectionForm, dict(new_connection_data, district="Jaipur"))
    raipur = submit(NewConnectionForm, dict(new_connection_data, district="Raipur"))

    assert jaipur.errors == {}
    assert "district" in raipur.errors
    assert '<option value="Tonk">टोंक</option>' in NewConnectionForm(lang="hi").district()


def test_districts_follow_the_configured_discom(submit, form_app, new_connection_data):
    form_app.config["DISCOM"] = "avvnl"

    form = submit(NewConnectionForm, dict(new_connection_data, district="Ajmer", pin_code="305001"))

    assert form.errors == {}


@pytest.mark.parametrize(("typed", "stored"), [("493661", "493661"), ("492 001", "492001")])
def test_good_pin_codes(submit, new_connection_data, typed, stored):
    form = submit(NewConnectionForm, dict(new_connection_data, pin_code=typed))

    assert form.errors == {}
    assert form.to_record()["pin_code"] == stored


@pytest.mark.parametrize("typed", ["093661", "49366", "4936612", "49366a", "४९३६६१x"])
def test_malformed_pin_codes(submit, new_connection_data, typed):
    form = submit(NewConnectionForm, dict(new_connection_data, pin_code=typed))

    assert errors_of(form, "pin_code") == ["PIN code must have 6 digits and cannot start with 0."]


def test_pin_code_of_another_state_is_refused(submit, new_connection_data):
    english = submit(NewConnectionForm, dict(new_connection_data, pin_code="302001"))
    hindi = submit(NewConnectionForm, dict(new_connection_data, pin_code="302001"), lang="hi")

    assert errors_of(english, "pin_code") == ["PIN code 302001 is not in Chhattisgarh."]
    assert errors_of(hindi, "pin_code") == ["पिन कोड 302001 छत्तीसगढ़ का नहीं है।"]


# ---------------------------------------------------------------- choices


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("area_type", "metro", "Choose one of the listed options for Area."),
        ("category", "commercial", "Choose one of the listed options for Category."),
        ("supply_phase", "two", "Choose one of the listed options for Supply phase."),
        ("id_document_type", "pan", "Choose one of the listed options for Identity document."),
        (
            "preferred_language",
            "fr",
            "Choose one of the listed options for Language for SMS and calls.",
        ),
    ],
)
def test_values_outside_the_options_are_refused(submit, new_connection_data, field, value, message):
    form = submit(NewConnectionForm, dict(new_connection_data, **{field: value}))

    assert errors_of(form, field) == [message]


def test_choice_message_in_hindi(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, area_type="metro"), lang="hi")

    assert errors_of(form, "area_type") == ["क्षेत्र के लिए सूची में से कोई विकल्प चुनें।"]


# ---------------------------------------------------------------- load, category and phase


@pytest.mark.parametrize(
    ("category", "load", "phase"),
    [
        ("domestic", "0.5", "single"),
        ("domestic", "50", "three"),
        ("non_domestic", "75", "three"),
        ("agricultural", "0.75", "single"),
        ("agricultural", "37.5", "three"),
        ("industrial", "1", "single"),
        ("industrial", "112", "three"),
    ],
)
def test_loads_at_the_category_bounds_are_accepted(
    submit, new_connection_data, category, load, phase
):
    data = dict(new_connection_data, category=category, connected_load_kw=load, supply_phase=phase)

    assert submit(NewConnectionForm, data).errors == {}


@pytest.mark.parametrize(
    ("category", "load", "message"),
    [
        ("domestic", "0.4", "Load for Domestic connections must be between 0.5 kW and 50 kW."),
        ("domestic", "50.01", "Load for Domestic connections must be between 0.5 kW and 50 kW."),
        (
            "agricultural",
            "40",
            "Load for Agricultural connections must be between 0.75 kW and 37.5 kW.",
        ),
        ("industrial", "0.5", "Load for Industrial connections must be between 1 kW and 112 kW."),
        (
            "non_domestic",
            "80",
            "Load for Non-domestic connections must be between 0.5 kW and 75 kW.",
        ),
    ],
)
def test_loads_outside_the_category_bounds_are_refused(
    submit, new_connection_data, category, load, message
):
    data = dict(
        new_connection_data, category=category, connected_load_kw=load, supply_phase="three"
    )

    assert errors_of(submit(NewConnectionForm, data), "connected_load_kw") == [message]


def test_load_bounds_message_in_hindi(submit, new_connection_data):
    data = dict(
        new_connection_data, category="agricultural", connected_load_kw="40", supply_phase="three"
    )

    form = submit(NewConnectionForm, data, lang="hi")

    assert errors_of(form, "connected_load_kw") == [
        "कृषि कनेक्शन के लिए भार 0.75 किलोवाट से 37.5 किलोवाट के बीच होना चाहिए।"
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Enter a number, for example 2 or 7.5."),
        ("7,5", "Enter a number, for example 2 or 7.5."),
        ("0", "Connected load (kW) must be more than 0 kW."),
        ("-2", "Connected load (kW) must be more than 0 kW."),
        ("NaN", "Connected load (kW) must be more than 0 kW."),
        ("Infinity", "Connected load (kW) must be more than 0 kW."),
        ("2.555", "Load can have at most 2 decimal places."),
    ],
)
def test_unreadable_or_impossible_loads_are_refused(submit, new_connection_data, typed, message):
    form = submit(NewConnectionForm, dict(new_connection_data, connected_load_kw=typed))

    assert errors_of(form, "connected_load_kw") == [message]


def test_unreadable_load_message_in_hindi(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, connected_load_kw="abc"), lang="hi")

    assert errors_of(form, "connected_load_kw") == ["संख्या लिखें, जैसे 2 या 7.5।"]


def test_load_typed_in_devanagari_digits_is_read(submit, new_connection_data):
    form = submit(NewConnectionForm, dict(new_connection_data, connected_load_kw="३.५"))

    assert form.errors == {}
    assert form.connected_load_kw.data == Decimal("3.5")


@pytest.mark.parametrize(
    ("load", "phase", "ok"),
    [
        ("7", "single", True),
        ("7.01", "single", False),
        ("7.01", "three", True),
        ("12", "single", False),
        ("3", "three", True),
    ],
)
def test_three_phase_is_required_above_seven_kw(submit, new_connection_data, load, phase, ok):
    data = dict(new_connection_data, connected_load_kw=load, supply_phase=phase)

    form = submit(NewConnectionForm, data)

    if ok:
        assert form.errors == {}
    else:
        assert errors_of(form, "supply_phase") == ["A load above 7 kW needs a three-phase supply."]


def test_three_phase_rule_in_hindi(submit, new_connection_data):
    data = dict(new_connection_data, connected_load_kw="8", supply_phase="single")

    form = submit(NewConnectionForm, data, lang="hi")

    assert errors_of(form, "supply_phase") == ["7 किलोवाट से अधिक भार के लिए थ्री फ़ेज़ कनेक्शन आवश्यक है।"]


def test_three_phase_threshold_is_configuration(
    submit, form_app, new_connection_data, tmp_path: Path
):
    text = DEFAULT_DISCOMS_FILE.read_text(encoding="utf-8")
    custom = tmp_path / "discoms.toml"
    custom.write_text(
        text.replace("three_phase_above_kw = 7", "three_phase_above_kw = 5", 1), encoding="utf-8"
    )
    form_app.config["DISCOMS_FILE"] = str(custom)

    form = submit(NewConnectionForm, dict(new_connection_data, connected_load_kw="6"))

    assert errors_of(form, "supply_phase") == ["A load above 5 kW needs a three-phase supply."]


# ---------------------------------------------------------------- pole and neighbour


@pytest.mark.parametrize(("typed", "stored"), [("P-12/3", "P-12/3"), ("p 44", "P44")])
def test_pole_numbers_are_upper_cased(submit, new_connection_data, typed, stored):
    form = submit(NewConnectionForm, dict(new_connection_data, pole_number=typed))

    assert form.to_record()["pole_number"] == stored


@pytest.mark.parametrize("typed", ["#12", "P" * 21])
def test_bad_pole_numbers_are_refused(submit, new_connection_data, typed):
    form = submit(NewConnectionForm, dict(new_connection_data, pole_number=typed))

    assert errors_of(form, "pole_number") == [
        "Nearby pole number may contain only letters, digits, '/' and '-' (at most 20)."
    ]


def test_neighbour_account_number_follows_the_cspdcl_bp_format(submit, new_connection_data):
    good = submit(
        NewConnectionForm, dict(new_connection_data, neighbour_account_number="1000 234 567")
    )
    bad = submit(
        NewConnectionForm, dict(new_connection_data, neighbour_account_number="100023456789")
    )

    assert good.to_record()["neighbour_account_number"] == "1000234567"
    assert errors_of(bad, "neighbour_account_number") == ["Enter a valid BP number: 10 digits."]


def test_neighbour_account_number_follows_the_configured_discom(
    submit, form_app, new_connection_data
):
    form_app.config["DISCOM"] = "avvnl"
    data = dict(new_connection_data, district="Ajmer", pin_code="305001")

    k_number = submit(NewConnectionForm, dict(data, neighbour_account_number="210312345678"))
    bp_number = submit(
        NewConnectionForm, dict(data, neighbour_account_number="1000234567"), lang="hi"
    )

    assert k_number.errors == {}
    assert errors_of(bp_number, "neighbour_account_number") == ["सही के नंबर लिखें: 12 अंक।"]
    assert "(के नंबर)" in str(bp_number.neighbour_account_number.label)


# ---------------------------------------------------------------- language choice


def test_language_comes_from_config_then_request_argument(form_app, new_connection_data):
    form_app.config["FORM_LANGUAGE"] = "en"
    with form_app.test_request_context():
        assert NewConnectionForm().pin_code.label.text == "PIN code"
    with form_app.test_request_context("/?lang=hi"):
        assert NewConnectionForm().pin_code.label.text == "पिन कोड"
        assert NewConnectionForm(lang="en").pin_code.label.text == "PIN code"


def test_default_language_is_hindi(form_app):
    with form_app.test_request_context("/?lang=fr"):
        assert NewConnectionForm().pin_code.label.text == "पिन कोड"
