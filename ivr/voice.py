"""The IVR call flow: language, main menu, bill status, application status, callback, fault.

One POST route per step, each checked for the provider's signature. A step that asks for
keys answers with a gather whose action is the step's ``…/answer`` route; when the caller
presses nothing, the gather falls through to a redirect to that same route without keys,
so "no input" and "wrong key" are handled in one place. State travels in the URL's query
(``lang``, ``attempt``, ``account``, ``application``), never in a server-side session:

- every gather has a timeout (``IVR_GATHER_TIMEOUT``) and a step is asked at most
  ``IVR_MAX_TRIES`` times; after the last try the caller is offered a callback;
- 9 repeats a step, * goes back one step; the main menu says so only when it is heard
  again, to stay short (four options: 1 bill, 2 application, 3 power off, 0 a person);
- application numbers are keyed as digits only: NC-2026-000123 is 2026000123 followed
  by # (the year, then the sequence; see ``ivr.accounts.application_numbers_for_keys``).

Prompts are played from rendered clips (``GET /ivr/audio/…``) and fall back to the
provider's text-to-speech for any clip not rendered yet.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    request,
    send_from_directory,
    url_for,
)

from connections.reading import connection_clock_prompts
from core.callback_slots import SLOT_DIGITS, SOONEST_DIGIT, callback_slots
from core.config import settings
from core.extensions import db
from core.hours import calling_hours
from core.models import MissedCallOutcome, utcnow
from core.models.applications import Application, ApplicationStatus
from core.phone import read_caller_id
from core.request_guards import database_id
from forms.config import discom_profile
from ivr import actions
from ivr.accounts import (
    BillStatus,
    account_by_number,
    application_by_keys,
    bill_for_caller,
    caller_accounts,
    linked_to_someone_else,
)
from meters.status import awaiting_reconnection
from outages.records import outage_prompts
from telephony.inbound import (
    call_report,
    call_script,
    caller_number,
    inbound_call,
    webhook,
    webhook_query,
)
from telephony.script import CallScript, Speech
from voice_prompts import current_library, library_for
from voice_prompts.languages import LANGUAGES
from voice_prompts.library import RenderedPrompts

log = logging.getLogger("sampark.ivr")

voice_bp = Blueprint("voice", __name__, url_prefix="/ivr")

UNVERSIONED_AUDIO_MAX_AGE = 300

AFTER_ANSWER_OFFERS = 2
"""Times the options after an answer are offered to a caller who stays silent."""

CALLBACK_SLOT_TRIES = 2
"""Times the callback slot is asked before a silent or mistaken caller gets the soonest."""

MAX_LISTED_ACCOUNTS = 8
"""Accounts listed on keys 1–8; 9 repeats, 0 enters another number."""

MAX_KEYED_DIGITS = 24
"""More digits than any account or application number: the caller is leaning on a key."""

REPEAT, BACK, OTHER = "9", "*", "0"

DEFAULT_LANGUAGE = "hi"

_APPLICATION_PROMPTS: dict[str, tuple[str, ...]] = {
    ApplicationStatus.SUBMITTED: ("application_submitted", "application_next_wait"),
    ApplicationStatus.INSPECTION: ("application_under_inspection", "application_next_wait"),
    ApplicationStatus.DEMAND_ISSUED: ("application_demand_note_issued", "application_next_pay"),
    ApplicationStatus.PAID: ("application_paid",),
    ApplicationStatus.SITE_INSPECTED: ("application_site_inspected",),
    ApplicationStatus.METER_ALLOTTED: ("application_meter_allotted",),
    ApplicationStatus.METER_INSTALLED: ("application_meter_installed",),
    ApplicationStatus.CONNECTED: ("application_connected",),
    ApplicationStatus.REJECTED: ("application_rejected",),
}
"""What is said, in order, for an application in each status."""

MENU_CHOICES = {
    "1": "voice.account",
    "2": "voice.application_enter",
    "3": "voice.fault",
    OTHER: "voice.operator",
    # Not announced: fault was 4 in the seven-option menu; callers who learnt it get there
    # still. The old 3 (a callback) is now the fault step, which offers 0 for a person.
    "4": "voice.fault",
}
"""The main menu's keys and the steps they lead to (catalogue prompt ``menu_main``)."""


# ------------------------------------------------------------------ request helpers


