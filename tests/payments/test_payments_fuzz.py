"""Never a 5xx from the payment doors: random signed events and postings, and nothing doubled.

Each request is signed as its sender signs it, so it passes the signature check and reaches
the parsing with random event names, ids, references and amounts (huge, negative, fractional,
Unicode digits, wrong types), missing entities and stray fields; some are sent with broken
or missing headers. After the run, no payment is recorded twice and a paid demand is still paid.
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.extensions import db
from core.models.applications import Application
from core.models.payments import Payment
from payments.webhooks import posting_signature
from tests.payments.conftest import (
    ACCOUNT,
    NUMBER,
    POSTING_SECRET,
    add_account,
    add_application,
)
from tests.support.fuzz import INT64_MAX, Probe, numbers, texts

EXAMPLES = 120
"""Random requests per door."""

EVENTS = ["payment_link.paid", "payment_link.partially_paid", "payment_link.expired",
          "payment.captured", "", "payment_link.paid "]  # fmt: skip
REFERENCES = [NUMBER, NUMBER.lower(), "NC-2026-000124", ACCOUNT, "", " ", "NC-9999-999999"]

amounts = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 325000, INT64_MAX, INT64_MAX + 1, 10**40, True, None]),
    st.floats(allow_nan=True, allow_infinity=True),
    numbers(),
)
ids = st.one_of(st.sampled_from(["plink_1", "pay_1", "pay_2", "evt_1"]), texts())
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def gateway_events(draw: Any) -> dict[str, Any]:
    link = {
        "id": draw(ids),
        "reference_id": draw(st.one_of(st.sampled_from(REFERENCES), texts())),
        "amount": draw(amounts),
        "amount_paid": draw(amounts),
    }
    payment = {"id": draw(ids), "amount": draw(amounts), "created_at": draw(amounts)}
    entities: dict[str, Any] = {"payment_link": {"entity": link}, "payment": {"entity": payment}}
    for name in draw(st.lists(st.sampled_from(["payment_link", "payment"]), max_size=2)):
        entities[name] = draw(junk)
    return {"event": draw(st.one_of(st.sampled_from(EVENTS), junk)), "payload": entities}


other_references = st.one_of(st.sampled_from(REFERENCES), texts(), junk)


def mostly(valid: list[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return a valid value two times in three, else anything from ``other``."""
    known = st.sampled_from(valid)
    return st.one_of(known, known, other)


@st.composite
def postings(draw: Any) -> dict[str, Any]:
    body = {
        "reference": draw(mostly([NUMBER, ACCOUNT], other_references)),
        "amount": draw(mostly(["842.00", 100, "3250"], amounts)),
        "channel": draw(mostly(["bbps", "cash", "kiosk"], st.one_of(st.just("upi"), junk))),
        "transaction_id": draw(mostly(["T1", "T2", "T3"], st.one_of(texts(), junk))),
        "paid_at": draw(
            mostly(
                ["2026-12-05T10:15:00+05:30"],
                st.one_of(
                    st.sampled_from(["2026-12-05", "9999-12-31T23:59:59-12:00",
                                     "0001-01-01T00:00:00+14:00", "2026-02-30T00:00:00Z"]),
                    texts(), junk,
                ),
            )
        ),
    }  # fmt: skip
    for key in draw(st.lists(st.sampled_from(list(body)), max_size=1, unique=True)):
        del body[key]
    return body


def _fuzz(strategy: st.SearchStrategy[Any], name: str, send: Any) -> None:
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @seed(zlib.crc32(name.encode()))
    @given(request=strategy, headers_broken=st.sampled_from([False] * 5 + [True]))
    def probe(request: Any, headers_broken: bool) -> None:
        send(request, headers_broken)

    probe()


def _paid_state(app) -> tuple[str, int, int]:
    with app.app_context():
        payments = db.session.scalar(select(func.count()).select_from(Payment))
        distinct = db.session.scalar(
            select(func.count()).select_from(
                select(Payment.source, Payment.external_id).distinct().subquery()
            )
        )
        return db.session.scalar(select(Application.status)), payments, distinct


def test_no_gateway_event_answers_5xx(app, razorpay_api):
    add_application(app)
    add_account(app)
    client, probe = app.test_client(), Probe(app)
    # Paid first: whatever follows must not move it back.
    link = {"id": "plink_1", "reference_id": NUMBER, "amount": 325000, "amount_paid": 325000}
    payment = {"id": "pay_0", "amount": 325000, "created_at": 1}
    paid = razorpay_api.event("payment_link.paid", {"payment_link": link, "payment": payment})
    assert razorpay_api.deliver(client, paid).json["outcome"] == "paid"

    def send(event: Any, headers_broken: bool) -> None:
        body = json.dumps(event, default=str).encode()
        delivery = razorpay_api.sign(body, event_id=f"evt_{zlib.crc32(body)}")
        headers = dict(delivery.headers)
        if headers_broken:
            headers["X-Razorpay-Signature"] = headers["X-Razorpay-Signature"][::-1]
        probe.send(client, "POST", "/payments/razorpay", data=body, headers=headers)

    _fuzz(gateway_events(), "razorpay", send)
    probe.check()
    status, payments, distinct = _paid_state(app)
    assert status == "paid" and payments == distinct
    assert 200 in probe.statuses and 400 in probe.statuses and 403 in probe.statuses


def test_no_posting_answers_5xx(app):
    add_application(app)
    add_account(app)
    client, probe = app.test_client(), Probe(app)

    def send(body: Any, headers_broken: bool) -> None:
        raw = json.dumps(body, default=str).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Sampark-Timestamp": stamp,
            "X-Sampark-Signature": posting_signature(POSTING_SECRET, stamp, raw),
        }
        if headers_broken:
            headers["X-Sampark-Timestamp"] = "²" + stamp
        probe.send(client, "POST", "/payments/posting", data=raw, headers=headers)

    _fuzz(postings(), "posting", send)
    probe.check()
    _, payments, distinct = _paid_state(app)
    assert payments == distinct
    assert 200 in probe.statuses and 400 in probe.statuses
