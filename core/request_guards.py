"""How the app reads what a request carries, before any view sees it.

Two guards every route gets, so no view has to remember them:

- ``<int:…>`` in a route matches only ids the database can hold (0 to 2**31 - 1): a
  larger id answers 404 instead of overflowing in the driver or the database (500).
- A multipart part with no name is dropped: werkzeug keeps it under the name ``None``,
  which breaks whatever sorts or matches the names (signature checks, Flask-WTF's CSRF
  lookup) with a TypeError or AttributeError.

``database_id`` reads an id from a query or a form by the same rule as the converter.
"""

from __future__ import annotations

import typing as t

from flask import Flask, Request
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter

ID_MAX = 2**31 - 1
"""The largest id the database holds. Ids are ``Integer`` columns: PostgreSQL's integer
holds 32 bits (SQLite's 64, and the driver refuses more); a larger id names no row."""


def database_id(text: str | None) -> int | None:
    """Return ``text`` as an id the database can hold, or None when it is not one.

    Only ASCII digits count: ``str.isdigit()`` is also true of "²", which ``int()``
    refuses, and ``int()`` itself takes "١٢", " 7 " and "+7", which no id is written as.
    """
    if not text or not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS:
        return None
    value = int(text)
    return value if value <= ID_MAX else None


MAX_ID_DIGITS = len(str(ID_MAX))


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` as werkzeug reads it, refusing ids beyond the database's integers."""

    def __init__(self, map: t.Any, *args: t.Any, **kwargs: t.Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


class NamedPartsParser(FormDataParser):
    """Werkzeug's form parser, without multipart parts that have no name."""

    def _parse_multipart(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        stream, form, files = super()._parse_multipart(*args, **kwargs)
        return stream, _named(self.cls, form), _named(self.cls, files)


def _named(cls: type[MultiDict] | None, fields: MultiDict) -> MultiDict:
    if None not in fields:
        return fields
    return (cls or MultiDict)([(k, v) for k, v in fields.items(multi=True) if k is not None])


class AppRequest(Request):
    """The app's request: forms are read by ``NamedPartsParser``."""

    form_data_parser_class = NamedPartsParser


def init_app(app: Flask) -> None:
    """Install the request class and the id converter; before any route is registered."""
    app.request_class = AppRequest
    app.url_map.converters["int"] = DatabaseIdConverter