def _lang() -> str:
    lang = webhook_query().get("lang", "")
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _attempt() -> int:
    try:
        return max(1, int(webhook_query().get("attempt", "1")))
    except ValueError:
        return 1


def _int_arg(name: str) -> int | None:
    return database_id(webhook_query().get(name, ""))


def _keys() -> str:
    keys = call_report().keys
    return "".join(ch for ch in keys if ch in "0123456789*#")[: MAX_KEYED_DIGITS + 1]


def _caller_phone() -> str | None:
    request_globals = g._get_current_object()  # type: ignore[attr-defined]
    phone = request_globals.get("ivr_caller", _UNREAD)
    if phone is _UNREAD:
        config = settings()
        caller = read_caller_id(caller_number(), config.DEFAULT_REGION, config.allowed_regions)
        phone = request_globals.ivr_caller = caller.e164 if caller.usable else None
    return phone


_UNREAD = object()


def _url(endpoint: str, **args: Any) -> str:
    """Return the URL of a step with ``args`` (those not None) in its query, as url_for would."""
    pairs = [(k, v) for k, v in args.items() if v is not None]
    # The steps' arguments are nearly always ints and language codes, which need no
    # quoting: only anything else goes through urlencode.
    if all(type(v) is int or (type(v) is str and v.isascii() and v.isalnum()) for _, v in pairs):
        query = "&".join(f"{k}={v}" for k, v in pairs)
    else:
        query = urlencode(pairs, safe=QUERY_SAFE)
    path = _step_path(endpoint)
    return f"{path}?{query}" if query else path


QUERY_SAFE = "!$'()*,/:;?@"
"""What werkzeug's url_for leaves unquoted in a query string."""


def _step_path(endpoint: str) -> str:
    # A step's path depends only on the app and the script root: the query is encoded
    # per call, the path is built once.
    key = (request.script_root, endpoint)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _kept_url(_kept_urls(app), key, lambda: url_for(endpoint))


def _kept_urls(app: Flask) -> dict[tuple[str | None, ...], str]:
    return app.extensions.setdefault("ivr_urls", {})


def _kept_url(
    urls: dict[tuple[str | None, ...], str], key: tuple[str | None, ...], build: Callable[[], str]
) -> str:
    """Return the URL kept under ``key``, built by ``build`` (url_for) the first time."""
    # url_for builds the whole URL afresh each time, though its answer depends only on
    # the app, the script root and its arguments.
    url = urls.get(key)
    if url is None:
        url = build()
        if len(urls) < MAX_KEPT_URLS:
            urls[key] = url
    return url


# ------------------------------------------------------------------ speaking


def speak(target: Speech, key: str, lang: str, **values: Any) -> None:
    """Play prompt ``key`` from its clips, or say it when a clip is missing.

    For every webhook that speaks prompts (the IVR's steps, announcement calls).
    """
    _speech().speak(target, key, lang, **values)


MAX_KEPT_URLS = 10_000
"""URLs kept per app: every step, and every clip in both languages through a few re-renders."""


@dataclass
class _Speech:
    """What one request speaks with: the rendered prompts as of its start, and their URLs."""

    prompts: RenderedPrompts
    base_url: str
    script_root: str
    urls: dict[tuple[str | None, ...], str]

    def speak(self, target: Speech, key: str, lang: str, **values: Any) -> None:
        """Play prompt ``key`` from its clips, or say it when a clip is missing."""
        speech = self.prompts.speech(key, lang, **values)
        if isinstance(speech, str):
            target.say(speech, lang)
            return
        target.play_all(self.audio_urls(speech))

    def audio_urls(self, tracks: Iterable[tuple[str, str | None]]) -> list[str]:
        """Return the URLs of rendered prompts (path, version tag), each with its tag."""
        # One loop, no call per clip: a bill is 40-odd clips, each URL kept after first use.
        urls, base_url, script_root = self.urls, self.base_url, self.script_root
        found = []
        for path, version in tracks:
            key = (base_url, script_root, path, version)
            found.append(urls.get(key) or _kept_url(urls, key, functools.partial(_audio_url, key)))
        return found


def _audio_url(key: tuple[str, str, str, str | None]) -> str:
    base_url, _script_root, path, version = key
    return base_url + url_for("voice.audio", filename=path, v=version)


