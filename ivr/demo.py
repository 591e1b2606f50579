"""Demo consumers for trying the IVR: accounts, linked numbers and bills (``flask seed-demo``)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, text

from core.database import write_transaction
from core.extensions import db
from core.models import utcnow
from core.models.consumers import Bill, ConsumerAccount, LinkedNumber
from forms.config import discom_profile
from forms.numbers import INDIA_TIME

BATCH_SIZE = 5000
"""Consumers written per transaction: big enough to be quick, small enough to show progress."""

DEMO_PHONE_PREFIX = "+9170"
"""Demo consumers' mobiles are +9170 and eight digits: consumer n has +9170<n:08d>."""

BILLS_PER_CONSUMER = 3
SEED = 20261122

SHARED_EVERY = 10
"""Every tenth consumer's number is also linked to the next account (a family's two meters)."""

DISCONNECTED_EVERY = 20
"""Every twentieth consumer is cut off for non-payment."""

DEMO_METER_PREFIX = "SM"
"""Demo smart and prepaid meters are known to the head-end as SM and nine digits."""
CONSUMERS_PER_FEEDER = 500
"""Demo consumer n is on feeder F0001 + n // 500, in area "Ward <feeder's group of 4>"."""

FIRST_NAMES = ("Ramesh", "Sunita", "Aarti", "Mohan", "Kavita", "Suresh", "Pooja", "Vijay")
LAST_NAMES = ("Sahu", "Verma", "Yadav", "Patel", "Sharma", "Netam", "Kumar", "Singh")


@dataclass(frozen=True)
class SeedSummary:
    """What ``seed_consumers`` wrote."""

    consumers: int
    first_account: str
    first_phone: str


def demo_account_number(n: int, length: int) -> str:
    """Return demo consumer ``n``'s account number in the DISCOM's configured length."""
    # A leading 9 keeps demo numbers apart from the DISCOM's real series in a shared database.
    return "9" + str(n).zfill(length - 1)


def demo_feeder(n: int) -> str:
    """Return the feeder demo consumer ``n`` is supplied from."""
    return f"F{n // CONSUMERS_PER_FEEDER + 1:04d}"


def demo_phone(n: int) -> str:
    """Return demo consumer ``n``'s mobile number."""
    return f"{DEMO_PHONE_PREFIX}{n:08d}"


def add_consumer(
    account_number: str,
    phones: list[str],
    bills: list[dict[str, Any]],
    *,
    name: str = "Demo Consumer",
    supply_status: str = "active",
    feeder: str | None = None,
    area: str | None = None,
    language: str = "hi",
) -> ConsumerAccount:
    """Add one account with its linked numbers and bills to the session (tests, fixtures)."""
    account = ConsumerAccount(
        account_number=account_number,
        name=name,
        supply_status=supply_status,
        feeder=feeder,
        area=area,
        language=language,
    )
    db.session.add(account)
    db.session.flush()
    db.session.add_all(LinkedNumber(phone=phone, account_id=account.id) for phone in phones)
    db.session.add_all(Bill(account_id=account.id, **bill) for bill in bills)
    db.session.flush()
    return account


