"""Never a 500 from the console: random requests to every page, as operator and supervisor.

Each request carries a good CSRF token (most of the time), so it reaches the view with
random form fields, the application forms' own fields among them (``connected_load_kw``
of 1e30), random path ids (beyond what the id columns hold too), random query arguments
and multipart parts with no name.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from callcenter.applications import build_form
from core.models import CallbackStatus, Role
from forms import SERVICES
from tests.callcenter.conftest import create_user, csrf_token, login, make_callback, post_form
from tests.support import fuzz

EXAMPLES = 12
"""Random requests per page and role (some 20 pages)."""

LEFT_OUT = frozenset({"/console/logout"})
"""Pages that would end the session the rest of the run needs."""

QUERY_NAMES = ["callback", "lang", "number", "day", "from", "to", "next", "saved", "v"]

CONSOLE_VALUES = {
    "disposition": ["completed", "no_answer", "busy", "call_back_later", "wrong_number", "x"],
    "call_back_at": ["2026-01-01T10:00", "9999-12-31T23:59", "0001-01-01T00:00", "²"],
    "language": ["hi", "en", "bho", "zz", ""],
    "action": ["draft", "submit", ""],
    "connected_load_kw": ["1e30", "1E400", "-1e30", "NaN", "sNaN", "Infinity", "0.0001"],
    "callback": ["10000000000000000000", "²", "1", "-1"],
    "current_load_kw": ["1e30", "1E+5000", "12.5"],
    "requested_load_kw": ["1e30", "-0", "99999999999999999999.99"],
    "number": ["NC-2026-000001", "NC-99999999999999999999-1", "NC-²-1"],
    "day": ["2026-01-01", "9999-12-31", "0000-00-00", "2026-²-01"],
}


def form_field_names(app) -> list[str]:
    """Return the names of every application form's fields."""
    names: set[str] = set()
    with app.test_request_context():
        for code in SERVICES:
            names |= {field.short_name for field in build_form(code, lang="hi")}
    return sorted(names | set(CONSOLE_VALUES))


@st.composite
def console_request(draw: Any, method: str, rule: str, fields: list[str]) -> dict:
    path = fuzz.fill_path(rule, draw, words=list(SERVICES))
    query = draw(fuzz.some_of(QUERY_NAMES, CONSOLE_VALUES))
    if query:
        path = f"{path}?{fuzz.urlencoded(query)}"
    form = draw(fuzz.some_of(fields, CONSOLE_VALUES)) + draw(fuzz.params(fields))
    return {
        "method": method,
        "path": path,
        "form": form,
        "csrf": draw(st.sampled_from(["good", "good", "good", "none", "bad"])),
        "nameless": draw(st.lists(st.text(max_size=8), max_size=2)),
        "multipart": draw(st.sampled_from([False, False, True])),
    }


def _send(probe: fuzz.Probe, client, token: str, request: dict[str, Any]) -> None:
    method, path, form = request["method"], request["path"], list(request["form"])
    if method == "GET":
        probe.send(client, method, path)
        return
    if request["csrf"] == "good":
        form.insert(0, ("csrf_token", token))
    elif request["csrf"] == "bad":
        form.insert(0, ("csrf_token", token[::-1]))
    if request["multipart"]:
        data, content_type = fuzz.multipart(form, request["nameless"])
    else:
        data, content_type = fuzz.urlencoded(form), "application/x-www-form-urlencoded"
    probe.send(client, method, path, data=data, content_type=content_type)


def _seed(app, operator_id: int) -> None:
    """Put callbacks of each kind in the database, so small ids reach real rows."""
    for n, status in enumerate(
        [CallbackStatus.PENDING, CallbackStatus.PENDING, CallbackStatus.CLAIMED]
    ):
        make_callback(app, f"+9198000001{n:02d}", status=status)


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR])
def test_no_console_request_answers_5xx(app, role):
    user_id = create_user(app, "fuzzer", role=role)
    _seed(app, user_id)
    client = app.test_client()
    assert login(client, "fuzzer").status_code == 302
    token = csrf_token(client.get("/console/").get_data(as_text=True))
    # Drafts of every service, so application ids reach forms with saved answers.
    for code in SERVICES:
        client.post(
            f"/console/applications/new/{code}",
            data={"csrf_token": token, "action": "draft", "connected_load_kw": "5"},
        )
    probe, rules = fuzz.Probe(app), fuzz.routes_under(app, ("/console",), LEFT_OUT)
    fields = form_field_names(app)

    fuzz.probe_each_route(
        rules,
        EXAMPLES,
        lambda method, rule: console_request(method, rule, fields),
        lambda request: _send(probe, client, token, request),
        salt=str(role),
    )
    probe.check()


# ------------------------------------------------------------------ what fuzzing found


@pytest.mark.parametrize(
    "path",
    [
        "/console/callbacks/10000000000000000000",
        "/console/callbacks/2147483648",
        "/console/applications/99999999999999999999",
        "/console/applications/new/new_connection?callback=99999999999999999999",
        "/console/applications/new/new_connection?callback=%C2%B2",
        "/console/applications/new/new_connection?callback=%D9%A1",
    ],
)
def test_an_id_the_database_cannot_hold_is_not_found(operator, path):
    assert operator.get(path).status_code == 404


def test_the_largest_id_the_database_holds_is_looked_up(operator):
    assert operator.get("/console/callbacks/2147483647").status_code == 404


def test_a_load_too_large_to_round_is_refused_with_a_message(operator):
    response = post_form(
        operator,
        "/console/applications/new/new_connection?lang=en",
        "/console/applications/new/new_connection?lang=en",
        {"connected_load_kw": "1e30"},
    )

    assert response.status_code == 422
    assert "cannot be more than 100000 kW" in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_dashboard_day_at_the_calendar_edges_is_refused(supervisor, day):
    response = supervisor.get(f"/console/dashboard/?day={day}")

    assert response.status_code == 400
    assert "must be a date from 2000-01-01 to 2999-12-31" in response.get_data(as_text=True)


@pytest.mark.parametrize("when", ["9999-12-31T23:59", "0001-01-01T00:00"])
def test_a_call_back_time_at_the_calendar_edges_is_answered(app, operator, when):
    make_callback(app, "+919811111111")
    taken = post_form(operator, "/console/", "/console/take-next")
    page = taken.headers["Location"]

    response = post_form(
        operator,
        page,
        f"{page}/disposition",
        {"disposition": "call_back_later", "call_back_at": when},
    )

    assert response.status_code < 500


def test_a_multipart_part_with_no_name_is_ignored(operator):
    data, content_type = fuzz.multipart([("unused", "x")], ["no name"])

    response = operator.post("/console/take-next", data=data, content_type=content_type)

    assert response.status_code == 400  # no CSRF token: refused, not a crash
