"""Every console page in the language its user chose: Hindi words (not codes), Indian amounts."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.extensions import db
from core.models import Role, User
from core.models.applications import Application
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from tests.callcenter.conftest import create_user, login, post_form
from tests.callcenter.test_applications import NEW_CONNECTION

PHONE = "+919812345678"

PAGES = {
    # path: (a Hindi string the page shows, English strings that must not be left on it)
    "/console/": ("प्रतीक्षा में कॉल बैक", ["Callbacks waiting", "Take next", "Log out"]),
    "/console/outbox": ("भेजे जाने वाले SMS", ["Outgoing SMS", "No message yet."]),
    "/console/wallboard": ("सबसे लंबी प्रतीक्षा", ["Oldest wait", "Pending callbacks"]),
    "/console/campaigns": ("घोषणा अभियान", ["Announcement campaigns", "Create and start"]),
    "/console/dashboard/": ("प्रति घंटा मिस्ड कॉल", ["Missed calls per hour", "Median wait"]),
    "/console/dashboard/connections": ("चालू करने का माध्यिका समय", ["Median time", "Per area"]),
    "/console/connections/": ("दिए जाने वाले कनेक्शन", ["Connections to make", "Nothing to"]),
    "/console/outages/": ("कटौती दर्ज करें", ["Record an outage", "Feeder code or area"]),
    "/console/payments/flagged": ("जाँच के लिए भुगतान", ["Flagged payments", "Why flagged"]),
    "/console/applications/": ("नया आवेदन", ["New application", "Application number"]),
}
"""The supervisors' pages (a supervisor opens every one), each with words to look for."""

ENGLISH = {
    "/console/": "Callbacks waiting",
    "/console/outbox": "Outgoing SMS",
    "/console/wallboard": "Oldest wait",
    "/console/campaigns": "Announcement campaigns",
    "/console/dashboard/": "Missed calls per hour",
    "/console/dashboard/connections": "Median time to energise",
    "/console/connections/": "Connections to make",
    "/console/outages/": "Record an outage",
    "/console/payments/flagged": "Flagged payments",
    "/console/applications/": "New application",
}


def _choose(app: Flask, user_id: int, language: str) -> None:
    with app.app_context():
        db.session.get(User, user_id).language = language
        db.session.commit()


def _signed_in(app: Flask, username: str, language: str, role: Role = Role.OPERATOR):
    user_id = create_user(app, username, role=role)
    _choose(app, user_id, language)
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client, user_id


