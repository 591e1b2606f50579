"""Applications filled during a call: drafts, submission, numbering, demand note and SMS.

Operators sign in through the console's own login page (POST /console/login), as in a
browser. CSRF protection stays on: every POST carries the token read from the page.
"""

from __future__ import annotations

import html
import re
import tomllib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from stdnum import verhoeff
from werkzeug.security import generate_password_hash

from core.audit import audit_trail
from core.extensions import db
from core.models import Callback, OutboundMessage, Role, User
from core.models.applications import Application
from forms.numbers import INDIA_TIME
from tests.conftest import run_jobs

AADHAAR_BODY = "49731234567"
AADHAAR_NUMBER = AADHAAR_BODY + verhoeff.calc_check_digit(AADHAAR_BODY)
CHARGES_FILE = Path(__file__).parents[2] / "forms" / "charges.toml"

NEW_CONNECTION = {
    "applicant_name": "Rameshwar Prasad Sahu",
    "father_or_husband_name": "Shyam Lal Sahu",
    "mobile": "98765 43210",
    "alternate_mobile": "",
    "address": "Ward 5, near Hanuman Mandir",
    "village_town": "Abhanpur",
    "block_tehsil": "Abhanpur",
    "district": "Raipur",
    "pin_code": "493661",
    "area_type": "rural",
    "category": "domestic",
    "connected_load_kw": "3.5",
    "supply_phase": "single",
    "id_document_type": "aadhaar",
    "id_number": AADHAAR_NUMBER,
    "pole_number": "",
    "neighbour_account_number": "",
    "preferred_language": "hi",
}

EXISTING = {
    "account_number": "1000234567",
    "applicant_name": "Sunita Devi",
    "mobile": "+91 91234 56789",
    "preferred_language": "en",
}

OTHER_SERVICES = {
    "name_transfer": dict(
        EXISTING,
        current_consumer_name="Mohan Lal",
        father_or_husband_name="Mohan Lal",
        transfer_reason="sale",
        id_document_type="voter_id",
        id_number="ABC1234567",
    ),
    "meter_replacement": dict(EXISTING, meter_fault="burnt", meter_number="mtr-0042"),
    "disconnection": dict(
        EXISTING, disconnection_type="permanent", disconnection_reason="premises_demolished"
    ),
    "transformer": dict(
        EXISTING, location="Near the primary school", village_town="Kurud", district="Dhamtari"
    ),
    "load_change": dict(
        EXISTING,
        change_type="increase",
        category="domestic",
        current_load_kw="2",
        requested_load_kw="5",
        supply_phase="single",
    ),
    "category_change": dict(
        EXISTING,
        current_category="domestic",
        requested_category="non_domestic",
        connected_load_kw="4",
        purpose="Opening a grocery shop at home",
    ),
}
PREFIXES = {
    "name_transfer": "NT",
    "meter_replacement": "MR",
    "disconnection": "DC",
    "transformer": "TF",
    "load_change": "LC",
    "category_change": "CC",
}


# ---------------------------------------------------------------- helpers


def make_user(app: Flask, username: str = "asha", role: Role = Role.OPERATOR) -> User:
    """Create a console user directly in the database."""
    with app.app_context():
        user = User(
            username=username,
            name=username.title(),
            password_hash=generate_password_hash(PASSWORD),
            role=role,
            phone="+919800000001",
            languages="hi,en",
        )
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


PASSWORD = "correct horse battery"