def _speech() -> _Speech:
    # Once per request: one look at the manifest, however many prompts the step speaks.
    if "ivr_speech" not in g:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        base_url = settings().PUBLIC_BASE_URL or request.host_url
        g.ivr_speech = _Speech(
            library_for(app).current(),
            base_url.rstrip("/"),
            request.script_root,
            _kept_urls(app),
        )
    return g.ivr_speech


def _gather(
    answer_endpoint: str,
    lang: str | None,
    attempt: int,
    *,
    finish_on_key: str | None = None,
    **args: Any,
) -> tuple[CallScript, Speech]:
    """Return a script with a gather posting to ``answer_endpoint``, and the gather."""
    action = _url(answer_endpoint, lang=lang, attempt=attempt, **args)
    script = call_script()
    gather = script.gather(
        action,
        timeout=settings().IVR_GATHER_TIMEOUT,
        max_keys=None if finish_on_key else 1,
        finish_key=finish_on_key,
    )
    # Nothing pressed: the gather falls through to here and the answer hears no keys.
    script.redirect(action)
    return script, gather


Spoken = str | tuple[str, dict[str, Any]]
"""A prompt key, or a prompt key with its values."""


def _redirect(endpoint: str, *, say: tuple[Spoken, ...] = (), **args: Any) -> Response:
    script = call_script()
    for item in say:
        key, values = (item, {}) if isinstance(item, str) else item
        speak(script, key, _lang(), **values)
    script.redirect(_url(endpoint, **args))
    return script.response()


def _retry(step: str, problem: Spoken, **args: Any) -> Response:
    """Say what went wrong and ask the step again, or offer a callback after the last try."""
    lang, attempt = _lang(), _attempt()
    if attempt >= settings().IVR_MAX_TRIES:
        return _redirect("voice.callback_offer", say=(problem,), lang=lang)
    return _redirect(step, say=(problem,), lang=lang, attempt=attempt + 1, **args)


def _goodbye(*keys: str, **values: Any) -> Response:
    lang = _lang()
    script = call_script()
    for key in keys:
        speak(script, key, lang, **values.get(key, {}))
    speak(script, "goodbye", lang)
    script.hangup()
    return script.response()


def _menu_answer(
    step: str, back: str, choices: dict[str, str], *, after_answer: bool = False, **args: Any
) -> Response:
    """Follow a one-key answer: a choice, 9 to repeat, * to go back, or a re-prompt.

    ``after_answer``: the caller has heard what they called for, so silence is not a mistake;
    the options are offered once more, without "you pressed nothing", and then the call ends
    politely instead of offering a callback.
    """
    lang, keys = _lang(), _keys().rstrip("#")
    if not keys and after_answer:
        if _attempt() >= AFTER_ANSWER_OFFERS:
            return _goodbye()
        return _redirect(step, lang=lang, attempt=_attempt() + 1, **args)
    if not keys:
        return _retry(step, "no_input", **args)
    if keys in choices:
        return _redirect(choices[keys], lang=lang, **args)
    if keys == REPEAT:
        return _redirect(step, lang=lang, attempt=_attempt(), **args)
    if keys == BACK:
        return _redirect(back, lang=lang)
    return _retry(step, "invalid_key", **args)


# ------------------------------------------------------------------ language and menu


@voice_bp.route("/voice", methods=["GET", "POST"])
@webhook
def voice() -> Response:
    """Answer the IVR number: ask for the language, Hindi first."""
    script, gather = _gather("voice.language_answer", None, _attempt())
    speak(gather, "language_choice", DEFAULT_LANGUAGE)
    return script.response()


@voice_bp.post("/voice/language/answer")
@webhook
def language_answer() -> Response:
    """Take the language: 1 Hindi, 2 English."""
    keys = _keys().rstrip("#")
    chosen = {"1": "hi", "2": "en"}.get(keys)
    if chosen is None:
        if keys in (REPEAT, BACK):
            return _redirect("voice.voice", attempt=_attempt())
        # Before a language is chosen, the retries speak Hindi, the default.
        return _retry("voice.voice", "invalid_key" if keys else "no_input")
    script = call_script()
    speak(script, "welcome", chosen)
    for said in outage_prompts(_caller_phone()):  # a current outage where the caller lives
        speak(script, said.key, chosen, **said.values)
    script.redirect(_url("voice.menu", lang=chosen))
    return script.response()


