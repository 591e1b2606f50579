"""The other services' forms, and the registry the console picks them from."""

from __future__ import annotations

import json

import pytest

from forms import (
    SERVICES,
    CategoryChangeForm,
    DisconnectionForm,
    LoadChangeForm,
    MeterReplacementForm,
    NameTransferForm,
    NewConnectionForm,
    TransformerComplaintForm,
    get_service,
    service_for_prefix,
)
from forms.exceptions import UnknownServiceError
from forms.service_forms import ExistingConnectionForm


@pytest.fixture
def service_data(existing_connection_data) -> dict[type, dict[str, str]]:
    """Return valid answers for every existing-connection service."""
    shared = existing_connection_data
    return {
        NameTransferForm: dict(
            shared,
            current_consumer_name="Mohan Lal",
            father_or_husband_name="Mohan Lal",
            transfer_reason="sale",
            id_document_type="voter_id",
            id_number="ABC1234567",
        ),
        MeterReplacementForm: dict(shared, meter_fault="burnt", meter_number="mtr-0042"),
        DisconnectionForm: dict(
            shared,
            disconnection_type="permanent",
            disconnection_reason="premises_demolished",
        ),
        TransformerComplaintForm: dict(
            shared,
            location="Near the primary school",
            village_town="Kurud",
            district="Dhamtari",
            transformer_id="",
        ),
        LoadChangeForm: dict(
            shared,
            change_type="increase",
            category="domestic",
            current_load_kw="2",
            requested_load_kw="5",
            supply_phase="single",
        ),
        CategoryChangeForm: dict(
            shared,
            current_category="domestic",
            requested_category="non_domestic",
            connected_load_kw="4",
            purpose="Opening a grocery shop at home",
        ),
    }


EXISTING_SERVICE_FORMS = [
    NameTransferForm,
    MeterReplacementForm,
    DisconnectionForm,
    TransformerComplaintForm,
    LoadChangeForm,
    CategoryChangeForm,
]


@pytest.mark.parametrize("form_class", EXISTING_SERVICE_FORMS)
def test_each_service_accepts_valid_answers(submit, service_data, form_class):
    form = submit(form_class, service_data[form_class])

    assert form.errors == {}
    record = form.to_record()
    assert json.loads(json.dumps(record)) == record
    assert record["service"] == form_class.service_code
    assert record["account_number"] == "1000234567"
    assert record["mobile"] == "+919123456789"


@pytest.mark.parametrize("form_class", EXISTING_SERVICE_FORMS)
@pytest.mark.parametrize("account", ["123456789", "10002345678", "10002345AB"])
def test_each_service_checks_the_account_number(submit, service_data, form_class, account):
    form = submit(form_class, dict(service_data[form_class], account_number=account))

    assert form.account_number.errors == ["Enter a valid BP number: 10 digits."]


@pytest.mark.parametrize("form_class", EXISTING_SERVICE_FORMS)
def test_each_service_needs_the_consumers_mobile(submit, service_data, form_class):
    form = submit(form_class, dict(service_data[form_class], mobile=""), lang="hi")

    assert form.mobile.errors == ["मोबाइल नंबर भरना आवश्यक है।"]


def test_account_number_format_is_the_configured_discoms(submit, form_app, service_data):
    form_app.config["DISCOM"] = "avvnl"
    data = service_data[MeterReplacementForm]

    bp_number = submit(MeterReplacementForm, data)
    k_number = submit(MeterReplacementForm, dict(data, account_number="2103 1234 5678"))

    assert bp_number.account_number.errors == ["Enter a valid K number: 12 digits."]
    assert k_number.errors == {}
    assert k_number.to_record()["account_number"] == "210312345678"
    assert str(k_number.account_number.label.text) == "Account number (K number)"


# ---------------------------------------------------------------- name transfer