def signed_in(app: Flask, user: User):
    """Return a test client logged in as ``user`` through the login page."""
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    response = client.post(
        "/console/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def make_callback(app: Flask, phone: str = "+919876543210") -> int:
    with app.app_context():
        now = datetime.now(UTC)
        callback = Callback(
            phone=phone, language="hi", due_at=now, first_missed_at=now, last_missed_at=now
        )
        db.session.add(callback)
        db.session.commit()
        return callback.id


def expected_demand_total(category: str, phase: str, area: str, load: Decimal) -> Decimal:
    """Price a new connection from the SAMPLE schedule by hand, as its header explains."""
    schedule = tomllib.loads(CHARGES_FILE.read_text(), parse_float=Decimal)

    def rupee(amount: Decimal) -> Decimal:
        return Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP)

    def listed(value, code):
        return code in ([value] if isinstance(value, str) else value)

    [band] = [
        band
        for band in schedule["bands"]
        if band["category"] == category
        and listed(band["phase"], phase)
        and listed(band["area_type"], area)
        and Decimal(band["above_kw"]) < load <= Decimal(band["up_to_kw"])
    ]
    deposit = (
        Decimal(band["security_deposit_per_kw"]) * load
        if "security_deposit_per_kw" in band
        else Decimal(band["security_deposit_flat"])
    )
    items = {
        "security_deposit": rupee(deposit),
        "service_line": rupee(band["service_line"]),
        "meter": rupee(schedule["meter_cost"][phase]),
        "processing_fee": rupee(schedule["processing_fee"][category]),
    }
    taxable = sum(v for k, v in items.items() if schedule["items"][k]["taxable"])
    gst = rupee(taxable * Decimal(schedule["schedule"]["gst_percent"]) / 100)
    return sum(items.values()) + gst


def indian_grouping(amount: Decimal) -> str:
    """Write whole rupees with Indian digit grouping: 12345 → 12,345; 123456 → 1,23,456."""
    digits = str(int(amount))
    head, tail = digits[:-3], digits[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join([*groups, tail])


def this_year() -> int:
    return datetime.now(INDIA_TIME).year


@pytest.fixture
def operator(app: Flask) -> User:
    return make_user(app)


@pytest.fixture
def console(app: Flask, operator: User):
    return signed_in(app, operator)


def post_form(console, url: str, data: dict[str, str], *, page: str | None = None, **extra):
    """POST ``data`` with the CSRF token of ``page`` (GET first when not given)."""
    html = page if page is not None else console.get(url).get_data(as_text=True)
    return console.post(url, data={**data, "csrf_token": csrf_token(html), **extra})


# ---------------------------------------------------------------- new connection end to end


def test_new_connection_end_to_end(app, console, twilio_api):
    callback_id = make_callback(app)
    url = f"/console/applications/new/new_connection?callback={callback_id}&lang=en"
    page = console.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "autofocus" in html and "Ctrl+S" in html
    assert "आवेदक" in html or "/ " in html  # labels carry the other language too

    bad = dict(NEW_CONNECTION, pin_code="093661")
    response = post_form(console, url, bad, page=html, action="submit")
    assert response.status_code == 422
    failed = response.get_data(as_text=True)
    # The error sits next to the PIN code field, and every other answer is still there.
    pin_block = failed.split('id="field-pin_code"')[1].split('class="field"')[0]
    assert 'class="errors"' in pin_block and 'aria-invalid="true"' in pin_block
    assert 'value="093661"' in failed
    assert 'value="Rameshwar Prasad Sahu"' in failed
    assert 'value="Ward 5, near Hanuman Mandir"' in failed
    assert AADHAAR_NUMBER not in failed
    assert "XXXX XXXX " + AADHAAR_NUMBER[-4:] in failed
    draft_action = re.search(r'action="([^"]+)" class="application-form"', failed).group(1)
    assert "/submit" in draft_action

    # Fixed, and the Aadhaar typed again (the page only ever held it masked).
    fixed = dict(NEW_CONNECTION)
    response = post_form(console, draft_action, fixed, page=failed, action="submit")
    assert response.status_code == 303
    result = console.get(response.headers["Location"]).get_data(as_text=True)
    number = f"NC-{this_year()}-000001"
    assert f'id="application-number">{number}<' in result
    # Back to the callback to record the call's outcome, first in focus and on the key B.
    back = re.search(r'<a href="([^"]+)" id="back-to-callback" data-key="b" autofocus>', result)
    assert back and back.group(1) == f"/console/callbacks/{callback_id}"

    total = expected_demand_total("domestic", "single", "rural", Decimal("3.5"))
    assert indian_grouping(total) in result.split('id="demand-total"')[1]

    with app.app_context():
        application = db.session.scalar(select(Application))
        assert (application.number, application.status) == (number, "demand_issued")
        assert application.demand_total == total
        assert sum(Decimal(item["amount"]) for item in application.demand_items) == total
        assert application.callback_id == callback_id
        assert application.phone == "+919876543210"
        assert application.data["id_number"] == "XXXX XXXX " + AADHAAR_NUMBER[-4:]

        trail = audit_trail(db.session, "application", application.id)
        assert [event.action for event in trail] == ["draft_saved", "submitted"]
        assert trail[-1].changes["number"] == [None, number]
        assert all(AADHAAR_NUMBER not in str(event.changes) for event in trail)

    run_jobs(app)
    [sms] = twilio_api.messages
    assert sms["To"] == "+919876543210"
    assert number in sms["Body"]
    assert indian_grouping(total) in sms["Body"] and "₹" in sms["Body"]
    assert "आवेदन" in sms["Body"]  # Hindi, the consumer's preferred language


def test_each_other_service_submits(app, console, twilio_api):
    for service, answers in OTHER_SERVICES.items():
        url = f"/console/applications/new/{service}?lang=en"
        response = post_form(console, url, answers, action="submit")
        assert response.status_code == 303, (service, response.get_data(as_text=True))
        result = console.get(response.headers["Location"]).get_data(as_text=True)
        assert f"{PREFIXES[service]}-{this_year()}-000001" in result
        assert "demand-note" not in result
    with app.app_context():
        rows = db.session.scalars(select(Application)).all()
        assert {row.service for row in rows} == set(OTHER_SERVICES)
        assert {row.status for row in rows} == {"submitted"}
        assert {row.account_number for row in rows} == {"1000234567"}
    run_jobs(app)
    assert len(twilio_api.messages) == len(OTHER_SERVICES)
    assert all("registered" in sms["Body"] for sms in twilio_api.messages)  # English asked


# ---------------------------------------------------------------- drafts


def test_draft_saves_and_resumes_without_the_full_aadhaar(app, console):
    url = "/console/applications/new/new_connection?lang=en"
    partial = dict(NEW_CONNECTION, pin_code="4936", supply_phase="")
    response = post_form(console, url, partial, action="draft")
    assert response.status_code == 303
    resumed = console.get(response.headers["Location"])
    html = resumed.get_data(as_text=True)
    assert 'id="draft-saved"' in html
    assert 'value="4936"' in html and 'value="Rameshwar Prasad Sahu"' in html
    assert 'value="3.5"' in html
    assert re.search(r'<option selected value="Raipur">|value="Raipur" selected', html)
    assert AADHAAR_NUMBER not in html
    assert "XXXX XXXX " + AADHAAR_NUMBER[-4:] in html
    with app.app_context():
        draft = db.session.scalar(select(Application))
        assert draft.status == "draft" and draft.number is None
        assert AADHAAR_NUMBER not in str(draft.data)

    # Saving again updates the same draft; no second row.
    draft_url = response.headers["Location"].split("?")[0]
    again = post_form(console, draft_url, dict(partial, pin_code="493661"), page=html)
    assert again.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Application.id))) == 1
        assert db.session.scalar(select(Application.data))["pin_code"] == "493661"


