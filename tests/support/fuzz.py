"""Property-based probing of HTTP endpoints: random requests that must never answer 5xx.

The strategies lean on what broke before: ids beyond the database's integers,
digits ``int()`` refuses although ``str.isdigit()`` takes them (``²``), floats too large
for a decimal's precision, multipart parts with no name. ``Probe`` sends each request,
counts answers of 500 and over and tracebacks logged, and reports them grouped, so one run
says how many requests failed and where.

Every property runs from a fixed seed with a bounded number of examples: the suite stays
reproducible in CI and its cost known.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1
"""The largest integers PostgreSQL's integer and SQLite's (or PostgreSQL's bigint) hold."""


def probe_each_route(
    routes: list[tuple[str, str]],
    examples: int,
    requests: Callable[[str, str], st.SearchStrategy[Any]],
    send: Callable[[Any], None],
    salt: str = "",
) -> None:
    """Send ``examples`` requests drawn from ``requests(method, rule)`` to each route.

    Each route gets a property of its own, with a seed of its own fixed by its name (and
    ``salt``, so that runs as different users or providers draw different requests): every
    route is probed as hard as the others, and a run is the same in CI as on a laptop.
    """
    for method, rule in routes:

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @seed(zlib.crc32(f"{salt} {method} {rule}".encode()))
        @given(request=requests(method, rule))
        def probe_route(request: Any) -> None:
            send(request)

        probe_route()


# ------------------------------------------------------------------ values


UNICODE_DIGITS = ["²", "³", "¹", "١٢٣", "४२", "٣", "𝟗", "①", "൬", "߁"]
"""Characters ``str.isdigit()`` accepts, some of which ``int()`` refuses."""

EDGE_NUMBERS = [
    "0",
    "-1",
    "1",
    "00",
    str(INT32_MAX + 1),
    str(INT64_MAX + 1),
    "10000000000000000000",
    "99999999999999999999",
    "9" * 60,
    "1e30",
    "1E400",
    "-1e30",
    "nan",
    "inf",
    "-inf",
    "0.001",
    "12.345",
    "1_000",
    " 7 ",
    "0x10",
]


def ids() -> st.SearchStrategy[int]:
    """Return path ids: mostly small (rows that exist), some beyond what the id columns hold."""
    small = st.integers(min_value=0, max_value=6)
    return st.one_of(
        small,
        small,
        st.sampled_from([INT32_MAX, INT32_MAX + 1, INT64_MAX, INT64_MAX + 1, 10**20, 10**40]),
        st.integers(min_value=0, max_value=2**80),
    )


def numbers() -> st.SearchStrategy[str]:
    """Return texts that look like numbers, or nearly."""
    return st.one_of(
        st.sampled_from(EDGE_NUMBERS),
        st.sampled_from(UNICODE_DIGITS),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(alphabet="0123456789²١٢३.-+eE", min_size=1, max_size=24),
    )


def texts() -> st.SearchStrategy[str]:
    """Return any text, with a bias toward numbers."""
    return st.one_of(numbers(), st.text(max_size=40), st.just(""))


@st.composite
def some_of(draw: Any, names: list[str], known: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Return pairs of some of ``names`` (each about one time in three), most with a value
    the name is known to take (from ``known``), the rest with any text."""
    pairs = []
    for name in names:
        if draw(st.integers(min_value=0, max_value=2)):
            continue
        values = known.get(name)
        if values and draw(st.booleans()):
            pairs.append((name, draw(st.sampled_from(values))))
        else:
            pairs.append((name, draw(texts())))
    return pairs


def params(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Return form or query pairs: known names (some repeated) and random ones."""
    name = st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=12))
    return st.lists(st.tuples(name, texts()), max_size=10)


