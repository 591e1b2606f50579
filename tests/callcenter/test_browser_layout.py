"""Every console page at phone width and on a desktop, in each language, in a real browser.

Headless Chromium (see browser_support.py) opens each page with every table holding rows,
as a supervisor and as an operator, at 390 × 844 px and at 1280 × 800 px: no page may scroll
sideways. Each view is saved as a PNG in ``$SCREENSHOTS_DIR`` (a temporary folder when unset)
for a person to look over. The Hindi the console shows must be drawn with a Devanagari font,
not as boxes. The module skips, saying why, when Playwright or Chromium does not start here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

from playwright.sync_api import Page  # noqa: E402

from callqueue.campaigns import create_campaign  # noqa: E402
from connections import stages  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import MessageStatus, OutboundMessage, Role, User, utcnow  # noqa: E402
from core.models.applications import Application  # noqa: E402
from core.models.campaigns import CampaignKind  # noqa: E402
from core.models.outages import OutageKind  # noqa: E402
from core.models.payments import LinkStatus, Payment, PaymentLink, PaymentOutcome  # noqa: E402
from ivr.demo import add_consumer  # noqa: E402
from outages.records import NewOutage, record_outage  # noqa: E402
from tests.callcenter import browser_support  # noqa: E402
from tests.callcenter.browser_support import LiveApp, resize  # noqa: E402
from tests.callcenter.conftest import PASSWORD, create_user, login, make_callback  # noqa: E402
from tests.callcenter.test_applications import NEW_CONNECTION, post_form  # noqa: E402
from tests.callqueue.test_campaigns import overdue_account  # noqa: E402
from tests.conftest import run_jobs  # noqa: E402
from tests.connections.support import make_engineer, paid_application  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS_ENV = "SCREENSHOTS_DIR"
"""Where the screenshots go; a temporary folder of the test's own when unset."""

CALLER = "+919876543210"
FEEDER = "F0042"
ENGINEER_AREA = "Raipur/Abhanpur"
HINDI = "नया कनेक्शन"
""""New connection", drawn in the Devanagari test."""

LONG_LINK = "https://rzp.io/i/" + "Q7xZ" * 12
"""A payment link with no place to break: it must wrap rather than widen the page."""

# The browser fixtures; browser_starts skips every test here where Chromium does not start.
browser_starts = browser_support.browser_starts
live = browser_support.live
page = browser_support.page


@pytest.fixture()
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


# ------------------------------------------------------------------ every table with rows


@dataclass(frozen=True)
class Seeded:
    """The records whose pages are opened by id."""

    callback_id: int
    application_id: int
    connection_id: int


def seed_every_table(app: Flask) -> Seeded:
    """Put rows in every table the console shows, some with long words and long lines."""
    create_user(app, "sunil", role=Role.SUPERVISOR, name="Sunil Verma")
    create_user(app, "asha", name="Asha Kumari", phone="+919800000001")
    create_user(app, "ravi", name="Ravi Shankar Prasad Chandrakar", phone="+919800000002")
    with app.app_context():
        add_consumer(
            "1000234567",
            [CALLER],
            [
                {
                    "bill_date": date(2026, 10, 1),
                    "due_date": date(2026, 10, 20),
                    "amount_due": Decimal("12842.50"),
                    "amount_after_due": Decimal("12990.00"),
                }
            ],
            name="Rameshwar Prasad Sahu",
            feeder=FEEDER,
            area="Ward 5",
        )
        db.session.commit()
    # The caller with an account comes first, so the operator's "Take next" picks it.
    callback_id = make_callback(app, CALLER, priority=5, missed_calls=3, attempts=2)
    for n in range(3):
        make_callback(app, f"+91981234560{n}", waited=timedelta(minutes=40 * n), language="en")

    # An application submitted through the form, as an operator does (its demand note, SMS).
    client = app.test_client()
    assert login(client, "asha").status_code == 302
    url = "/console/applications/new/new_connection?lang=en"
    assert post_form(client, url, NEW_CONNECTION, action="submit").status_code == 303
    run_jobs(app)
    with app.app_context():
        application = db.session.query(Application).one()
        db.session.add_all(
            [
                PaymentLink(
                    application_id=application.id,
                    reference_id=application.number,
                    amount=application.demand_total,
                    status=LinkStatus.CREATED,
                    gateway_link_id="plink_" + "R4nd0m" * 4,
                    short_url=LONG_LINK,
                ),
                Payment(
                    source="posting",
                    channel="kiosk",
                    external_id="EMITRA-2026-" + "7" * 20,
                    reference=application.number,
                    application_id=application.id,
                    amount=Decimal("100.00"),
                    gateway_link_id="plink_" + "R4nd0m" * 4,
                    paid_at=utcnow(),
                    outcome=PaymentOutcome.PARTIAL,
                    flagged=True,
                ),
                OutboundMessage(
                    recipient="+919812345600",
                    template="outage_notice",
                    language="hi",
                    body="बिजली आपूर्ति फीडर F0042 पर बाधित है; अनुमानित बहाली 18:30 तक। "
                    "Track: https://sampark.example/o/" + "x" * 40,
                    status=MessageStatus.FAILED,
                    provider="twilio",
                    error="HTTP 400: The 'To' number +91******5600 is not a valid phone number.",
                ),
            ]
        )
        db.session.commit()
        application_id = application.id

    # Connections: one energised by its area's engineer, one still open and overdue.
    engineer_id = make_engineer(app, "kavita", ENGINEER_AREA)
    connected = paid_application(app, "NC-2026-000101", utcnow() - timedelta(days=2))
    with app.app_context():
        engineer = db.session.get(User, engineer_id)
        stage = stages.clock_for(connected, engineer)[1].stage
        while stages.next_stages(stage):
            following = stages.next_stages(stage)[0]
            stage = stages.record_stage(
                connected, engineer, stage=following, seen_stage=stage
            ).stage
    overdue = paid_application(app, "NC-2026-000102", utcnow() - timedelta(days=40))

    # An outage on the caller's feeder, announced (its row carries the forms that change it).
    with app.app_context():
        now = utcnow()
        record_outage(
            NewOutage(
                kind=OutageKind.UNPLANNED,
                scope="feeder",
                place=FEEDER,
                starts_at=now - timedelta(minutes=5),
                expected_restoration_at=now + timedelta(hours=3),
                reason_code="line_fault",
                reason_note="Conductor snapped near Hanuman Mandir; crew on the way",
                submission_key="b" * 32,
            ),
            None,
        )
    overdue_account(app, "+919800000301")
    overdue_account(app, "+919800000302")
    with app.app_context():
        create_campaign(CampaignKind.OVERDUE_BILLS, name="November dues, Raipur rural")
    return Seeded(callback_id, application_id, overdue)


