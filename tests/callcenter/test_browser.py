"""The console in a real browser: a missed call becomes a callback, a call and an application.

Headless Chromium (Debian's ``chromium`` package) driven by Playwright works the console served
over HTTP by the real app, on the real database and Redis, with Twilio's REST API replaced by
the local stand-in. The module skips, saying why, when Playwright is not installed or its driver
or the browser does not start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from flask import Flask
from sqlalchemy import select

pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Page, expect  # noqa: E402

from core.extensions import db  # noqa: E402
from core.models import Callback  # noqa: E402
from core.phone import mask  # noqa: E402
from tests.callcenter import browser_support  # noqa: E402
from tests.callcenter.browser_support import LiveApp, fill_form, resize, serve  # noqa: E402
from tests.callcenter.conftest import PASSWORD, create_user  # noqa: E402
from tests.callcenter.test_applications import (  # noqa: E402
    AADHAAR_NUMBER,
    NEW_CONNECTION,
    expected_demand_total,
    indian_grouping,
    this_year,
)
from tests.conftest import ACCOUNT_SID, run_jobs, sign  # noqa: E402

CONSUMER = "+919876543210"
OPERATOR_PHONE = "+919800000001"
DISCOM_NUMBER = "+911800180000"
BAD_PIN = "012345"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The browser fixtures; browser_starts skips every test here where Chromium does not start.
browser_starts = browser_support.browser_starts
live = browser_support.live
page = browser_support.page


def missed_call(live: LiveApp, caller: str) -> Any:
    """Ring the DISCOM's number and hang up: Twilio POSTs the signed webhook to the server."""
    path = "/ivr/missed-call"
    params = {
        "CallSid": "CA" + "7" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": caller,
        "To": DISCOM_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    request = Request(
        live.url + path,
        data=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(live.url + path, params),
        },
    )
    with urlopen(request, timeout=10) as response:
        return response.status, response.headers.get_content_type()


def test_an_operator_calls_back_a_missed_call_and_submits_a_new_connection(
    live: LiveApp, page: Page, twilio_api: Any, tmp_path: Path
) -> None:
    app = live.app
    create_user(app, "asha", name="Asha Kumari", phone=OPERATOR_PHONE, languages="hi,en")
    assert missed_call(live, CONSUMER) == (200, "text/xml")
    with app.app_context():
        callback_id = db.session.scalar(select(Callback.id).where(Callback.phone == CONSUMER))
    assert callback_id is not None

    # Log in through the login page.
    page.goto(live.url + "/console/login")
    page.locator("#username").fill("asha")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(live.url + "/console/")

    # The callback waits in the queue with its number masked.
    row = page.locator(f'#queue tr[data-id="{callback_id}"]')
    expect(row.locator("td.phone")).to_have_text(mask(CONSUMER))
    assert CONSUMER not in page.content()

    # Take it with the key N, then press C to call: the stand-in rings the operator's phone.
    page.wait_for_load_state()  # keys.js runs once the page has loaded
    page.keyboard.press("n")
    expect(page).to_have_url(f"{live.url}/console/callbacks/{callback_id}")
    page.wait_for_load_state()
    # A key typed into a field stays in the field: "c" there places no call.
    page.locator("#call_back_at").focus()
    page.keyboard.press("c")
    page.keyboard.press("Control+c")
    expect(page.locator(".flash")).to_have_count(0)
    page.locator("h1").click()
    page.keyboard.press("c")
    expect(page.locator(".flash")).to_contain_text("Your phone will ring")
    page.wait_for_load_state()
    run_jobs(app)
    [call] = twilio_api.calls
    assert (call["To"], call["From"]) == (OPERATOR_PHONE, app.config["CALLER_ID"])
    assert call["Url"].startswith(live.url + "/")

    # A: open the application forms from the callback; submit one with a bad PIN code.
    expect(page.locator("#attempt-count")).to_contain_text("1 call placed")
    page.locator("h1").click()
    page.keyboard.press("a")
    page.locator('#services a[href*="/new/new_connection"]').click()
    expect(page).to_have_url(re.compile(rf"/new/new_connection\?callback={callback_id}$"))
    fill_form(page, "#application-form", {**NEW_CONNECTION, "pin_code": BAD_PIN})
    page.locator("#submit-application").click()

    pin = page.locator("#field-pin_code")
    expect(pin.locator(".errors")).to_contain_text("6 अंकों")
    expect(pin.locator("input")).to_have_attribute("aria-invalid", "true")
    expect(pin.locator("input")).to_have_value(BAD_PIN)
    form = page.locator("#application-form")
    expect(form.locator('[name="applicant_name"]')).to_have_value(NEW_CONNECTION["applicant_name"])
    expect(form.locator('[name="address"]')).to_have_value(NEW_CONNECTION["address"])
    expect(form.locator('[name="district"]')).to_have_value(NEW_CONNECTION["district"])
    expect(form.locator('[name="connected_load_kw"]')).to_have_value(
        NEW_CONNECTION["connected_load_kw"]
    )
    expect(page.locator("#field-applicant_name .errors")).to_have_count(0)
    assert AADHAAR_NUMBER not in page.content()

    # Fix the PIN code (and type the Aadhaar again: the page only ever holds it masked).
    fill_form(page, "#application-form", {"pin_code": "493661", "id_number": AADHAAR_NUMBER})
    page.locator("#submit-application").click()

    number = f"NC-{this_year()}-000001"
    total = indian_grouping(expected_demand_total("domestic", "single", "rural", Decimal("3.5")))
    expect(page.locator("#application-number")).to_have_text(number)
    expect(page.locator("#demand-total")).to_contain_text(total)

    # The consumer gets the application number and the demand amount by SMS.
    run_jobs(app)
    [sms] = [message for message in twilio_api.messages if number in message["Body"]]
    assert sms["To"] == CONSUMER
    assert total in sms["Body"] and "₹" in sms["Body"]

    # The submitted application leads back to its callback, where the outcome is recorded;
    # after-call work then holds back the next callback until "Ready".
    page.locator("#back-to-callback").click()
    expect(page).to_have_url(f"{live.url}/console/callbacks/{callback_id}")
    page.get_by_label("Application submitted").check()
    page.get_by_role("button", name="Record outcome").click()
    expect(page).to_have_url(live.url + "/console/")
    expect(page.locator("#my-state-now")).to_contain_text("After-call work")
    page.locator("#ready").click()
    expect(page.locator("#my-state-now")).to_have_text("Available")

    screenshot = tmp_path / "application.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > len(PNG_SIGNATURE)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)


