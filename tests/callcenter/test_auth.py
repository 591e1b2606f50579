"""Console accounts: logging in and out, the login rate limit, roles, CSRF, cookies, the CLI."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from werkzeug.security import check_password_hash

from core.extensions import db
from core.models import Role, User
from core.redis_client import redis_client
from tests.callcenter.conftest import PASSWORD, create_user, csrf_token, login


def test_login_with_the_right_password_opens_the_queue(app, operator_id):
    client = app.test_client()

    response = login(client, "asha")

    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200
    assert "Callbacks waiting" in page.get_data(as_text=True)


def test_login_with_a_wrong_password_is_refused(app, operator_id):
    client = app.test_client()

    response = login(client, "asha", "wrong password")

    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 302  # still sent to the login page


def test_an_unknown_username_gets_the_same_answer(app):
    response = login(app.test_client(), "nobody")

    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_an_inactive_account_cannot_log_in(app, operator_id):
    with app.app_context():
        db.session.get(User, operator_id).active = False
        db.session.commit()

    assert login(app.test_client(), "asha").status_code == 401


def test_the_console_sends_strangers_to_the_login_page(client):
    response = client.get("/console/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


def test_login_returns_to_the_page_asked_for_but_never_off_site(app, operator_id):
    client = app.test_client()
    token = csrf_token(client.get("/console/login").get_data(as_text=True))
    data = {"csrf_token": token, "username": "asha", "password": PASSWORD}

    offsite = client.post("/console/login?next=//evil.example/", data=data)

    assert offsite.headers["Location"] == "/console/"
    client.post("/console/logout", data={"csrf_token": csrf_token(client.get("/console/").text)})
    token = csrf_token(client.get("/console/login").get_data(as_text=True))
    data["csrf_token"] = token
    onsite = client.post("/console/login?next=/console/outbox", data=data)
    assert onsite.headers["Location"] == "/console/outbox"


def test_failed_logins_are_limited_per_username(make_app, operator_id):
    app = make_app(LOGIN_MAX_ATTEMPTS=3, LOGIN_WINDOW_SECONDS=600)
    client = app.test_client()
    for _ in range(3):
        assert login(client, "asha", "wrong password").status_code == 401

    refused = login(client, "asha")  # even the right password, until the window ends

    assert refused.status_code == 429
    assert "Too many failed login attempts. Try again in 10 minutes." in refused.get_data(
        as_text=True
    )
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert client.get("/console/").status_code == 302


def test_failed_logins_are_limited_per_address_across_usernames(make_app, operator_id):
    app = make_app(LOGIN_MAX_ATTEMPTS_PER_IP=4)
    client = app.test_client()
    for name in ("a1", "a2", "a3", "a4"):
        login(client, name, "guess")

    assert login(client, "asha").status_code == 429


def test_the_limit_counts_in_redis_and_expires(make_app, operator_id):
    app = make_app(LOGIN_MAX_ATTEMPTS=2, LOGIN_WINDOW_SECONDS=3)
    client = app.test_client()
    login(client, "asha", "wrong")
    login(client, "asha", "wrong")
    refused = login(client, "asha")
    assert refused.status_code == 429
    with app.app_context():
        assert [key for key in redis_client().scan_iter() if b"asha" in key]

    time.sleep(int(refused.headers["Retry-After"]) + 0.2)  # the window ends

    assert login(client, "asha").status_code == 302


def test_logins_go_on_unlimited_while_redis_is_down(make_app, operator_id, caplog):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", LOGIN_MAX_ATTEMPTS=1)
    client = app.test_client()

    with caplog.at_level(logging.WARNING):
        assert login(client, "asha", "wrong").status_code == 401
        assert login(client, "asha", "wrong").status_code == 401  # not counted, not refused
        assert login(client, "asha").status_code == 302

    assert any(record.name == "flask-limiter" for record in caplog.records)


def test_a_good_login_clears_the_username_count(make_app, operator_id):
    app = make_app(LOGIN_MAX_ATTEMPTS=2)
    client = app.test_client()
    login(client, "asha", "wrong")
    assert login(client, "asha").status_code == 302
    client.post("/console/logout", data={"csrf_token": csrf_token(client.get("/console/").text)})

    assert login(client, "asha", "wrong").status_code == 401
    assert login(client, "asha").status_code == 302


def test_logout_ends_the_session(operator):
    token = csrf_token(operator.get("/console/").get_data(as_text=True))

    response = operator.post("/console/logout", data={"csrf_token": token})

    assert response.headers["Location"] == "/console/login"
    assert operator.get("/console/").status_code == 302


def test_an_operator_opening_a_supervisor_page_gets_403(operator):
    response = operator.get("/console/outbox")

    assert response.status_code == 403
    assert "This page is for supervisors" in response.get_data(as_text=True)


def test_a_supervisor_and_an_admin_may_open_supervisor_pages(app, supervisor):
    assert supervisor.get("/console/outbox").status_code == 200
    create_user(app, "adi", role=Role.ADMIN)
    admin = app.test_client()
    login(admin, "adi")
    assert admin.get("/console/outbox").status_code == 200


def test_a_console_post_without_a_csrf_token_is_refused(operator, callback_factory):
    callback_factory("+919812345678")

    response = operator.post("/console/take-next")

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "missing its security token" in text
    assert "nothing was changed" in text
    assert "claimed" not in operator.get("/console/queue.json").get_data(as_text=True)
    assert operator.get("/console/queue.json").json["claim"] is None


def test_a_login_post_with_a_forged_csrf_token_is_refused(app, operator_id):
    client = app.test_client()
    client.get("/console/login")

    response = client.post(
        "/console/login", data={"csrf_token": "forged", "username": "asha", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_session_cookies_are_httponly_samesite_and_secure_on_https(app, operator_id):
    # The test settings' PUBLIC_BASE_URL is https.
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()

    response = login(client, "asha")

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_session_cookies_are_not_secure_on_plain_http(make_app):
    app = make_app(PUBLIC_BASE_URL="http://localhost:5000")

    assert not app.config["SESSION_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_flask_users_create_makes_an_account_with_a_scrypt_hash(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "meena",
            "--role",
            "supervisor",
            "--name",
            "Meena Kumari",
            "--phone",
            "09812345670",
            "--languages",
            "hi,en,bho",
            "--password",
            "long enough password",
        ]
    )

    assert result.exit_code == 0, result.output
    assert "Created supervisor 'meena'" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "meena"))
        assert user.role == Role.SUPERVISOR
        assert user.name == "Meena Kumari"
        assert user.phone == "+919812345670"
        assert user.languages == "hi,en,bho"
        assert user.password_hash.startswith("scrypt:")
        assert check_password_hash(user.password_hash, "long enough password")
    assert login(app.test_client(), "meena", "long enough password").status_code == 302


def test_flask_users_create_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "gita"], input="a secret phrase\na secret phrase\n"
    )

    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "gita", "a secret phrase").status_code == 302


def test_flask_users_create_refuses_bad_input(app):
    runner = app.test_cli_runner()
    create_user(app, "asha")

    duplicate = runner.invoke(args=["users", "create", "ASHA", "--password", "long enough pw"])
    short = runner.invoke(args=["users", "create", "x", "--password", "short"])
    bad_role = runner.invoke(
        args=["users", "create", "y", "--role", "boss", "--password", "x" * 12]
    )
    bad_phone = runner.invoke(
        args=["users", "create", "z", "--phone", "12", "--password", "long enough pw"]
    )

    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    assert short.exit_code != 0 and "10 to 200 characters (got 5)" in short.output
    assert bad_role.exit_code != 0 and "boss" in bad_role.output
    assert bad_phone.exit_code != 0 and "not a valid phone number" in bad_phone.output
    with app.app_context():
        assert db.session.scalars(select(User.username)).all() == ["asha"]


def test_flask_users_create_reads_the_password_from_stdin(app):
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["users", "create", "hari", "--password-stdin"], input="  spaces count too \n"
    )

    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # nothing asked
    assert login(app.test_client(), "hari", "  spaces count too ").status_code == 302


def test_flask_users_create_holds_stdin_passwords_to_the_rules(app):
    runner = app.test_cli_runner()

    empty = runner.invoke(args=["users", "create", "a1", "--password-stdin"], input="")
    long = runner.invoke(args=["users", "create", "a2", "--password-stdin"], input="x" * 201)
    both = runner.invoke(
        args=["users", "create", "a3", "--password", "x" * 12, "--password-stdin"], input="y" * 12
    )

    assert empty.exit_code != 0 and "10 to 200 characters (got 0)" in empty.output
    assert long.exit_code != 0 and "10 to 200 characters (got 201)" in long.output
    assert both.exit_code != 0 and "not both" in both.output
    with app.app_context():
        assert db.session.scalars(select(User.username)).all() == []


def test_webhooks_neither_read_nor_set_the_console_session(operator):
    from tests.conftest import post_webhook

    # A permanent session is sent again, refreshed, with every answer that opens it.
    with operator.session_transaction() as console_session:
        console_session.permanent = True
    assert "Set-Cookie" in operator.get("/console/").headers

    params = {"CallSid": "CA" + "7" * 32, "From": "+919812345678", "To": "+911800180000"}
    webhook = post_webhook(operator, "/ivr/missed-call", params)

    assert webhook.status_code == 200
    assert "Set-Cookie" not in webhook.headers
    # The operator's session came through the webhook untouched.
    assert operator.get("/console/").status_code == 200