def test_submitted_application_cannot_be_submitted_again(app, console):
    url = "/console/applications/new/meter_replacement"
    response = post_form(console, url, OTHER_SERVICES["meter_replacement"], action="submit")
    result_url = response.headers["Location"].split("?")[0]
    page = console.get(result_url).get_data(as_text=True)
    again = console.post(
        result_url + "/submit",
        data={**OTHER_SERVICES["meter_replacement"], "csrf_token": csrf_token_of(console)},
    )
    assert again.status_code == 409
    assert "already submitted" in again.get_data(as_text=True)
    assert "MR-" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Application.id))) == 1


def csrf_token_of(console) -> str:
    return csrf_token(console.get("/console/applications/new/meter_replacement").get_data(True))


def test_unknown_service_and_application_are_clear_404s(console):
    response = console.get("/console/applications/new/solar_rooftop")
    assert response.status_code == 404
    assert "Unknown service 'solar_rooftop'" in html.unescape(response.get_data(as_text=True))
    response = console.get("/console/applications/999999")
    assert response.status_code == 404
    assert "No application 999999" in response.get_data(as_text=True)
    response = console.get("/console/applications/lookup?number=NC-2026-999999")
    assert response.status_code == 404
    assert "No application numbered 'NC-2026-999999'" in html.unescape(
        response.get_data(as_text=True)
    )
    response = console.get("/console/applications/new/new_connection?callback=424242")
    assert response.status_code == 404