@voice_bp.post("/voice/menu")
@webhook
def menu() -> Response:
    """Offer the main menu; "9 repeats" only to a caller hearing it again."""
    lang, attempt = _lang(), _attempt()
    script, gather = _gather("voice.menu_answer", lang, attempt)
    speak(gather, "menu_main", lang)
    if attempt > 1 or webhook_query().get("again"):
        speak(gather, "menu_repeat", lang)
    return script.response()


@voice_bp.post("/voice/menu/answer")
@webhook
def menu_answer() -> Response:
    """Follow the main menu: 1 bill, 2 application, 3 power off, 0 a person; 9, * unsaid."""
    if _keys().rstrip("#") == REPEAT:
        return _redirect("voice.menu", lang=_lang(), attempt=_attempt(), again=1)
    return _menu_answer("voice.menu", "voice.voice", MENU_CHOICES)


# ------------------------------------------------------------------ which account


@voice_bp.post("/voice/account")
@webhook
def account() -> Response:
    """Find the caller's account: confirm the one, list the several, or ask for the number."""
    lang, attempt = _lang(), _attempt()
    accounts = caller_accounts(_caller_phone())
    if not accounts:
        return _redirect("voice.account_enter", say=("no_linked_account",), lang=lang)
    if len(accounts) == 1:
        script, gather = _gather("voice.account_answer", lang, attempt)
        speak(gather, "confirm_account", lang, last_digits=accounts[0].last_digits)
        return script.response()
    script, gather = _gather("voice.account_answer", lang, attempt)
    for choice, each in enumerate(accounts[:MAX_LISTED_ACCOUNTS], start=1):
        speak(gather, "choose_account", lang, last_digits=each.last_digits, choice=choice)
    speak(gather, "choose_other_account", lang)
    return script.response()


@voice_bp.post("/voice/account/answer")
@webhook
def account_answer() -> Response:
    """Follow the account confirmation (1 yes, 2 another) or the list (1–8, 0 another)."""
    lang = _lang()
    accounts = caller_accounts(_caller_phone())
    if len(accounts) == 1:
        choices = {"1": accounts[0], "2": None}
    else:
        choices = {str(n): each for n, each in enumerate(accounts[:MAX_LISTED_ACCOUNTS], start=1)}
        choices[OTHER] = None
    keys = _keys().rstrip("#")
    if keys in choices:
        chosen = choices[keys]
        if chosen is None:
            return _redirect("voice.account_enter", lang=lang)
        return _redirect("voice.bill", lang=lang, account=chosen.id)
    return _menu_answer("voice.account", "voice.menu", {})


@voice_bp.post("/voice/account/enter")
@webhook
def account_enter() -> Response:
    """Ask for the account number on the keypad, ended with #."""
    lang = _lang()
    script, gather = _gather("voice.account_enter_answer", lang, _attempt(), finish_on_key="#")
    speak(gather, "enter_account", lang)
    return script.response()


@voice_bp.post("/voice/account/enter/answer")
@webhook
def account_enter_answer() -> Response:
    """Check the keyed account number against the DISCOM's format and the caller's number."""
    lang, keys = _lang(), _keys().rstrip("#")
    if not keys:
        return _retry("voice.account_enter", "no_input")
    if keys.startswith(BACK):
        return _redirect("voice.menu", lang=lang)
    number_format = discom_profile().account_number
    if not keys.isdigit() or not number_format.is_valid(keys):
        wrong = ("account_wrong_length", {"length": number_format.length})
        return _retry("voice.account_enter", wrong)
    found = account_by_number(number_format.normalise(keys))
    if found is None:
        return _retry("voice.account_enter", "unknown_account")
    if linked_to_someone_else(found.id, _caller_phone()):
        return _redirect("voice.menu", say=("account_other_number",), lang=lang)
    return _redirect("voice.bill", lang=lang, account=found.id)


# ------------------------------------------------------------------ bill


def _allowed_bill() -> BillStatus | None:
    # The account id comes from our own URL, which the signature covers; the check
    # repeats so that no crafted or stale URL announces an account linked to others.
    account_id = _int_arg("account")
    return bill_for_caller(account_id, _caller_phone()) if account_id is not None else None


