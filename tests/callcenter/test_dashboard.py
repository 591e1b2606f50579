"""The supervisor dashboard on a small known day, its charts, and the CSV exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from callcenter.dashboard import percentile, working_minutes
from core.extensions import db
from core.hours import CallingHours
from core.models import Callback, MissedCall, Role
from core.models.applications import Application
from core.models.attempts import CallAttempt
from core.models.console import AuditEvent
from tests.callcenter.test_applications import (
    AADHAAR_NUMBER,
    NEW_CONNECTION,
    make_user,
    post_form,
    signed_in,
)

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2026, 3, 10)  # a Tuesday
PHONES = {
    "a": "+919811100001",
    "b": "+919811100002",
    "c": "+919811100003",
    "d": "+919811100004",
    "e": "+919811100005",
}


def ist(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST)


@pytest.fixture
def app(make_app) -> Flask:
    # Calling hours 09:00–21:00 so that "working minutes" differ from clock minutes.
    return make_app(CALLING_HOURS="09:00-21:00", SLA_MINUTES=120)


@pytest.fixture
def supervisor(app):
    return make_user(app, "meera", Role.SUPERVISOR)


@pytest.fixture
def known_day(app, supervisor):
    """Record a day of missed calls, callbacks, attempts, claims and applications."""
    operator = make_user(app, "ravi", Role.OPERATOR)
    next_day = DAY + timedelta(days=1)
    with app.app_context():
        for at in (ist(9, 10), ist(9, 20), ist(10, 5), ist(14, 30), ist(11, 0, DAY - timedelta(1))):
            db.session.add(
                MissedCall(
                    call_sid=f"CA{at.timestamp():.0f}",
                    caller_raw="+919811100000",
                    phone="+919811100000",
                    dialled="+911140000000",
                    outcome="queued",
                    received_at=at,
                )
            )

        def callback(key, first, closed, status, attempts):
            row = Callback(
                phone=PHONES[key],
                language="hi",
                status=status,
                due_at=first,
                first_missed_at=first,
                last_missed_at=first,
                created_at=first,
                closed_at=closed,
                attempts=attempts,
            )
            db.session.add(row)
            db.session.flush()
            return row

        a = callback("a", ist(9, 10), ist(9, 50), "done", 1)
        b = callback("b", ist(10, 5), ist(13, 20), "done", 3)
        c = callback("c", ist(20, 30), ist(9, 40, next_day), "done", 2)
        callback("d", ist(14, 30), None, "pending", 0)
        callback("e", ist(11, 0, DAY - timedelta(1)), ist(12, 0, DAY - timedelta(1)), "done", 1)

        for number, (row, answered) in enumerate(
            [(a, ist(9, 40)), (b, ist(13, 5)), (c, ist(9, 30, next_day))], start=1
        ):
            db.session.add(
                CallAttempt(
                    callback_id=row.id,
                    operator_id=operator.id,
                    number=number,
                    status="completed",
                    answered_at=answered,
                    outcome="answered",
                )
            )
        # An unanswered attempt earlier than B's answer must not end B's wait.
        db.session.add(
            CallAttempt(
                callback_id=b.id,
                operator_id=operator.id,
                number=9,
                status="no-answer",
                answered_at=None,
                outcome="unanswered",
            )
        )
        db.session.add(
            AuditEvent(
                at=ist(9, 35),
                actor_id=operator.id,
                entity="callback",
                entity_id=a.id,
                action="claim",
                changes={},
            )
        )
        for number, (who, submitted) in enumerate(
            [(operator, ist(10, 0)), (operator, ist(15, 0)), (supervisor, ist(16, 0))], start=1
        ):
            db.session.add(
                Application(
                    number=f"MR-2026-{number:06d}",
                    service="meter_replacement",
                    status="submitted",
                    phone=PHONES["a"],
                    account_number="1000234567",
                    data={},
                    operator_id=who.id,
                    created_at=submitted,
                    submitted_at=submitted,
                )
            )
        db.session.add(
            Application(
                service="meter_replacement",
                phone=PHONES["b"],
                data={},
                operator_id=operator.id,
                created_at=ist(17, 0),
            )
        )
        db.session.commit()
    return operator


def figure(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"><span class="value">([^<]*)</span>', html)
    assert match, element_id
    return match.group(1).strip()


# ---------------------------------------------------------------- figures


def test_dashboard_figures_of_a_known_day(app, supervisor, known_day):
    client = signed_in(app, supervisor)
    response = client.get(f"/console/dashboard/?day={DAY.isoformat()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    assert figure(html, "missed-calls") == "4"
    assert figure(html, "pending-callbacks") == "1"
    # Waits to first answer: A 30, B 180, C 780 clock minutes (overnight).
    assert figure(html, "median-wait") == "180.0 min"
    assert figure(html, "p90-wait") == "660.0 min"  # 180 + 0.8 × (780 − 180)
    # A and C within 120 working minutes (C: 30 before closing + 30 after opening);
    # B took 180; D is still waiting after far more than 120 working minutes.
    assert figure(html, "sla-share") == "50%"
    assert "(2 of 4)" in html
    assert figure(html, "attempts-per-callback") == "1.50"
    assert figure(html, "wait-to-claim") == "25.0 min"

    table = html.split('id="applications-per-operator"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", table)
    assert rows == [("Ravi", "2"), ("Meera", "1")]


def test_charts_are_inline_svg(app, supervisor, known_day):
    html = signed_in(app, supervisor).get(f"/console/dashboard/?day={DAY}").get_data(True)
    missed = html.split('id="missed-calls-chart"')[1].split("</svg>")[0]
    assert "<svg" in missed
    bars = re.findall(r"<title>(\d\d): (\d+)</title>", missed)
    assert len(bars) == 24
    assert dict(bars)["09"] == "2" and dict(bars)["10"] == "1" and dict(bars)["14"] == "1"
    assert sum(int(count) for _, count in bars) == 4
    queue = html.split('id="queue-length-chart"')[1].split("</svg>")[0]
    points = dict(re.findall(r"<title>(\d\d): (\d+)</title>", queue))
    assert (points["10"], points["11"], points["15"], points["21"]) == ("0", "1", "1", "2")
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_dashboard_refuses_operators_and_bad_days(app, supervisor):
    operator = make_user(app, "kiran", Role.OPERATOR)
    as_operator = signed_in(app, operator)
    assert as_operator.get("/console/dashboard/").status_code == 403
    export = as_operator.get(
        "/console/dashboard/export/callbacks.csv?from=2026-03-10&to=2026-03-10"
    )
    assert export.status_code == 403
    admin = signed_in(app, make_user(app, "root", Role.ADMIN))
    assert admin.get("/console/dashboard/").status_code == 200
    bad = signed_in(app, supervisor).get("/console/dashboard/?day=10-03-2026")
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_an_empty_day_shows_dashes(app, supervisor):
    html = signed_in(app, supervisor).get("/console/dashboard/?day=2026-03-10").get_data(True)
    assert figure(html, "missed-calls") == "0"
    assert figure(html, "median-wait") == "—"
    assert figure(html, "sla-share") == "—"


# ---------------------------------------------------------------- exports


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_callbacks_csv(app, supervisor, known_day):
    client = signed_in(app, supervisor)
    response = client.get("/console/dashboard/export/callbacks.csv?from=2026-03-10&to=2026-03-10")
    assert response.is_streamed
    text = response.get_data(as_text=True)
    rows = read_csv(response)
    assert [row["phone"][-4:] for row in rows] == ["0001", "0002", "0004", "0003"]
    for phone in PHONES.values():
        assert phone not in text
    assert all("*" in row["phone"] for row in rows)
    first = rows[0]
    assert first["wait_minutes"] == "30.0"
    assert first["first_answered_at"] == "2026-03-10T09:40:00+05:30"
    assert first["first_claimed_at"] == "2026-03-10T09:35:00+05:30"
    assert rows[2]["wait_minutes"] == "" and rows[2]["status"] == "pending"
    # Two days: the day before brings in callback E too.
    wider = read_csv(
        client.get("/console/dashboard/export/callbacks.csv?from=2026-03-09&to=2026-03-10")
    )
    assert len(wider) == 5


def test_applications_csv_masks_numbers_and_never_holds_aadhaar(app, supervisor, known_day):
    operator = signed_in(app, known_day)
    submitted = post_form(
        operator, "/console/applications/new/new_connection", NEW_CONNECTION, action="submit"
    )
    assert submitted.status_code == 303
    client = signed_in(app, supervisor)
    today = datetime.now(IST).date().isoformat()
    response = client.get(f"/console/dashboard/export/applications.csv?from={today}&to={today}")
    text = response.get_data(as_text=True)
    rows = read_csv(response)
    assert len(rows) == 1
    [row] = rows
    assert row["application_number"].startswith("NC-")
    assert row["operator"] == "ravi"
    assert Decimal(row["demand_total"]) > 0
    assert row["phone"].endswith("3210") and "9876543210" not in text
    assert AADHAAR_NUMBER not in text and AADHAAR_NUMBER[-4:] not in text

    day_rows = read_csv(
        client.get("/console/dashboard/export/applications.csv?from=2026-03-10&to=2026-03-10")
    )
    assert [row["application_number"] for row in day_rows] == [
        "MR-2026-000001",
        "MR-2026-000002",
        "MR-2026-000003",
        "",
    ]
    assert [row["account_number"] for row in day_rows] == ["******4567"] * 3 + [""]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-03-10", "'to' is missing"),
        ("to=2026-03-10", "'from' is missing"),
        ("from=2026-02-30&to=2026-03-10", "not '2026-02-30'"),
        ("from=10/03/2026&to=2026-03-10", "YYYY-MM-DD"),
        ("from=2026-03-10&to=2026-03-01", "before 'from'"),
        ("from=2024-01-01&to=2026-03-10", "at most 366 days"),
    ],
)
def test_exports_refuse_bad_ranges(app, supervisor, query, message):
    client = signed_in(app, supervisor)
    for export in ("callbacks", "applications"):
        response = client.get(f"/console/dashboard/export/{export}.csv?{query}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True).replace("&#39;", "'")


# ---------------------------------------------------------------- definitions


def test_percentile_interpolates():
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([30, 180, 780], 0.9) == pytest.approx(660)


def test_working_minutes_skip_closed_hours_and_days_off():
    hours = CallingHours.from_settings("09:00-21:00", "Asia/Kolkata", days_off="sun")
    assert working_minutes(ist(20, 30), ist(9, 30, DAY + timedelta(1)), hours) == 60
    saturday = date(2026, 3, 14)
    monday = date(2026, 3, 16)
    assert working_minutes(ist(20, 0, saturday), ist(10, 0, monday), hours) == 120
    assert working_minutes(ist(10, 0), ist(9, 0), hours) == 0


def test_export_streams_every_row_across_pages(app, supervisor):
    from callcenter.dashboard import EXPORT_BATCH

    count = 2 * EXPORT_BATCH + 1
    with app.app_context():
        db.session.add_all(
            Callback(
                phone=f"+91981{index:07d}",
                language="hi",
                status="done",
                due_at=ist(10),
                first_missed_at=ist(10) + timedelta(seconds=index),
                last_missed_at=ist(10),
                closed_at=ist(12),
            )
            for index in range(count)
        )
        db.session.commit()
    response = signed_in(app, supervisor).get(
        "/console/dashboard/export/callbacks.csv?from=2026-03-10&to=2026-03-10"
    )
    rows = read_csv(response)
    assert len(rows) == count
    assert len({row["callback_id"] for row in rows}) == count


def test_queue_length_ends_now_and_agrees_with_pending_callbacks(app, supervisor):
    from tests.callcenter.conftest import make_callback

    for last in range(3):
        make_callback(app, f"+91981110000{last}", waited=timedelta(seconds=1))
    html = signed_in(app, supervisor).get("/console/dashboard/").get_data(True)
    pending = re.search(r'id="pending-callbacks"><span class="value">(\d+)<', html).group(1)
    queue = html.split('id="queue-length-chart"')[1].split("</svg>")[0]
    points = re.findall(r"<title>(\d\d(?::\d\d)?): (\d+)</title>", queue)
    label, count = points[-1]
    assert (pending, count) == ("3", "3")
    assert re.fullmatch(r"\d\d:\d\d", label)  # the sample taken now, not at the hour's top


def test_charts_carry_a_scale(app, supervisor, known_day):
    html = signed_in(app, supervisor).get(f"/console/dashboard/?day={DAY}").get_data(True)
    for chart in ("missed-calls-chart", "queue-length-chart"):
        svg = html.split(f'id="{chart}"')[1].split("</svg>")[0]
        ticks = [int(value) for value in re.findall(r'class="tick"[^>]*>(\d+)</text>', svg)]
        assert ticks[0] == 0 and len(ticks) >= 2, chart
        assert ticks == sorted(ticks)
    missed = html.split('id="missed-calls-chart"')[1].split("</svg>")[0]
    assert max(int(v) for v in re.findall(r'class="tick"[^>]*>(\d+)</text>', missed)) >= 2
    # Labels sized to stay legible when a phone shrinks the chart: every third hour.
    hours = re.findall(r'text-anchor="middle">(\d\d)</text>', missed)
    assert hours[:3] == ["00", "03", "06"]
    assert 'font-size="13"' in missed