def seed_consumers(count: int, progress: Callable[[int], None] | None = None) -> SeedSummary:
    """Write ``count`` demo consumers after any already there, in batches."""
    length = discom_profile().account_number.length
    start_id = (db.session.scalar(select(func.max(ConsumerAccount.id))) or 0) + 1
    start_n = db.session.scalar(select(func.count()).select_from(ConsumerAccount)) or 0
    bill_id = (db.session.scalar(select(func.max(Bill.id))) or 0) + 1
    link_id = (db.session.scalar(select(func.max(LinkedNumber.id))) or 0) + 1
    db.session.rollback()
    rng = random.Random(SEED + start_n)
    today = datetime.now(INDIA_TIME).date()
    now = utcnow()
    written = 0
    while written < count:
        size = min(BATCH_SIZE, count - written)
        accounts, links, bills = [], [], []
        for offset in range(size):
            n = start_n + written + offset
            account_id = start_id + written + offset
            accounts.append(_account_row(account_id, n, length, rng, now))
            links.append({"id": link_id, "phone": demo_phone(n), "account_id": account_id})
            link_id += 1
            if n % SHARED_EVERY == 1:
                links.append({"id": link_id, "phone": demo_phone(n - 1), "account_id": account_id})
                link_id += 1
            for bill in _bill_rows(account_id, n, today, rng):
                bills.append({"id": bill_id, **bill})
                bill_id += 1
        with write_transaction(db.session):
            db.session.execute(insert(ConsumerAccount), accounts)
            db.session.execute(insert(LinkedNumber), links)
            db.session.execute(insert(Bill), bills)
        written += size
        if progress is not None:
            progress(size)
    _advance_sequences()
    return SeedSummary(count, demo_account_number(start_n, length), demo_phone(start_n))


def _account_row(
    account_id: int, n: int, length: int, rng: random.Random, now: datetime
) -> dict[str, Any]:
    return {
        "id": account_id,
        "account_number": demo_account_number(n, length),
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "address": f"House {n % 500 + 1}, Ward {n % 40 + 1}",
        "category": "domestic",
        "area_type": "rural" if n % 3 else "urban",
        "supply_status": "disconnected" if n % DISCONNECTED_EVERY == 7 else "active",
        "language": "hi" if n % 4 else "en",
        "created_at": now,
        **_meter(n),
        "feeder": demo_feeder(n),
        "area": f"Ward {n // (4 * CONSUMERS_PER_FEEDER) + 1}",
    }


def _meter(n: int) -> dict[str, Any]:
    # A third on smart meters and a sixth on prepaid ones, the cut-off consumers among them.
    kind = "smart" if n % 3 == 1 else "prepaid" if n % 6 == 5 else "postpaid"
    meter_id = None if kind == "postpaid" else f"{DEMO_METER_PREFIX}{n:09d}"
    return {"meter_kind": kind, "head_end_meter_id": meter_id}


def _bill_rows(
    account_id: int, n: int, today: date, rng: random.Random
) -> Iterator[dict[str, Any]]:
    # Monthly bills; the latest is unpaid for most consumers and always for the cut-off ones.
    latest_unpaid = n % DISCONNECTED_EVERY == 7 or rng.random() < 0.7
    for months_ago in range(BILLS_PER_CONSUMER - 1, -1, -1):
        bill_date = today - timedelta(days=30 * months_ago + 10)
        amount = Decimal(rng.randrange(15000, 450000)) / 100
        paid = months_ago > 0 or not latest_unpaid
        yield {
            "account_id": account_id,
            "bill_date": bill_date,
            "due_date": bill_date + timedelta(days=15),
            "amount_due": amount,
            "amount_after_due": (amount * Decimal("1.02")).quantize(Decimal("0.01")),
            "paid_amount": amount if paid else None,
            # Paid within the fortnight allowed, but never later than today.
            "paid_on": min(bill_date + timedelta(days=rng.randrange(1, 15)), today)
            if paid
            else None,
        }


def _advance_sequences() -> None:
    # Rows were written with explicit ids; PostgreSQL's sequences must move past them.
    if db.engine.dialect.name != "postgresql":
        return
    with write_transaction(db.session):
        for table in ("consumer_accounts", "linked_numbers", "bills"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )


@click.command("seed-demo")
@click.option("--consumers", "count", type=click.IntRange(min=1), default=1000, show_default=True)
@with_appcontext
def seed_demo_command(count: int) -> None:
    """Create demo consumers, linked numbers and bills to try the IVR with."""
    with click.progressbar(length=count, label="Creating consumers") as bar:
        summary = seed_consumers(count, progress=bar.update)
    click.echo(
        f"Created {summary.consumers} consumers. Try: flask ivr call --to <IVR number> "
        f"--from {summary.first_phone} (account {summary.first_account})"
    )