def _announce_bill(target: Speech, status: BillStatus, lang: str) -> None:
    speak = _speech().speak
    if not status.has_bill:
        speak(target, "bill_not_found", lang)
        return
    if status.amount_due is None:
        speak(target, "bill_no_dues", lang)
    else:
        speak(target, "bill_amount_due", lang, amount=status.amount_due)
        speak(target, "bill_due_date", lang, due_date=status.due_date)
        speak(target, "bill_amount_after_due_date", lang, amount=status.amount_after_due)
    if status.last_paid_amount is not None and status.last_paid_on is not None:
        speak(
            target,
            "bill_last_payment",
            lang,
            amount=status.last_paid_amount,
            paid_on=status.last_paid_on,
        )
    if status.disconnected and status.amount_due is not None:
        speak(target, "bill_supply_restored_after_payment", lang)
    elif status.disconnected and awaiting_reconnection(status.account.id):
        speak(target, "bill_reconnection_on_the_way", lang)


@voice_bp.post("/voice/bill")
@webhook
def bill() -> Response:
    """Announce the account's bill, then offer it by SMS."""
    lang = _lang()
    status = _allowed_bill()
    if status is None:
        return _redirect("voice.menu", say=("unknown_account",), lang=lang)
    script = call_script()
    _announce_bill(script, status, lang)
    script.redirect(_url("voice.bill_options", lang=lang, account=status.account.id))
    return script.response()


@voice_bp.post("/voice/bill/options")
@webhook
def bill_options() -> Response:
    """Offer the bill by SMS, a repeat, or the main menu."""
    lang = _lang()
    script, gather = _gather(
        "voice.bill_options_answer", lang, _attempt(), account=_int_arg("account")
    )
    speak(gather, "offer_sms", lang)
    speak(gather, "info_options", lang)
    return script.response()


@voice_bp.post("/voice/bill/options/answer")
@webhook
def bill_options_answer() -> Response:
    """Send the bill by SMS on 1; 9 repeats the bill; * returns to the main menu."""
    lang, account_id = _lang(), _int_arg("account")
    if _keys() == "1":
        status, phone = _allowed_bill(), _caller_phone()
        if status is None or phone is None:
            return _redirect("voice.menu", say=("callback_unavailable",), lang=lang)
        found = status.account
        if status.amount_due is None:
            key, values = actions.BILL_NO_DUES_TEMPLATE, {"account": found.masked}
        else:
            key = actions.BILL_TEMPLATE
            values = {
                "account": found.masked,
                "amount": actions.rupees(status.amount_due),
                "due_date": actions.sms_date(status.due_date),
                "amount_after_due": actions.rupees(status.amount_after_due),
            }
        actions.send_info_sms(phone, lang, key, values)
        return _redirect("voice.menu", say=("sms_sent",), lang=lang)
    if _keys() == REPEAT:
        return _redirect("voice.bill", lang=lang, account=account_id)
    return _menu_answer(
        "voice.bill_options", "voice.menu", {}, after_answer=True, account=account_id
    )


# ------------------------------------------------------------------ application


@voice_bp.post("/voice/application/enter")
@webhook
def application_enter() -> Response:
    """Ask for the application number's digits, ended with #."""
    lang = _lang()
    script, gather = _gather("voice.application_enter_answer", lang, _attempt(), finish_on_key="#")
    speak(gather, "enter_application", lang)
    speak(gather, "application_keying", lang)
    return script.response()


@voice_bp.post("/voice/application/enter/answer")
@webhook
def application_enter_answer() -> Response:
    """Find the application the keyed digits name; it must be the caller's own."""
    lang, keys = _lang(), _keys().rstrip("#")
    if not keys:
        return _retry("voice.application_enter", "no_input")
    if keys.startswith(BACK):
        return _redirect("voice.menu", lang=lang)
    found = application_by_keys(keys, _caller_phone())
    if found is None:
        return _retry("voice.application_enter", "unknown_application")
    if found.phone != _caller_phone():
        return _redirect("voice.menu", say=("application_other_number",), lang=lang)
    return _redirect("voice.application", lang=lang, application=found.id)


def _allowed_application() -> Application | None:
    application_id = _int_arg("application")
    found = db.session.get(Application, application_id) if application_id is not None else None
    if found is None or found.phone != _caller_phone() or found.status not in _APPLICATION_PROMPTS:
        return None
    return found


