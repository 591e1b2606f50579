"""The console in Hindi or English: the catalogue, the switch, and the choice kept per user."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from callcenter.language import TRANSLATIONS
from core.extensions import db
from core.models import User
from tests.callcenter.conftest import create_user, csrf_token, login

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = TRANSLATIONS / "hi" / "LC_MESSAGES" / "messages.po"
KEYWORDS = ("_l", "lazy_gettext", "N_")
"""The extraction keywords beyond Babel's own, as ``make translations-extract`` passes them."""


def _extracted() -> set[tuple[str | None, str]]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = dict.fromkeys(KEYWORDS)
    from babel.messages.extract import DEFAULT_KEYWORDS

    keywords = {**DEFAULT_KEYWORDS, **keywords}
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def _translated() -> dict[tuple[str | None, str], object]:
    with open(CATALOGUE, "rb") as po:
        catalogue = read_po(po, locale="hi")
    done = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            done[message.context, msgid] = message.string
    return done


def test_every_console_string_has_a_hindi_translation() -> None:
    extracted = _extracted()
    assert len(extracted) > 100, "the extraction found almost nothing: babel.cfg is wrong"
    missing = sorted(extracted - set(_translated()))
    assert not missing, (
        "strings without a Hindi translation (make translations-extract, then translate "
        f"them in {CATALOGUE.relative_to(ROOT)}): {missing}"
    )


def test_translations_keep_their_placeholders() -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    for (_context, msgid), string in _translated().items():
        strings = string if isinstance(string, tuple) else (string,)
        for text in strings:
            assert set(placeholder.findall(text)) <= set(placeholder.findall(msgid)), msgid


def test_the_compiled_catalogue_is_current() -> None:
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "the catalogue is not compiled: run make setup"
    assert compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime, (
        "the .po changed after it was compiled: run make setup"
    )


def _switch(client: FlaskClient, page: str, language: str, next_path: str | None = None):
    token = csrf_token(client.get(page).get_data(as_text=True))
    data = {"csrf_token": token, "language": language}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/console/language", data=data)


def _language_of(app: Flask, user_id: int) -> str | None:
    with app.app_context():
        return db.session.get(User, user_id).language


def test_every_page_carries_the_switch(operator: FlaskClient) -> None:
    page = operator.get("/console/").get_data(as_text=True)
    assert 'id="language-switch"' in page
    assert 'value="hi"' in page and 'value="en"' in page


def test_the_switch_stores_the_choice_and_returns_to_the_page(
    app: Flask, operator: FlaskClient, operator_id: int
) -> None:
    answer = _switch(operator, "/console/", "hi", "/console/outbox")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/console/outbox"
    assert _language_of(app, operator_id) == "hi"
    page = operator.get("/console/").get_data(as_text=True)
    assert '<html lang="hi">' in page
    assert "लॉग आउट" in page and ">Log out<" not in page

    _switch(operator, "/console/", "en", "/console/")
    assert _language_of(app, operator_id) == "en"
    page = operator.get("/console/").get_data(as_text=True)
    assert '<html lang="en">' in page and ">Log out<" in page


def test_the_choice_follows_the_user_to_a_new_session(app: Flask, operator_id: int) -> None:
    first = app.test_client()
    login(first, "asha")
    _switch(first, "/console/", "hi", "/console/")
    second = app.test_client()
    login(second, "asha")
    assert "लॉग आउट" in second.get("/console/").get_data(as_text=True)


def test_a_bad_language_is_refused_clearly(
    app: Flask, operator: FlaskClient, operator_id: int
) -> None:
    answer = _switch(operator, "/console/", "fr", "/console/")
    assert answer.status_code == 400
    assert "Hindi or English" in answer.get_data(as_text=True)
    assert _language_of(app, operator_id) is None


def test_the_switch_needs_its_csrf_token(
    app: Flask, operator: FlaskClient, operator_id: int
) -> None:
    answer = operator.post("/console/language", data={"language": "hi", "next": "/console/"})
    assert answer.status_code == 400
    assert _language_of(app, operator_id) is None


def test_an_off_site_next_is_not_followed(operator: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = _switch(operator, "/console/", "en", target)
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/console/"


def test_the_login_page_switches_before_login_and_the_user_keeps_it(
    app: Flask, client: FlaskClient
) -> None:
    user_id = create_user(app, "meena")
    answer = _switch(client, "/console/login", "hi")
    assert answer.headers["Location"] == "/console/login"
    page = client.get("/console/login").get_data(as_text=True)
    assert '<html lang="hi">' in page and "लॉग इन" in page
    assert login(client, "meena").status_code == 302
    assert "लॉग आउट" in client.get("/console/").get_data(as_text=True)
    assert _language_of(app, user_id) == "hi"


def test_without_a_choice_the_browser_then_the_discom_default_decide(make_app) -> None:
    app = make_app(CONSOLE_DEFAULT_LANGUAGE="hi")
    client = app.test_client()
    assert '<html lang="hi">' in client.get("/console/login").get_data(as_text=True)
    english = client.get("/console/login", headers={"Accept-Language": "en-IN,en;q=0.8"})
    assert '<html lang="en">' in english.get_data(as_text=True)