def test_name_transfer_for_other_reason_needs_details(submit, service_data):
    data = dict(service_data[NameTransferForm], transfer_reason="other")

    missing = submit(NameTransferForm, data)
    given = submit(NameTransferForm, dict(data, reason_details="Court order of 2024"))

    assert missing.reason_details.errors == ["Describe it when you choose 'Other'."]
    assert given.errors == {}


def test_name_transfer_needs_the_current_name_and_a_valid_id(submit, service_data):
    data = dict(service_data[NameTransferForm], current_consumer_name="", id_number="ABC123")

    form = submit(NameTransferForm, data)

    assert form.current_consumer_name.errors == ["Current name on the bill is required."]
    assert form.id_number.errors == [
        "Enter a valid Voter ID (EPIC) number: 3 letters and 7 digits, e.g. ABC1234567."
    ]


# ---------------------------------------------------------------- meter replacement


def test_meter_number_is_upper_cased_and_optional(submit, service_data):
    with_number = submit(MeterReplacementForm, service_data[MeterReplacementForm])
    without = submit(
        MeterReplacementForm, dict(service_data[MeterReplacementForm], meter_number="")
    )

    assert with_number.to_record()["meter_number"] == "MTR-0042"
    assert without.to_record()["meter_number"] is None


def test_meter_fault_must_be_listed_and_other_needs_details(submit, service_data):
    data = service_data[MeterReplacementForm]

    unknown = submit(MeterReplacementForm, dict(data, meter_fault="haunted"))
    other = submit(MeterReplacementForm, dict(data, meter_fault="other"), lang="hi")

    assert unknown.meter_fault.errors == ["Choose one of the listed options for Meter fault."]
    assert other.fault_details.errors == ["'अन्य' चुनने पर विवरण लिखना आवश्यक है।"]


# ---------------------------------------------------------------- disconnection


def test_temporary_disconnection_needs_a_period(submit, service_data):
    data = dict(
        service_data[DisconnectionForm],
        disconnection_type="temporary",
        disconnection_reason="seasonal",
    )

    missing = submit(DisconnectionForm, data)
    given = submit(DisconnectionForm, dict(data, duration_months="3"))

    assert missing.duration_months.errors == [
        "Give the period of a temporary disconnection (1 to 6 months)."
    ]
    assert given.errors == {}
    assert given.to_record()["duration_months"] == 3


@pytest.mark.parametrize(
    ("months", "message"),
    [
        ("7", "Period (months) must be between 1 and 6."),
        ("0", "Period (months) must be between 1 and 6."),
        ("three", "Enter a whole number, for example 3."),
    ],
)
def test_disconnection_period_bounds(submit, service_data, months, message):
    data = dict(
        service_data[DisconnectionForm], disconnection_type="temporary", duration_months=months
    )

    assert submit(DisconnectionForm, data).duration_months.errors == [message]


def test_permanent_disconnection_drops_a_stray_period(submit, service_data):
    form = submit(DisconnectionForm, dict(service_data[DisconnectionForm], duration_months="2"))

    assert form.errors == {}
    assert form.to_record()["duration_months"] is None


def test_disconnection_type_and_reason_are_required(submit, service_data):
    data = dict(service_data[DisconnectionForm], disconnection_type="", disconnection_reason="")

    form = submit(DisconnectionForm, data)

    assert form.disconnection_type.errors == ["Type of disconnection is required."]
    assert form.disconnection_reason.errors == ["Reason for disconnection is required."]


# ---------------------------------------------------------------- failed transformer


def test_transformer_complaint_checks_its_fields(submit, service_data):
    data = dict(
        service_data[TransformerComplaintForm],
        location="xy",
        district="Patna",
        transformer_id="TR 12/A",
    )

    form = submit(TransformerComplaintForm, data)

    assert form.location.errors == [
        "Transformer location / landmark must be 3 to 200 characters long."
    ]
    assert form.district.errors == ["Choose one of the listed options for District."]
    assert form.transformer_id.errors == []
    assert form.transformer_id.data == "TR12/A"