def test_lookup_by_number_opens_the_application(app, console):
    response = post_form(
        console,
        "/console/applications/new/disconnection",
        OTHER_SERVICES["disconnection"],
        action="submit",
    )
    number = f"DC-{this_year()}-000001"
    found = console.get(f"/console/applications/lookup?number={number.lower()}")
    assert found.status_code == 303
    assert found.headers["Location"].split("?")[0] == response.headers["Location"].split("?")[0]


def test_post_without_csrf_token_is_refused(app, console):
    response = console.post(
        "/console/applications/new/meter_replacement",
        data=dict(OTHER_SERVICES["meter_replacement"], action="submit"),
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Application.id))) == 0


def test_pages_need_a_signed_in_user(app):
    response = app.test_client().get("/console/applications/new/new_connection")
    assert response.status_code in (302, 401)


def test_failed_submit_keeps_an_aadhaar_only_masked(app, console):
    url = "/console/applications/new/new_connection?lang=en"
    bad = dict(NEW_CONNECTION, applicant_name="")
    response = post_form(console, url, bad, action="submit")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert AADHAAR_NUMBER not in html
    with app.app_context():
        stored = db.session.scalar(select(Application.data))
        assert AADHAAR_NUMBER not in str(stored)
        assert stored["id_number"] == "XXXX XXXX " + AADHAAR_NUMBER[-4:]
        bodies = db.session.scalars(select(OutboundMessage.body)).all()
        assert bodies == []


def test_load_the_schedule_cannot_price_is_an_error_on_the_load(make_app, tmp_path):
    # A schedule whose rural single-phase domestic band stops at 2 kW: the form accepts
    # 3.5 kW (its own bounds), but no demand note can be priced, so nothing is submitted.
    sample = CHARGES_FILE.read_text()
    band = 'area_type = "rural"\nabove_kw = 0\nup_to_kw = 7\nsecurity_deposit_per_kw = 200'
    assert band in sample
    charges = tmp_path / "charges.toml"
    charges.write_text(sample.replace(band, band.replace("up_to_kw = 7", "up_to_kw = 2")))
    app = make_app(CHARGES_FILE=str(charges))
    console = signed_in(app, make_user(app))
    url = "/console/applications/new/new_connection?lang=en"
    response = post_form(console, url, NEW_CONNECTION, action="submit")
    assert response.status_code == 422
    load_block = response.get_data(as_text=True).split('id="field-connected_load_kw"')[1]
    load_block = load_block.split('class="field"')[0]
    assert "outside the schedule&#39;s bands" in load_block and "up to 2 kW" in load_block
    with app.app_context():
        assert db.session.scalar(select(Application.status)) == "draft"
        assert db.session.scalar(select(func.count(OutboundMessage.id))) == 0


def test_submitted_at_is_recent(app, console):
    post_form(
        console,
        "/console/applications/new/transformer",
        OTHER_SERVICES["transformer"],
        action="submit",
    )
    with app.app_context():
        submitted = db.session.scalar(select(Application.submitted_at))
        assert datetime.now(UTC) - submitted < timedelta(minutes=1)


def test_a_callback_held_by_another_operator_is_refused(app, console):
    other = make_user(app, "gopal")
    callback_id = make_callback(app)
    with app.app_context():
        callback = db.session.get(Callback, callback_id)
        callback.status, callback.claimed_by_id = "claimed", other.id
        db.session.commit()
    url = f"/console/applications/new/meter_replacement?callback={callback_id}"
    assert console.get(url).status_code == 409
    token = csrf_token(console.get("/console/applications/new/meter_replacement").get_data(True))
    response = console.post(
        url, data=dict(OTHER_SERVICES["meter_replacement"], action="submit", csrf_token=token)
    )
    assert response.status_code == 409
    assert "held by another operator" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Application.id))) == 0