def _application_values(key: str, found: Application) -> dict[str, Any]:
    return {"amount": found.demand_total} if key == "application_demand_note_issued" else {}


@voice_bp.post("/voice/application")
@webhook
def application() -> Response:
    """Announce the application's status, demand amount and what to do next."""
    lang = _lang()
    found = _allowed_application()
    if found is None:
        return _redirect("voice.menu", say=("unknown_application",), lang=lang)
    script = call_script()
    for key in _APPLICATION_PROMPTS[found.status]:
        speak(script, key, lang, **_application_values(key, found))
    for key, values in connection_clock_prompts(found.id):
        speak(script, key, lang, **values)
    script.redirect(_url("voice.application_options", lang=lang, application=found.id))
    return script.response()


@voice_bp.post("/voice/application/options")
@webhook
def application_options() -> Response:
    """Offer the application's status by SMS, a repeat, or the main menu."""
    lang = _lang()
    script, gather = _gather(
        "voice.application_options_answer",
        lang,
        _attempt(),
        application=_int_arg("application"),
    )
    speak(gather, "offer_sms", lang)
    speak(gather, "info_options", lang)
    return script.response()


@voice_bp.post("/voice/application/options/answer")
@webhook
def application_options_answer() -> Response:
    """Send the status by SMS on 1; 9 repeats; 0 an operator; * the main menu."""
    lang, application_id = _lang(), _int_arg("application")
    if _keys() == "1":
        found, phone = _allowed_application(), _caller_phone()
        if found is None or phone is None:
            return _redirect("voice.menu", say=("unknown_application",), lang=lang)
        if found.status == ApplicationStatus.DEMAND_ISSUED:
            key = actions.APPLICATION_DEMAND_TEMPLATE
            values = {"number": found.number, "amount": actions.rupees(found.demand_total)}
        else:
            status_key = _APPLICATION_PROMPTS[found.status][0]
            status_text = current_library().say_text(status_key, lang).rstrip("।. ")
            key, values = (
                actions.APPLICATION_TEMPLATE,
                {
                    "number": found.number,
                    "status": status_text,
                    "demand": "",
                },
            )
        actions.send_info_sms(phone, lang, key, values)
        return _redirect("voice.menu", say=("sms_sent",), lang=lang)
    if _keys() == REPEAT:
        return _redirect("voice.application", lang=lang, application=application_id)
    return _menu_answer(
        "voice.application_options",
        "voice.menu",
        {OTHER: "voice.operator"},
        after_answer=True,
        application=application_id,
    )


# ------------------------------------------------------------------ callback, operator, fault


@voice_bp.post("/voice/callback")
@webhook
def callback() -> Response:
    """Ask when to call back: a slot (1 morning, 2 afternoon, 3 evening) or 0 the soonest."""
    lang = _lang()
    if _caller_phone() is None:
        return _goodbye("callback_unavailable")
    offered = callback_slots().names
    if not offered:  # no slot fits the calling hours: nothing to choose
        return _register_callback(None)
    script, gather = _gather("voice.callback_slot_answer", lang, _attempt())
    speak(gather, "callback_slot_ask", lang)
    for name in offered:
        speak(gather, f"callback_slot_{name}", lang)
    speak(gather, "callback_slot_soonest", lang)
    return script.response()


@voice_bp.post("/voice/callback/slot/answer")
@webhook
def callback_slot_answer() -> Response:
    """Register the callback in the chosen slot; 0 or hash, the soonest; 9 repeats.

    The caller has asked for a callback already, so nothing they press loses it: after
    ``CALLBACK_SLOT_TRIES`` wrong keys or silences it is registered for the soonest time.
    """
    lang, pressed = _lang(), _keys()
    keys = pressed.rstrip("#")
    slot = SLOT_DIGITS.get(keys)
    if slot is not None and callback_slots().get(slot) is not None:
        return _register_callback(slot)
    if keys == SOONEST_DIGIT or (pressed and not keys):  # 0, or hash alone
        return _register_callback(None)
    if keys == REPEAT:
        return _redirect("voice.callback", lang=lang, attempt=_attempt())
    if keys == BACK:
        return _redirect("voice.menu", lang=lang)
    if _attempt() >= CALLBACK_SLOT_TRIES:
        return _register_callback(None)
    problem = "invalid_key" if keys else "no_input"
    return _redirect("voice.callback", say=(problem,), lang=lang, attempt=_attempt() + 1)