# ------------------------------------------------------------------ the pages


def supervisor_pages(seeded: Seeded) -> list[tuple[str, str]]:
    return [
        ("queue", "/console/"),
        ("callback", f"/console/callbacks/{seeded.callback_id}"),
        ("applications", "/console/applications/"),
        ("application-form", "/console/applications/new/new_connection"),
        ("application", f"/console/applications/{seeded.application_id}"),
        ("dashboard", "/console/dashboard/"),
        ("dashboard-connections", "/console/dashboard/connections"),
        ("connections", "/console/connections/"),
        ("connection", f"/console/connections/{seeded.connection_id}"),
        ("outages", "/console/outages/"),
        ("payments-flagged", "/console/payments/flagged"),
        ("wallboard", "/console/wallboard"),
        ("campaigns", "/console/campaigns"),
        ("outbox", "/console/outbox"),
    ]


OPERATOR_PAGES = [
    ("queue", "/console/"),
    ("applications", "/console/applications/"),
    ("refused", "/console/outages/"),
]

LAYOUT = """() => {
  const limit = window.innerWidth;
  const wider = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width && box.right > limit + 0.5 && wider.length < 5) {
      wider.push(element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
        + (element.className && typeof element.className === "string"
           ? "." + element.className.trim().split(/\\s+/).join(".") : ""));
    }
  }
  const empty = Array.from(document.querySelectorAll("main table"))
    .filter(table => !Array.from(table.tBodies).some(body =>
      Array.from(body.rows).some(row => row.cells.length > 1)))
    .map(table => table.id || "a table without id");
  return {scroll: document.documentElement.scrollWidth, width: limit, wider, empty};
}"""


@dataclass
class Findings:
    """What went wrong over all the pages, each naming the page, so one run tells it all."""

    problems: list[str]
    language: str
    views: int = 0

    def look(self, page: Page, folder: Path, name: str) -> None:
        """Check the page open in ``page`` is in the language and fits each width; save a
        screenshot of each."""
        shown = page.locator("html").get_attribute("lang")
        if shown != self.language:
            self.problems.append(f"{name} is in {shown!r}, not {self.language!r}")
        for size in (PHONE, DESKTOP):
            resize(page, size["width"], size["height"])
            found: dict[str, Any] = page.evaluate(LAYOUT)
            if found["scroll"] > found["width"]:
                self.problems.append(
                    f"{name} scrolls sideways at {size['width']} px: {found['scroll']} px wide, "
                    f"wider than the screen: {', '.join(found['wider']) or 'the page itself'}"
                )
            if found["empty"] and size is PHONE:
                self.problems.append(f"{name}: no rows in {', '.join(found['empty'])}")
            page.screenshot(path=str(folder / f"{name}-{size['width']}.png"), full_page=True)
            self.views += 1


def log_in(page: Page, live: LiveApp, username: str) -> None:
    page.goto(live.url + "/console/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")  # the language switch has buttons too
    page.wait_for_url(live.url + "/console/")


