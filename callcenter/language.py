"""The console's own language, Hindi or English: which one a page is shown in, and the switch.

The words come from the gettext catalogue in ``callcenter/translations`` (Flask-Babel;
English is the source language, ``make translations-extract`` collects new strings). A
page is shown in the language its user chose (``users.language``), else the one chosen
on the login page (kept in the session), else the one the browser asks for, else
``CONSOLE_DEFAULT_LANGUAGE``. Each language is given with India as its territory (hi_IN,
en_IN), so that Babel's number, money and date formats group digits the Indian way
(₹1,23,456.00). The application forms' own labels are not these: they come bilingual
from ``forms/messages.toml``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import get_month_names
from flask import (
    Blueprint,
    Flask,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_currency, get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from core.config import settings, settings_of
from core.extensions import babel, db

LOCALES = {"hi": "hi_IN", "en": "en_IN"}
"""The console's languages, each with the locale its numbers and dates are written in."""

FALLBACK = "hi"
"""The language when CONSOLE_DEFAULT_LANGUAGE names neither."""

SESSION_KEY = "console_language"
"""Where a choice made before login (or by someone not logged in) is kept."""

TRANSLATIONS = Path(__file__).with_name("translations")
"""The catalogues: ``hi/LC_MESSAGES/messages.po`` and the ``.mo`` compiled from it."""


def N_(text: str) -> str:  # gettext's own name for the marker
    """Mark ``text`` for the catalogue where it is translated later, when it is shown."""
    return text


language_bp = Blueprint("language", __name__, url_prefix="/console")

WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid choice."),
    N_("Not a valid integer value."),
    N_("Not a valid float value."),
    N_("Not a valid datetime value."),
    N_("Invalid input."),
)
"""WTForms' own messages that the console's forms can show, put in the console's catalogue
(WTForms ships no Hindi); the forms give every other message themselves."""


class _FormTranslations:
    """WTForms' messages looked up in the console's catalogue, in the page's language."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class ConsoleForm(FlaskForm):
    """A console form (CSRF from Flask-WTF) whose WTForms messages follow the page's language."""

    class Meta:
        def get_translations(self, form: FlaskForm) -> _FormTranslations:
            return _FormTranslations()


def chosen_language() -> str:
    """Return the language (``hi`` or ``en``) this request's pages are shown in."""
    if current_user.is_authenticated and current_user.language in LOCALES:
        return current_user.language
    stored = session.get(SESSION_KEY)
    if stored in LOCALES:
        return stored
    asked = request.accept_languages.best_match(list(LOCALES))
    if asked:
        return asked
    default = settings().CONSOLE_DEFAULT_LANGUAGE.strip().lower()
    return default if default in LOCALES else FALLBACK


def _select_locale() -> str | None:
    # Only console pages are translated; anything else asked outside a request is English.
    if not has_request_context():
        return None
    return LOCALES[chosen_language()]


def console_language() -> str:
    """Return the language code of the current locale (``hi`` or ``en``), for ``<html lang>``."""
    return get_locale().language


@language_bp.post("/language")
def switch() -> Any:
    """Show the console in the language pressed (``language`` = hi or en) from now on."""
    from callcenter.security import safe_next

    code = (request.form.get("language") or "").strip().lower()
    if code not in LOCALES:
        message = _("The console is shown in Hindi or English; choose one of the two.")
        return render_template("console/refused.html", message=message), 400
    session[SESSION_KEY] = code
    if current_user.is_authenticated:
        current_user.language = code
        db.session.commit()
    target = request.form.get("next")
    if not current_user.is_authenticated and not target:
        target = url_for("console.login")
    return redirect(safe_next(target))


def keep_choice_over(clear_session: Any) -> None:
    """Clear the session with ``clear_session`` and keep the language chosen in it."""
    code = session.get(SESSION_KEY)
    clear_session()
    if code in LOCALES:
        session[SESSION_KEY] = code


def adopt_login_choice() -> None:
    """Give a user who logs in with no language of their own the one chosen on the login page."""
    code = session.get(SESSION_KEY)
    if code in LOCALES and current_user.is_authenticated and current_user.language is None:
        current_user.language = code
        db.session.commit()


def rupees(amount: Decimal | int | float | str | None) -> str:
    """Write an amount of rupees with Indian grouping: ₹4,366.20, ₹1,23,456.00 (Latin digits).

    Hindi pages keep Latin digits too: they are what bills, receipts and bank SMS use.
    """
    if amount is None or amount == "":
        return "—"
    return format_currency(Decimal(str(amount)), "INR")


def month_abbreviation(month: int) -> str:
    """Return the page language's short name of month 1–12 (Babel's CLDR names)."""
    return get_month_names("abbreviated", locale=get_locale())[month]


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with the console's catalogue, locale choice and time zone."""
    babel.init_app(
        app,
        default_locale="en",
        default_translation_directories=str(TRANSLATIONS),
        default_timezone=settings_of(app).TIMEZONE,
        locale_selector=_select_locale,
    )
    app.context_processor(lambda: {"console_language": console_language})
    app.add_template_filter(rupees, "rupees")