def _text(page: str) -> str:
    """Return what a reader sees of a page: its text, without tags and scripts."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_in_hindi(app: Flask, path: str) -> None:
    client, _ = _signed_in(app, "sunita", "hi", Role.SUPERVISOR)
    page = client.get(path).get_data(as_text=True)
    hindi, english = PAGES[path]
    assert '<html lang="hi">' in page
    assert hindi in _text(page)
    for words in english:
        assert words not in _text(page), words
    assert "लॉग आउट" in page and "डैशबोर्ड" in page  # the menu too


@pytest.mark.parametrize("path", sorted(ENGLISH))
def test_each_page_in_english(app: Flask, path: str) -> None:
    client, _ = _signed_in(app, "sunil", "en", Role.SUPERVISOR)
    page = client.get(path).get_data(as_text=True)
    assert '<html lang="en">' in page and ENGLISH[path] in page
    assert "लॉग आउट" not in page and "Log out" in page


def _callback_with_history(app: Flask, callback_factory) -> int:
    callback_id = callback_factory(PHONE)
    with app.app_context():
        account = ConsumerAccount(account_number="1010001", name="Ram Prasad")
        db.session.add(account)
        db.session.flush()
        db.session.add(LinkedNumber(phone=PHONE, account_id=account.id))
        db.session.add(
            Bill(
                account_id=account.id,
                bill_date=date(2026, 10, 1),
                due_date=date(2026, 10, 15),
                amount_due=Decimal("123456.00"),
                amount_after_due=Decimal("123476.00"),
                paid_on=date(2026, 10, 10),
                paid_amount=Decimal("4366.20"),
            )
        )
        db.session.add(
            Application(
                number="NC-2026-000123",
                service="new_connection",
                phone=PHONE,
                status="demand_issued",
            )
        )
        db.session.commit()
    return callback_id


def test_the_callback_page_in_hindi_shows_words_and_indian_amounts(
    app: Flask, callback_factory
) -> None:
    callback_id = _callback_with_history(app, callback_factory)
    client, _ = _signed_in(app, "asha", "hi")
    post_form(client, "/console/", "/console/take-next")
    page = client.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)
    text = _text(page)

    assert "₹1,23,456.00" in text and "₹4,366.20" in text  # Indian grouping, Latin digits
    assert "डिमांड नोट जारी" in text and "demand_issued" not in text
    assert "नया बिजली कनेक्शन" in text and "new_connection" not in text
    assert "अक्टू॰" in text  # the bill's month in Hindi
    # The trail: who took it, and the status in words.
    assert "Asha द्वारा लिया गया" in text
    assert "स्थिति: प्रतीक्षा में → लिया गया" in text
    assert "किसने लिया: — → Asha" in text
    for code in ("claimed_by_id", "pending", "claimed", "None"):
        assert code not in text, code
    assert "केवल जानकारी" in text  # the outcomes, information_only among them
    assert "Information only" not in text and "Record outcome" not in text


def test_the_callback_page_in_english_shows_the_same_amounts(app: Flask, callback_factory) -> None:
    callback_id = _callback_with_history(app, callback_factory)
    client, _ = _signed_in(app, "asha", "en")
    post_form(client, "/console/", "/console/take-next")
    text = _text(client.get(f"/console/callbacks/{callback_id}").get_data(as_text=True))
    assert "₹1,23,456.00 of 01 Oct 2026" in text and "paid ₹4,366.20 on 10 Oct 2026" in text
    assert "Demand note issued" in text and "demand_issued" not in text
    assert "Taken by Asha" in text and "status: Waiting → Taken" in text


def test_a_flash_and_a_refusal_in_hindi(app: Flask) -> None:
    client, _ = _signed_in(app, "asha", "hi")
    answer = post_form(client, "/console/", "/console/take-next")
    assert "अभी आपके लिए कोई कॉल बैक देय नहीं है।" in client.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    refused = client.get("/console/callbacks/999999")
    assert refused.status_code == 404
    assert "कॉल बैक 999999 नहीं मिला।" in refused.get_data(as_text=True)


APPLICATION_URL = "/console/applications/new/new_connection?lang=en"


def _submit_with_two_mistakes(client: FlaskClient) -> str:
    page = client.get(APPLICATION_URL).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    bad = dict(NEW_CONNECTION, pin_code="093661", applicant_name="")
    answer = client.post(APPLICATION_URL, data={**bad, "csrf_token": token, "action": "submit"})
    assert answer.status_code == 422
    return answer.get_data(as_text=True)


def _summary(page: str) -> list[str]:
    block = page.split('id="error-summary"')[1].split("</div>")[0]
    items = re.findall(r"<li>(.*?)</li>", block, flags=re.S)
    return [" ".join(_text(item).split()).replace(" :", ":") for item in items]


def test_the_error_list_names_each_field_and_its_problem(app: Flask) -> None:
    client, _ = _signed_in(app, "asha", "en")
    items = _summary(_submit_with_two_mistakes(client))
    assert len(items) == 2, items
    names = dict(item.split(": ", 1) for item in items)
    assert set(names) == {"Applicant's name", "PIN code"}
    assert all(problem.strip() for problem in names.values())
    page = _submit_with_two_mistakes(client)
    assert "2 answers need correcting" in page
    assert 'href="#pin_code"' in page and 'href="#applicant_name"' in page


def test_the_error_list_names_the_fields_in_hindi(app: Flask) -> None:
    client, _ = _signed_in(app, "asha", "hi")
    page = _submit_with_two_mistakes(client)
    items = _summary(page)
    assert {item.split(": ", 1)[0] for item in items} == {"आवेदक का नाम", "पिन कोड"}
    assert "2 उत्तर ठीक करने हैं" in page


def test_a_form_error_of_wtforms_itself_in_hindi(app: Flask) -> None:
    client, _ = _signed_in(app, "sunita", "hi", Role.SUPERVISOR)
    answer = post_form(
        client, "/console/campaigns", "/console/campaigns", {"kind": "overdue-bills", "rate": "x"}
    )
    assert answer.status_code == 400
    text = _text(answer.get_data(as_text=True))
    assert "अभियान नहीं बना: यह मान्य संख्या नहीं है।" in text
    assert "Not a valid float value" not in text
