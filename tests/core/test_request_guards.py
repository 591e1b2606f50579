"""Ids read from a URL, a query or a form: only those the database can hold."""

from __future__ import annotations

import pytest

from core.request_guards import ID_MAX, database_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        (str(ID_MAX), ID_MAX),
        (str(ID_MAX + 1), None),
        (str(2**63 - 1), None),
        ("99999999999999999999", None),
        ("9" * 5000, None),  # beyond int()'s own digit limit too
        ("²", None),  # isdigit() is true, int() refuses it
        ("١٢", None),  # int() takes Arabic-Indic digits; no id is written so
        ("-1", None),
        (" 7 ", None),
        ("+7", None),
        ("", None),
        (None, None),
    ],
)
def test_database_id_takes_ascii_digits_within_the_id_columns_range(text, expected):
    assert database_id(text) == expected


def test_an_int_route_does_not_match_an_id_beyond_the_id_columns_range(app):
    adapter = app.url_map.bind("localhost")

    assert adapter.match(f"/console/callbacks/{ID_MAX}")[1] == {"callback_id": ID_MAX}
    assert app.test_client().get(f"/console/callbacks/{ID_MAX + 1}").status_code == 404
