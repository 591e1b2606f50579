"""Identity documents, and the promise that a full Aadhaar number is never kept or shown."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask, jsonify, render_template_string, request
from stdnum import verhoeff

from forms import NameTransferForm, NewConnectionForm

# Every field with its label and errors, the way a console template would render them.
PAGE = """{% for field in form %}{{ field.label }} {{ field() }}
{% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}{% endfor %}"""


def render(form) -> str:
    return "".join(f"{field.label} {field()} {' '.join(field.errors)}" for field in form)


def with_wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def grouped(number: str) -> str:
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def test_valid_aadhaar_is_kept_only_masked(submit, new_connection_data, aadhaar_number):
    form = submit(NewConnectionForm, dict(new_connection_data, id_number=grouped(aadhaar_number)))

    assert form.errors == {}
    masked = "XXXX XXXX " + aadhaar_number[-4:]
    assert form.masked_id_number == masked
    record = form.to_record()
    assert record["id_number"] == masked
    assert record["id_document_type"] == "aadhaar"
    for place in (json.dumps(record, ensure_ascii=False), repr(form.data), render(form)):
        assert aadhaar_number not in place
        assert aadhaar_number[:8] not in place.replace(" ", "")
    assert form.id_number.raw_data == [masked]


def test_a_validated_form_validates_again(submit, new_connection_data):
    form = submit(NewConnectionForm, new_connection_data)

    assert form.validate() is True
    assert form.to_record()["id_number"].startswith("XXXX XXXX ")


@pytest.mark.parametrize(
    ("number", "english", "hindi"),
    [
        (
            "wrong check digit",
            "This Aadhaar number is not valid (its check digit does not match); "
            "ask for the digits again.",
            "यह आधार नंबर सही नहीं है (जाँच अंक मेल नहीं खाता); अंक दोबारा पूछकर लिखें।",
        ),
        ("49731234567", "An Aadhaar number has 12 digits.", "आधार नंबर 12 अंकों का होना चाहिए।"),
        ("4973123456789", "An Aadhaar number has 12 digits.", "आधार नंबर 12 अंकों का होना चाहिए।"),
    ],
)
def test_invalid_aadhaar_numbers_are_refused_in_both_languages(
    submit, new_connection_data, aadhaar_number, number, english, hindi
):
    if number == "wrong check digit":
        number = with_wrong_check_digit(aadhaar_number)
    data = dict(new_connection_data, id_number=number)

    assert submit(NewConnectionForm, data).id_number.errors == [english]
    assert submit(NewConnectionForm, data, lang="hi").id_number.errors == [hindi]


@pytest.mark.parametrize("first_digit", ["0", "1"])
def test_aadhaar_numbers_never_start_with_0_or_1(submit, new_connection_data, first_digit):
    # A correct check digit, so only the leading-digit rule can refuse it.
    body = first_digit + "9731234567"
    number = body + verhoeff.calc_check_digit(body)

    form = submit(NewConnectionForm, dict(new_connection_data, id_number=number))

    assert form.id_number.errors == [
        "This cannot be an Aadhaar number: it has only digits and does not start with 0 or 1."
    ]


def test_failed_aadhaar_is_not_echoed_into_the_page(submit, new_connection_data, aadhaar_number):
    wrong = with_wrong_check_digit(aadhaar_number)

    form = submit(NewConnectionForm, dict(new_connection_data, id_number=wrong))

    html = render(form)
    assert wrong not in html
    assert wrong[:8] not in html
    assert f'placeholder="XXXX XXXX {wrong[-4:]}"' in html
    assert 'value=""' in form.id_number()
    assert wrong not in repr(form.data)


def test_valid_aadhaar_is_not_echoed_when_another_field_fails(
    submit, new_connection_data, aadhaar_number
):
    form = submit(NewConnectionForm, dict(new_connection_data, pin_code="000000"))

    assert set(form.errors) == {"pin_code"}
    assert aadhaar_number not in render(form)
    assert aadhaar_number not in repr(form.data)


def test_aadhaar_typed_under_another_document_is_not_echoed(
    submit, new_connection_data, aadhaar_number
):
    data = dict(new_connection_data, id_document_type="voter_id", id_number=aadhaar_number)

    form = submit(NewConnectionForm, data)

    assert form.id_number.errors == [
        "Enter a valid Voter ID (EPIC) number: 3 letters and 7 digits, e.g. ABC1234567."
    ]
    assert aadhaar_number not in render(form)
    assert aadhaar_number not in repr(form.data)


@pytest.mark.parametrize(
    ("document", "typed", "stored"),
    [
        ("voter_id", "abc1234567", "ABC1234567"),
        ("passport", "K1234567", "K1234567"),
        ("driving_licence", "RJ14 20110012345", "RJ1420110012345"),
        ("ration_card", "RJ/123/45678", "RJ/123/45678"),
    ],
)
def test_other_documents_are_stored_as_typed_and_normalised(
    submit, new_connection_data, document, typed, stored
):
    data = dict(new_connection_data, id_document_type=document, id_number=typed)

    form = submit(NewConnectionForm, data)

    assert form.errors == {}
    assert form.to_record()["id_number"] == stored
    assert form.masked_id_number == stored


@pytest.mark.parametrize(
    ("document", "typed", "message"),
    [
        (
            "passport",
            "12345678",
            "Enter a valid Passport number: 1 letter and 7 digits, e.g. K1234567.",
        ),
        (
            "driving_licence",
            "RJ14",
            "Enter a valid Driving licence number: state code and 13 digits, e.g. RJ1420110012345.",
        ),
    ],
)
def test_other_documents_are_checked_against_their_format(
    submit, new_connection_data, document, typed, message
):
    data = dict(new_connection_data, id_document_type=document, id_number=typed)

    assert submit(NewConnectionForm, data).id_number.errors == [message]


def test_document_format_message_in_hindi(submit, new_connection_data):
    data = dict(new_connection_data, id_document_type="voter_id", id_number="AB12")

    form = submit(NewConnectionForm, data, lang="hi")

    assert form.id_number.errors == [
        "सही मतदाता पहचान पत्र (EPIC) नंबर लिखें: 3 अंग्रेज़ी अक्षर और 7 अंक, जैसे ABC1234567।"
    ]


def test_name_transfer_masks_the_new_owners_aadhaar(
    submit, existing_connection_data, aadhaar_number
):
    data = dict(
        existing_connection_data,
        current_consumer_name="Late Shri Mohan Lal",
        father_or_husband_name="Mohan Lal",
        transfer_reason="inheritance",
        id_document_type="aadhaar",
        id_number=aadhaar_number,
    )

    form = submit(NameTransferForm, data)

    assert form.errors == {}
    assert form.to_record()["id_number"] == "XXXX XXXX " + aadhaar_number[-4:]
    assert aadhaar_number not in json.dumps(form.to_record())


# ---------------------------------------------------------------- through a real view


@pytest.fixture
def console_app() -> Flask:
    """Return an app with CSRF on and one view using the form as the console will."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-only", TESTING=True)

    @app.route("/apply", methods=["GET", "POST"])
    def apply():
        form = NewConnectionForm(lang="en")
        if form.validate_on_submit():
            return jsonify(form.to_record())
        status = 400 if request.method == "POST" else 200
        return render_template_string(PAGE, form=form), status

    return app