# ---------------------------------------------------------------- load change


@pytest.mark.parametrize(
    ("change", "current", "requested", "message"),
    [
        ("increase", "2", "5", None),
        ("decrease", "5", "2", None),
        (
            "increase",
            "5",
            "2",
            "For a load increase the requested load must be more than the current load.",
        ),
        (
            "increase",
            "5",
            "5",
            "For a load increase the requested load must be more than the current load.",
        ),
        (
            "decrease",
            "2",
            "5",
            "For a load decrease the requested load must be less than the current load.",
        ),
    ],
)
def test_load_change_direction(submit, service_data, change, current, requested, message):
    data = dict(
        service_data[LoadChangeForm],
        change_type=change,
        current_load_kw=current,
        requested_load_kw=requested,
    )

    form = submit(LoadChangeForm, data)

    assert form.requested_load_kw.errors == ([message] if message else [])


def test_load_change_respects_category_bounds_and_phase(submit, service_data):
    above_max = dict(service_data[LoadChangeForm], requested_load_kw="60", supply_phase="three")
    single_phase = dict(service_data[LoadChangeForm], requested_load_kw="10")

    assert submit(LoadChangeForm, above_max).requested_load_kw.errors == [
        "Load for Domestic connections must be between 0.5 kW and 50 kW."
    ]
    assert submit(LoadChangeForm, single_phase).supply_phase.errors == [
        "A load above 7 kW needs a three-phase supply."
    ]


def test_load_change_decrease_message_in_hindi(submit, service_data):
    data = dict(service_data[LoadChangeForm], change_type="decrease")

    form = submit(LoadChangeForm, data, lang="hi")

    assert form.requested_load_kw.errors == [
        "भार कमी के लिए माँगा गया भार वर्तमान भार से कम होना चाहिए।"
    ]


# ---------------------------------------------------------------- category change


def test_category_change_needs_a_different_category(submit, service_data):
    data = dict(service_data[CategoryChangeForm], requested_category="domestic")

    form = submit(CategoryChangeForm, data)

    assert form.requested_category.errors == [
        "The requested category must differ from the current category."
    ]


def test_category_change_load_must_fit_the_requested_category(submit, service_data):
    data = dict(
        service_data[CategoryChangeForm], requested_category="agricultural", connected_load_kw="40"
    )

    form = submit(CategoryChangeForm, data)

    assert form.connected_load_kw.errors == [
        "Load for Agricultural connections must be between 0.75 kW and 37.5 kW."
    ]


# ---------------------------------------------------------------- registry


def test_registry_lists_every_service_with_its_prefix():
    assert {code: spec.prefix for code, spec in SERVICES.items()} == {
        "new_connection": "NC",
        "name_transfer": "NT",
        "meter_replacement": "MR",
        "disconnection": "DC",
        "transformer": "TF",
        "load_change": "LC",
        "category_change": "CC",
    }
    assert get_service("new_connection").form_class is NewConnectionForm
    assert get_service("transformer").form_class is TransformerComplaintForm
    assert service_for_prefix("LC").form_class is LoadChangeForm


def test_registry_names_services_in_both_languages():
    assert get_service("name_transfer").name("hi") == "नाम परिवर्तन"
    assert get_service("name_transfer").name("en") == "Name transfer"
    for spec in SERVICES.values():
        assert spec.name_hi and spec.name_en and spec.name_hi != spec.name_en
        assert spec.form_class.service_code == spec.code


def test_every_existing_connection_service_shares_account_and_mobile():
    for spec in SERVICES.values():
        if spec.code != "new_connection":
            assert issubclass(spec.form_class, ExistingConnectionForm)


def test_unknown_service_is_a_named_error():
    with pytest.raises(UnknownServiceError, match="no service 'solar_rooftop'"):
        get_service("solar_rooftop")
    with pytest.raises(UnknownServiceError, match="no service with prefix 'ZZ'"):
        service_for_prefix("ZZ")