def _register_callback(slot: str | None) -> Response:
    """Put the caller in the callback queue, as a missed call would, in ``slot``."""
    phone = _caller_phone()
    if phone is None:
        return _goodbye("callback_unavailable")
    outcome = actions.request_callback(phone, _lang(), slot, chosen=True)
    if outcome in (MissedCallOutcome.QUEUED, MissedCallOutcome.MERGED):
        return _goodbye(f"callback_registered_{slot}" if slot else "callback_registered")
    return _goodbye("callback_not_registered")


@voice_bp.post("/voice/callback/offer")
@webhook
def callback_offer() -> Response:
    """Offer a callback after the last try of a step."""
    lang = _lang()
    script, gather = _gather("voice.callback_offer_answer", lang, 1)
    speak(gather, "tries_exhausted", lang)
    return script.response()


@voice_bp.post("/voice/callback/offer/answer")
@webhook
def callback_offer_answer() -> Response:
    """Take the callback on 1; anything else ends the call politely."""
    if _keys() == "1":
        return _redirect("voice.callback", lang=_lang())
    return _goodbye()


@voice_bp.post("/voice/operator")
@webhook
def operator() -> Response:
    """Bridge to the call centre inside calling hours; otherwise offer a callback."""
    lang = _lang()
    number = settings().CALL_CENTRE_NUMBER
    if not number or not calling_hours().is_open(utcnow()):
        script, gather = _gather("voice.callback_offer_answer", lang, 1)
        # With no line to the call centre a person is only ever reached by a callback.
        speak(gather, "outside_hours" if number else "operator_calls_back", lang)
        return script.response()
    script = call_script()
    speak(script, "connecting_operator", lang)
    script.dial(
        number,
        action=_url("voice.operator_done", lang=lang),
        timeout=settings().IVR_DIAL_TIMEOUT,
    )
    return script.response()


@voice_bp.post("/voice/operator/done")
@webhook
def operator_done() -> Response:
    """End the call after the operator hangs up; offer a callback if nobody answered."""
    if call_report().dial_status in ("", "completed"):
        script = call_script()
        script.hangup()
        return script.response()
    lang = _lang()
    script, gather = _gather("voice.callback_offer_answer", lang, 1)
    speak(gather, "offer_callback", lang)
    return script.response()


@voice_bp.post("/voice/fault")
@webhook
def fault() -> Response:
    """Ask the caller to confirm a supply fault report."""
    lang = _lang()
    script, gather = _gather("voice.fault_answer", lang, _attempt())
    # A known outage is said first; 1 still records a fault that is the caller's own.
    known = outage_prompts(_caller_phone())
    for said in known:
        speak(gather, said.key, lang, **said.values)
    speak(gather, "fault_known_outage" if known else "fault_confirm", lang)
    return script.response()


@voice_bp.post("/voice/fault/answer")
@webhook
def fault_answer() -> Response:
    """Record the fault on 1 and read its reference, which also goes by SMS; 0 a person."""
    if _keys() != "1":
        return _menu_answer("voice.fault", "voice.menu", {OTHER: "voice.operator"})
    phone = _caller_phone()
    accounts = caller_accounts(phone)
    report = actions.report_fault(
        phone,
        _lang(),
        inbound_call().call_sid,
        accounts[0].id if len(accounts) == 1 else None,
    )
    return _goodbye("fault_recorded", fault_recorded={"reference": report.reference})


# ------------------------------------------------------------------ audio


@voice_bp.get("/audio/<path:filename>")
def audio(filename: str) -> Response:
    """Serve a rendered prompt or clip; versioned URLs may be cached for a year."""
    if not filename.endswith(".wav"):
        abort(404)
    library = current_library()
    response = send_from_directory(library.directory, filename, mimetype="audio/wav")
    versioned = bool(request.args.get("v"))
    # A re-render changes a versioned URL, not the file behind it: cache those long.
    max_age = settings().IVR_AUDIO_MAX_AGE if versioned else UNVERSIONED_AUDIO_MAX_AGE
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    if versioned:
        response.cache_control.immutable = True
    return response