def csrf_token_of(client) -> str:
    page = client.get("/apply").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_view_never_sends_a_full_aadhaar_back(
    console_app, new_connection_data, aadhaar_number, caplog
):
    caplog.set_level(logging.DEBUG)
    client = console_app.test_client()
    token = csrf_token_of(client)
    wrong = with_wrong_check_digit(aadhaar_number)

    refused = client.post(
        "/apply", data=dict(new_connection_data, id_number=wrong, csrf_token=token)
    )
    other_error = client.post(
        "/apply", data=dict(new_connection_data, pin_code="1", csrf_token=token)
    )
    accepted = client.post("/apply", data=dict(new_connection_data, csrf_token=token))

    assert refused.status_code == 400
    assert "check digit does not match" in refused.get_data(as_text=True)
    assert wrong not in refused.get_data(as_text=True)
    assert other_error.status_code == 400
    assert aadhaar_number not in other_error.get_data(as_text=True)
    assert accepted.status_code == 200
    assert accepted.get_json()["id_number"] == "XXXX XXXX " + aadhaar_number[-4:]
    assert "csrf_token" not in accepted.get_json()
    assert aadhaar_number not in accepted.get_data(as_text=True)
    assert aadhaar_number not in caplog.text
    assert wrong not in caplog.text


def test_view_refuses_a_post_without_csrf_token_with_a_clear_message(
    console_app, new_connection_data
):
    client = console_app.test_client()
    client.get("/apply")

    response = client.post("/apply", data=new_connection_data)

    assert response.status_code == 400
    assert "This form has expired. Reload the page and fill it in again." in response.get_data(
        as_text=True
    )
