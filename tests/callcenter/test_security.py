"""The console's safety: whose applications are whose, sessions that end, redirects, headers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callcenter.security import CONTENT_SECURITY_POLICY
from core.extensions import db
from core.models import OutboundMessage, User
from core.models.applications import Application
from tests.callcenter.conftest import csrf_token, login

DRAFT = {
    "action": "draft",
    "applicant_name": "Rameshwar Prasad Sahu",
    "mobile": "9812345678",
    "pin_code": "493661",
}


def save_draft(client) -> str:
    """Save a draft as ``client``'s operator; return its page's path."""
    page = "/console/applications/new/new_connection?lang=en"
    token = csrf_token(client.get(page).get_data(as_text=True))
    answer = client.post(page, data={"csrf_token": token, **DRAFT})
    assert answer.status_code == 303
    return answer.headers["Location"].split("?")[0]


def draft_state(app) -> tuple[str, str, int]:
    with app.app_context():
        draft = db.session.scalar(select(Application))
        messages = db.session.scalar(select(func.count()).select_from(OutboundMessage))
        return draft.status, draft.data.get("applicant_name", ""), messages


# ---------------------------------------------------------------- whose application


def test_another_operator_can_neither_read_change_nor_submit_a_draft(
    app, operator, second_operator
):
    path = save_draft(operator)
    token = csrf_token(operator.get(path).get_data(as_text=True))

    assert second_operator.get(path).status_code == 403
    changed = {"csrf_token": token, **DRAFT, "applicant_name": "Someone Else"}
    for target in (path, f"{path}/submit"):
        # The token of a page the operator could open: the refusal is about the draft.
        token = csrf_token(second_operator.get("/console/").get_data(as_text=True))
        answer = second_operator.post(target, data={**changed, "csrf_token": token})
        assert answer.status_code == 403
        assert "another operator" in answer.get_data(as_text=True)
    assert draft_state(app) == ("draft", "Rameshwar Prasad Sahu", 0)


def test_a_supervisor_may_read_a_draft_but_not_change_it(app, operator, supervisor):
    path = save_draft(operator)
    assert supervisor.get(path).status_code == 200
    token = csrf_token(supervisor.get(path).get_data(as_text=True))
    answer = supervisor.post(path, data={"csrf_token": token, **DRAFT, "applicant_name": "X"})
    assert answer.status_code == 403
    assert draft_state(app)[1] == "Rameshwar Prasad Sahu"


def test_the_author_keeps_working_on_their_draft(app, operator):
    path = save_draft(operator)
    token = csrf_token(operator.get(path).get_data(as_text=True))
    answer = operator.post(path, data={"csrf_token": token, **DRAFT, "applicant_name": "R P Sahu"})
    assert answer.status_code == 303
    assert draft_state(app)[1] == "R P Sahu"


# ---------------------------------------------------------------- sessions


def copied_session(app, client):
    """Return a new client carrying ``client``'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_logging_out_ends_a_copied_session_too(app, operator):
    thief = copied_session(app, operator)
    assert thief.get("/console/").status_code == 200

    token = csrf_token(operator.get("/console/").get_data(as_text=True))
    operator.post("/console/logout", data={"csrf_token": token})

    assert thief.get("/console/").status_code == 302
    assert operator.get("/console/").status_code == 302


@pytest.mark.parametrize(
    "command",
    [
        ["users", "password", "asha", "--password-stdin"],
        ["users", "disable", "asha"],
    ],
)
def test_a_new_password_or_a_disabled_account_ends_its_sessions(app, operator, command):
    assert operator.get("/console/").status_code == 200
    result = app.test_cli_runner().invoke(args=command, input="a-new-password-123\n")
    assert result.exit_code == 0, result.output
    assert operator.get("/console/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.session_version).where(User.username == "asha")) == 1


def test_other_users_sessions_are_untouched_by_a_logout(app, operator, supervisor):
    token = csrf_token(operator.get("/console/").get_data(as_text=True))
    operator.post("/console/logout", data={"csrf_token": token})
    assert supervisor.get("/console/").status_code == 200


@pytest.mark.parametrize(("key", "hours"), [("seen_at", 1), ("login_at", 13)])
def test_sessions_end_when_idle_and_after_their_lifetime(app, operator, key, hours):
    assert operator.get("/console/").status_code == 200
    with operator.session_transaction() as session:
        session[key] -= hours * 3600
    assert operator.get("/console/").status_code == 302


# ---------------------------------------------------------------- redirects after login


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0a/x",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/%0d%0aSet-Cookie:x=1",
        "javascript:alert(1)",
    ],
)
def test_only_same_site_paths_are_followed_after_login(app, operator_id, target):
    client = app.test_client()
    page = client.get("/console/login")
    answer = client.post(
        f"/console/login?next={target}",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "username": "asha",
            "password": "correct horse battery",
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/console/"


def test_a_same_site_path_is_followed_after_login(app, operator_id):
    client = app.test_client()
    page = client.get("/console/login?next=/console/applications/")
    token = csrf_token(page.get_data(as_text=True))
    answer = client.post(
        "/console/login?next=/console/applications/?lang=hi",
        data={"csrf_token": token, "username": "asha", "password": "correct horse battery"},
    )
    assert answer.headers["Location"] == "/console/applications/?lang=hi"


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize("path", ["/console/login", "/console/static/console.css"])
def test_console_answers_carry_the_security_headers(app, path):
    headers = app.test_client().get(path).headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http here


def test_behind_https_the_console_asks_for_https_only(app):
    answer = app.test_client().get("/console/login", headers={"X-Forwarded-Proto": "https"})
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_console_page_carries_inline_script_or_style(app, operator, supervisor):
    for client, path in (
        (operator, "/console/"),
        (operator, "/console/applications/new/new_connection"),
        (supervisor, "/console/dashboard/"),
    ):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<style>" not in html and " style=" not in html


def test_csv_exports_say_their_charset_once_and_are_not_sniffed(supervisor):
    answer = supervisor.get("/console/dashboard/export/callbacks.csv?from=2026-12-01&to=2026-12-05")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_webhooks_carry_no_console_headers(app):
    answer = app.test_client().post("/ivr/missed-call")
    assert "Content-Security-Policy" not in answer.headers


def test_the_login_page_still_logs_in(app, operator_id):
    assert login(app.test_client(), "asha").status_code == 302