def log_out(page: Page) -> None:
    page.locator('form[action$="/logout"] button').click()
    page.wait_for_url("**/console/login")


def choose_language(page: Page, language: str) -> None:
    """Press the page's language switch for ``language`` (every page has one)."""
    with page.expect_navigation():
        page.locator(f'#language-switch button[value="{language}"]').click()


@pytest.mark.parametrize("language", ["en", "hi"])
def test_no_console_page_scrolls_sideways_on_a_phone(
    live: LiveApp, page: Page, screenshots: Path, language: str
) -> None:
    seeded = seed_every_table(live.app)
    folder = screenshots / language
    folder.mkdir(exist_ok=True)
    findings = Findings([], language)

    page.goto(live.url + "/console/login")
    choose_language(page, language)
    findings.look(page, folder, "login")

    log_in(page, live, "sunil")
    choose_language(page, language)  # the user's own choice, stored at the switch
    for name, path in supervisor_pages(seeded):
        page.goto(live.url + path)
        findings.look(page, folder, f"supervisor-{name}")
    # A form sent back with its errors beside the fields.
    page.goto(live.url + "/console/applications/new/new_connection")
    page.locator("#submit-application").click()
    page.locator("#error-summary").wait_for()
    findings.look(page, folder, "supervisor-application-form-errors")
    log_out(page)

    log_in(page, live, "asha")
    choose_language(page, language)
    for name, path in OPERATOR_PAGES:
        page.goto(live.url + path)
        findings.look(page, folder, f"operator-{name}")
    # The callback the operator takes, with the forms that work on it.
    page.goto(live.url + "/console/")
    page.locator("#take-next button").click()
    page.wait_for_url(f"**/console/callbacks/{seeded.callback_id}")
    findings.look(page, folder, "operator-callback")

    assert not findings.problems, "\n".join(findings.problems)
    assert len(list(folder.glob("*.png"))) == findings.views == 2 * 20


def test_refreshed_rows_keep_their_labels_on_a_phone(live: LiveApp, page: Page) -> None:
    """Rows a page rebuilds by itself read as cards too: each cell still says its column."""
    create_user(live.app, "asha", name="Asha Kumari")
    make_callback(live.app, "+919812345601")
    resize(page, PHONE["width"], PHONE["height"])
    log_in(page, live, "asha")
    first = page.locator("#queue tbody tr").first
    assert first.locator("td.phone").get_attribute("data-label") == "Number"
    assert first.evaluate("row => getComputedStyle(row).display") != "table-row"  # a card

    make_callback(live.app, "+919812345602", priority=9)
    # queue.js asks for the queue again every few seconds and rebuilds the rows.
    page.locator("#queue tbody tr").nth(1).wait_for(timeout=15_000)
    labels = (
        page.locator("#queue tbody tr")
        .first.locator("td")
        .evaluate_all("cells => cells.map(cell => getComputedStyle(cell, '::before').content)")
    )
    assert labels == [
        '"#"', '"Number"', '"Language"', '"Priority"',
        '"Waited"', '"Missed calls"', '"Attempts"', '"Due"',
    ]  # fmt: skip
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# ------------------------------------------------------------------ Devanagari


def hindi_fonts() -> set[str]:
    """The font families fontconfig has for Hindi, which Chromium on Linux draws it with."""
    if not shutil.which("fc-list"):
        return set()
    listed = subprocess.run(
        ["fc-list", ":lang=hi", "family"], capture_output=True, text=True, check=False
    ).stdout
    return {name.strip() for line in listed.splitlines() for name in line.split(",") if name}


def test_hindi_is_drawn_with_a_devanagari_font_not_boxes(live: LiveApp, page: Page) -> None:
    fonts = hindi_fonts()
    if not fonts:
        pytest.skip(
            "no Devanagari font installed (fc-list :lang=hi is empty): Chromium would draw "
            "Hindi as boxes (apt-get install fonts-lohit-deva; `make setup` installs it)"
        )
    create_user(live.app, "asha")
    log_in(page, live, "asha")
    page.goto(live.url + "/console/applications/")
    # Hindi text in the console's own page, so its font-family is the console's.
    page.evaluate(
        """text => { const span = document.createElement("span");
          span.id = "hindi"; span.lang = "hi"; span.textContent = text;
          document.querySelector("main").append(span); }""",
        HINDI,
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#hindi"})["nodeId"]
    drawn = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]

    # A font without Devanagari draws each letter as its missing-glyph box; only the space
    # may come from the page's Latin font.
    devanagari = sum(font["glyphCount"] for font in drawn if font["familyName"] in fonts)
    other = sum(font["glyphCount"] for font in drawn if font["familyName"] not in fonts)
    assert devanagari > 0, drawn
    assert other <= HINDI.count(" "), drawn