def fill_path(rule: str, draw: Any, words: list[str] | None = None) -> str:
    """Return ``rule`` (a werkzeug rule text) with each variable drawn: ints, paths, words."""

    def variable(match: re.Match[str]) -> str:
        converter = match.group(1) or "default"
        if converter.startswith("int"):
            return str(draw(ids()))
        if converter.startswith("path"):
            return draw(st.sampled_from(["a.wav", "../../etc/passwd.wav", "x", "hi/1.wav"]))
        known = st.sampled_from(words or ["x"])
        value = draw(st.one_of(known, known, st.text(min_size=1, max_size=20)))
        return _path_safe(value)

    return re.sub(r"<(?:(\w+(?:\([^)]*\))?):)?\w+>", variable, rule)


def _path_safe(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="") or "x"


def routes_under(app: Flask, prefixes: tuple[str, ...], left_out: frozenset[str] = frozenset()):
    """Return (method, rule) of every route the app serves under ``prefixes``."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefixes) and rule.rule not in left_out:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((method, rule.rule))
    return sorted(found)


# ------------------------------------------------------------------ multipart


def multipart(pairs: list[tuple[str, str]], nameless: list[str]) -> tuple[bytes, str]:
    """Return a multipart/form-data body of ``pairs`` and of parts with no name at all."""
    boundary = "sampark-fuzz-boundary"
    chunks = []
    for name, value in pairs:
        chunks.append(_part(f'form-data; name="{_quoted(name)}"', value, boundary))
    for value in nameless:
        chunks.append(_part("form-data", value, boundary))
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _part(disposition: str, value: str, boundary: str) -> bytes:
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"
    return head.encode() + value.encode("utf-8", "surrogatepass") + b"\r\n"


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def urlencoded(pairs: list[tuple[str, str]]) -> str:
    """Return ``pairs`` url-encoded, lone surrogates and all."""
    return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs])


# ------------------------------------------------------------------ the probe


@dataclass
class Probe:
    """Send requests, and keep every answer of 500 or over and every traceback logged."""

    app: Flask
    sent: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    statuses: Counter[int | None] = field(default_factory=Counter)

    def send(self, client: FlaskClient, method: str, path: str, **kwargs: Any) -> int | None:
        """Send one request; return its status (None when the view raised)."""
        self.sent += 1
        with _tracebacks() as logged:
            try:
                response = client.open(path, method=method, **kwargs)
                status: int | None = response.status_code
                response.close()
            except Exception as exc:  # what a server would answer 500 to
                status = None
                logged.append(f"{type(exc).__name__}: {exc}"[:300])
        self.statuses[status] += 1
        if status is not None and status < 500 and not logged:
            return status
        rule = _rule_of(self.app, path, method)
        reason = logged[0] if logged else f"status {status}"
        key = f"{method} {rule}: {reason.splitlines()[0][:160]}"
        self.failures[key] += 1
        self.examples.setdefault(key, f"{method} {path} {_short(kwargs)}")
        return status

    def report(self) -> str:
        """Return the failures found, grouped, with one request that gave each."""
        answers = ", ".join(f"{n} x {s}" for s, n in sorted(self.statuses.items(), key=str))
        lines = [f"{sum(self.failures.values())} of {self.sent} requests failed ({answers}):"]
        for key, count in self.failures.most_common():
            lines.append(f"  {count} x {key}\n      e.g. {self.examples[key]}")
        return "\n".join(lines)

    def check(self) -> None:
        """Fail when any request answered 5xx or logged a traceback."""
        assert not self.failures, self.report()


def _short(kwargs: dict[str, Any]) -> str:
    text = repr({k: v for k, v in kwargs.items() if k != "headers"})
    return text if len(text) < 400 else text[:400] + "…"


def _rule_of(app: Flask, path: str, method: str) -> str:
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path.split("?", 1)[0], method=method, return_rule=True)
        return rule.rule
    except Exception:
        return path.split("?", 1)[0]


class _TracebackCatcher(logging.Handler):
    def __init__(self, found: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.found = found

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            self.found.append(f"logged {type(exc).__name__}: {exc}"[:300])
        else:
            self.found.append(f"logged error: {record.getMessage()}"[:300])


@contextmanager
def _tracebacks() -> Iterator[list[str]]:
    found: list[str] = []
    handler = _TracebackCatcher(found)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield found
    finally:
        root.removeHandler(handler)
