"""Application numbers stay unique and consecutive when many operators submit at once."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from callcenter import applications
from core.extensions import db
from core.models.applications import Application
from forms.numbers import INDIA_TIME, parse_application_number

SUBMITTERS = 12

METER_REPLACEMENT = {
    "account_number": "1000234567",
    "applicant_name": "Sunita Devi",
    "mobile": "+91 91234 56789",
    "preferred_language": "hi",
    "meter_fault": "burnt",
    "meter_number": "MTR-0042",
}


def test_concurrent_submits_get_unique_consecutive_numbers(make_app):
    # The form's CSRF check needs a browser session; this test drives the service layer.
    app = make_app(WTF_CSRF_ENABLED=False)
    start = threading.Barrier(SUBMITTERS)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def submitter() -> None:
        try:
            with app.test_request_context(method="POST"):
                start.wait()
                outcome = applications.submit(
                    db.session,
                    service="meter_replacement",
                    formdata=MultiDict(METER_REPLACEMENT),
                    operator_id=None,
                )
                assert outcome.submitted, outcome.form.errors
                numbers.append(outcome.application.number)
                db.session.remove()
        except BaseException as exc:  # reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=submitter) for _ in range(SUBMITTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    year = datetime.now(INDIA_TIME).year
    sequences = sorted(parse_application_number(number).sequence for number in numbers)
    assert sequences == list(range(1, SUBMITTERS + 1))
    assert all(number.startswith(f"MR-{year}-") for number in numbers)
    with app.app_context():
        stored = db.session.scalars(select(Application.number)).all()
        assert sorted(stored) == sorted(numbers)


def test_numbers_count_per_prefix_and_year(app):
    with app.app_context():
        from core.database import write_transaction

        with write_transaction(db.session):
            first = applications.allocate_number(db.session, "NC")
            other = applications.allocate_number(db.session, "NT")
            second = applications.allocate_number(db.session, "NC")
            next_year = applications.allocate_number(
                db.session, "NC", datetime(2099, 6, 1, tzinfo=INDIA_TIME)
            )
        year = datetime.now(INDIA_TIME).year
        assert (first, second) == (f"NC-{year}-000001", f"NC-{year}-000002")
        assert other == f"NT-{year}-000001"
        assert next_year == "NC-2099-000001"