def test_the_wallboard_and_the_campaigns_page_refresh_themselves(
    make_app: Callable[..., Flask], page: Page, tmp_path: Path
) -> None:
    from core.models import OperatorStatus, Role, utcnow

    with serve(make_app, WALLBOARD_REFRESH_SECONDS=2) as live:
        app = live.app
        create_user(app, "sunil", role=Role.SUPERVISOR, name="Sunil")
        asha = create_user(app, "asha", name="Asha")
        page.goto(live.url + "/console/login")
        page.locator("#username").fill("sunil")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        page.goto(live.url + "/console/wallboard")
        expect(page.locator('[data-state-count="available"]')).to_have_text("1")
        with app.app_context():
            db.session.add(OperatorStatus(user_id=asha, state="away", state_since=utcnow()))
            db.session.commit()
        # No reload: the page asks for the figures again by itself.
        expect(page.locator('[data-state-count="away"]')).to_have_text("1", timeout=8000)
        expect(page.locator(f'#operators tr[data-id="{asha}"]')).to_contain_text("Away")
        expect(page.locator("#refreshed")).to_contain_text("Updated")
        # At phone width the wallboard's figures and rows fit without scrolling sideways.
        resize(page, 390, 800)
        for part in ("#wallboard", "#operators"):
            width = page.locator(part).evaluate("element => element.scrollWidth")
            assert width <= 390, (part, width)
        page.screenshot(path=str(tmp_path / "wallboard-phone.png"), full_page=True)
        page.goto(live.url + "/console/dashboard/")
        chart = page.locator("#queue-length-chart svg")
        assert chart.evaluate("svg => svg.getBoundingClientRect().width") <= 390
        chart.screenshot(path=str(tmp_path / "queue-chart-phone.png"))
        resize(page, 1280, 800)

        page.goto(live.url + "/console/campaigns")
        expect(page.locator("#campaigns")).to_contain_text("No campaign yet.")
        page.locator("#rate").fill("500")
        page.get_by_role("button", name="Create and start").click()
        expect(page.locator("#campaign-error")).to_contain_text("The rate runs from 0.01 to 50")
        expect(page.locator("#rate")).to_have_value("500")
