"""Column types: timestamps stored in UTC, the same text however they are bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from core.models.types import UTCDateTime

IST = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 30, 7, 22, 12, 123456, tzinfo=UTC),
        datetime(2026, 11, 30, 7, 22, 12, tzinfo=UTC),  # no microseconds
        datetime(2026, 1, 1, 3, 0, tzinfo=IST),  # the day before, in UTC
        datetime(999, 5, 4, 3, 2, 1, 7, tzinfo=UTC),
    ],
)
def test_sqlite_binds_a_timestamp_as_sqlalchemys_datetime_would(value):
    dialect = sqlite.dialect()
    generic = DateTime().dialect_impl(dialect).bind_processor(dialect)
    ours = UTCDateTime().bind_processor(dialect)

    assert ours(value) == generic(value.astimezone(UTC).replace(tzinfo=None))


def test_a_naive_timestamp_is_refused():
    dialect = sqlite.dialect()
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().bind_processor(dialect)(datetime(2026, 1, 1))
