"""The IVR call flow, step by step: TwiML a caller would hear, and what gets written down."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for
from sqlalchemy import select

from core.callback_slots import callback_slots
from core.extensions import db
from core.models import BlockedNumber, Callback, OutboundMessage, utcnow
from core.models.applications import Application
from core.models.consumers import SupplyFault
from ivr import voice
from ivr.demo import add_consumer
from tests.conftest import PUBLIC_BASE_URL, post_webhook, run_jobs
from tests.ivr.test_missed_call import missed_call
from tests.support.rendered_prompts import render_stand_ins

IVR_NUMBER = "+911800180001"
CALLER = "+919812345678"
STRANGER = "+919800000001"
ACCOUNT = "1000004321"  # the default DISCOM (CSPDCL) uses 10-digit BP numbers
OTHER_ACCOUNT = "1000008765"
CALL_CENTRE = "+911140000099"


@pytest.fixture()
def app(make_app, tmp_path: Path):
    # No rendered prompts: every prompt falls back to <Say>, whose text the tests read.
    return make_app(VOICE_PROMPTS_DIR=str(tmp_path / "prompts"), CALL_CENTRE_NUMBER=CALL_CENTRE)


def webhook(client, path: str, digits: str | None = None, caller: str = CALLER, **extra):
    params = {
        "CallSid": "CA" + "5" * 32,
        "AccountSid": "AC" + "0" * 31 + "1",
        "From": caller,
        "To": IVR_NUMBER,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }
    if digits is not None:
        params["Digits"] = digits
    response = post_webhook(client, path, params)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def said(root: ET.Element) -> str:
    return " ".join((node.text or "").strip() for node in root.iter("Say"))


def gather(root: ET.Element) -> ET.Element:
    found = root.find("Gather")
    assert found is not None, ET.tostring(root)
    return found


def redirect(root: ET.Element) -> str:
    found = root.find("Redirect")
    assert found is not None, ET.tostring(root)
    return found.text or ""


def follow(client, root: ET.Element, caller: str = CALLER) -> ET.Element:
    """Follow a Redirect the way Twilio does."""
    return webhook(client, redirect(root), caller=caller)


def answer(client, root: ET.Element, digits: str | None, caller: str = CALLER) -> ET.Element:
    """Press keys at the Gather (None: the caller presses nothing and the Gather falls through)."""
    if digits is None:
        return follow(client, root, caller)
    return webhook(client, gather(root).get("action"), digits, caller=caller)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def bills(**latest) -> list[dict]:
    return [
        {
            "bill_date": date(2026, 10, 1),
            "due_date": date(2026, 10, 15),
            "amount_due": Decimal("850.00"),
            "amount_after_due": Decimal("867.00"),
            "paid_amount": Decimal("850.00"),
            "paid_on": date(2026, 10, 12),
        },
        {
            "bill_date": date(2026, 11, 1),
            "due_date": date(2026, 12, 15),
            "amount_due": Decimal("1520.50"),
            "amount_after_due": Decimal("1551.00"),
            "paid_amount": None,
            "paid_on": None,
            **latest,
        },
    ]


@pytest.fixture()
def consumer(app):
    with app.app_context():
        add_consumer(ACCOUNT, [CALLER], bills())
        db.session.commit()


def menu(client, lang: str = "en", caller: str = CALLER) -> ET.Element:
    return webhook(client, f"/ivr/voice/menu?lang={lang}", caller=caller)


# ------------------------------------------------------------------ language and menu


def test_call_starts_with_the_language_choice_hindi_first(client):
    root = webhook(client, "/ivr/voice")

    choice = gather(root)
    assert choice.get("numDigits") == "1" and int(choice.get("timeout")) > 0
    text = said(root)
    assert text.index("हिंदी") < text.index("English")
    # Pressing nothing falls through to the same answer route, which re-prompts.
    assert redirect(root) == choice.get("action")


@pytest.mark.parametrize(("key", "lang", "welcome"), [("1", "hi", "स्वागत"), ("2", "en", "Welcome")])
def test_language_key_leads_to_the_menu_in_that_language(client, key, lang, welcome):
    root = answer(client, webhook(client, "/ivr/voice"), key)

    assert welcome in said(root)
    assert query(redirect(root))["lang"] == [lang]
    menu_root = follow(client, root)
    assert "press 1" in said(menu_root) if lang == "en" else "1 दबाएँ" in said(menu_root)
    assert query(gather(menu_root).get("action"))["lang"] == [lang]


def test_wrong_keys_and_silence_reprompt_then_offer_a_callback(client):
    root = webhook(client, "/ivr/voice/menu?lang=en")
    root = answer(client, root, "7")
    assert "not a valid option" in said(root)
    root = follow(client, root)
    root = answer(client, root, None)
    assert "You have not pressed any key" in said(root)
    root = follow(client, root)
    root = answer(client, root, "#")
    # Third try spent: the caller is offered a callback instead of a fourth menu.
    offer = follow(client, root)
    assert "call back" in said(offer) and "press 1" in said(offer)
    slots = follow(client, answer(client, offer, "1"))
    registered = answer(client, slots, "0")
    assert "call back request has been registered" in said(registered)
    assert registered.find("Hangup") is not None


def test_request_without_digits_reprompts(client):
    root = webhook(client, "/ivr/voice/menu/answer?lang=hi&attempt=1")
    assert "आपने कोई बटन नहीं दबाया" in said(root)
    assert "/ivr/voice/menu" in redirect(root)


def test_nine_repeats_and_star_goes_back(client):
    again = answer(client, menu(client), "9")
    assert urlsplit(redirect(again)).path == "/ivr/voice/menu"
    back = answer(client, menu(client), "*")
    assert urlsplit(redirect(back)).path == "/ivr/voice"


def test_the_menu_offers_four_things_and_says_how_to_repeat_only_when_repeated(client):
    first = said(menu(client))
    for option in ("press 1", "press 2", "press 3", "press 0"):
        assert option in first
    assert "press 9" not in first and "star" not in first and "press 4" not in first
    # A caller who asks to hear it again, or pressed a wrong key, learns that 9 repeats.
    assert "To hear this again, press 9." in said(follow(client, answer(client, menu(client), "9")))
    wrong = follow(client, answer(client, menu(client), "7"))
    assert "To hear this again, press 9." in said(wrong)
    hindi = said(menu(client, "hi"))
    assert "0 दबाएँ" in hindi and "9 दबाएँ" not in hindi and "स्टार" not in hindi


@pytest.mark.parametrize("lang", ["hi", "en"])
def test_the_menu_announces_only_keys_the_code_takes(app, lang):
    from voice_prompts import library_for

    text = library_for(app).catalogue.text("menu_main", lang)
    announced = set(re.findall(r"\d", text))
    assert announced == {"1", "2", "3", "0"}
    assert announced <= set(voice.MENU_CHOICES)


def test_unsigned_step_is_refused(client):
    response = client.post("/ivr/voice/menu?lang=en", data={"Digits": "1"})
    assert response.status_code == 403


def test_garbage_in_the_query_is_not_an_error(client):
    root = webhook(client, "/ivr/voice/bill?lang=xx&account=abc&attempt=zz")
    assert "could not find this account" not in said(root)  # spoken in Hindi, the default
    assert "रिकॉर्ड में नहीं मिला" in said(root)


# ------------------------------------------------------------------ bill


def test_one_linked_account_is_confirmed_by_its_last_digits(client, consumer):
    root = answer(client, menu(client), "1")
    root = follow(client, root)
    assert "four three two one" in said(root)

    announced = follow(client, answer(client, root, "1"))
    text = said(announced)
    assert "one thousand five hundred and twenty rupees and fifty paise" in text
    assert "fifteenth December two thousand twenty-six" in text
    assert "one thousand five hundred and fifty-one rupees" in text
    assert "You last paid eight hundred and fifty rupees" in text
    assert "twelfth October" in text
    assert "restored" not in text


def test_bill_in_hindi_and_sms_on_one(app, client, consumer, twilio_api):
    root = follow(client, webhook(client, "/ivr/voice/menu/answer?lang=hi", "1"))
    announced = follow(client, answer(client, root, "1"))
    assert "एक हज़ार पाँच सौ बीस रुपये पचास पैसे" in said(announced)
    options = follow(client, announced)
    assert "एसएमएस" in said(options)

    sent = answer(client, options, "1")
    assert "एसएमएस से भेज दी गई" in said(sent)
    run_jobs(app)
    (message,) = twilio_api.messages
    assert message["To"] == CALLER
    assert "XXXXXX4321" in message["Body"] and "₹1,520.50" in message["Body"]
    assert "15-12-2026" in message["Body"]


def test_disconnected_account_hears_supply_is_restored_after_payment(app, client):
    with app.app_context():
        add_consumer(ACCOUNT, [CALLER], bills(), supply_status="disconnected")
        db.session.commit()
    root = follow(client, answer(client, menu(client), "1"))
    announced = follow(client, answer(client, root, "1"))
    assert "restored automatically" in said(announced)


def test_paid_up_account_hears_no_dues(app, client):
    with app.app_context():
        paid = {"paid_amount": Decimal("1520.50"), "paid_on": date(2026, 11, 20)}
        add_consumer(ACCOUNT, [CALLER], bills(**paid))
        db.session.commit()
    root = follow(client, answer(client, menu(client), "1"))
    text = said(follow(client, answer(client, root, "1")))
    assert "no amount due" in text
    assert "twentieth November" in text


def test_several_accounts_are_listed_by_their_last_digits(app, client):
    with app.app_context():
        add_consumer(ACCOUNT, [CALLER], bills())
        add_consumer(OTHER_ACCOUNT, [CALLER], [])
        db.session.commit()
    root = follow(client, answer(client, menu(client), "1"))
    text = said(root)
    assert "ending in four three two one, press one" in text
    assert "ending in eight seven six five, press two" in text
    chosen = follow(client, answer(client, root, "2"))
    assert "no bill on this account" in said(chosen)


def test_caller_with_no_linked_account_keys_the_number(app, client, consumer):
    root = follow(client, answer(client, menu(client, caller=STRANGER), "1", STRANGER), STRANGER)
    assert "not linked to any electricity account" in said(root)
    entry = follow(client, root, STRANGER)
    assert gather(entry).get("finishOnKey") == "#"
    assert "hash" in said(entry)
    with app.app_context():
        add_consumer("2000001111", [], bills())
        db.session.commit()
    found = answer(client, entry, "2000001111#", STRANGER)
    assert "/ivr/voice/bill" in redirect(found)
    assert "one thousand five hundred" in said(follow(client, found, STRANGER))


@pytest.mark.parametrize(
    ("keys", "heard"),
    [
        ("12345#", "has 10 digits"),  # too few
        ("123456789012345#", "has 10 digits"),  # too many
        ("12*45678901#", "has 10 digits"),  # garbage
        ("9999999999#", "could not find this BP number"),  # unknown
    ],
)
def test_bad_account_numbers_get_a_helpful_answer(client, consumer, keys, heard):
    entry = webhook(client, "/ivr/voice/account/enter?lang=en", caller=STRANGER)
    root = answer(client, entry, keys, STRANGER)
    assert heard.replace("10", "ten") in said(root) or heard in said(root)
    assert "/ivr/voice/account/enter" in redirect(root)


def test_account_linked_to_another_number_is_not_announced(client, consumer):
    entry = webhook(client, "/ivr/voice/account/enter?lang=en", caller=STRANGER)
    root = answer(client, entry, ACCOUNT + "#", STRANGER)
    assert "registered with a different mobile number" in said(root)
    assert "rupees" not in said(root)
    assert urlsplit(redirect(root)).path == "/ivr/voice/menu"
    # Nor by posting straight to the bill step with that account's id.
    with client.application.app_context():
        from ivr.accounts import account_by_number

        account_id = account_by_number(ACCOUNT).id
    direct = webhook(client, f"/ivr/voice/bill?lang=en&account={account_id}", caller=STRANGER)
    assert "rupees" not in said(direct)


def test_unknown_account_is_not_announced(client, consumer):
    root = webhook(client, "/ivr/voice/bill?lang=en&account=999999")
    assert "could not find this BP number" in said(root)
    assert urlsplit(redirect(root)).path == "/ivr/voice/menu"


def account_id(app) -> int:
    with app.app_context():
        from ivr.accounts import account_by_number

        return account_by_number(ACCOUNT).id


def test_bill_step_opens_no_database_session(app, client, consumer):
    # Its one query runs on a pooled connection: no Session to set up and tear down.
    opened = []
    app.teardown_request(lambda _error: opened.append(db.session.registry.has()))
    root = webhook(client, f"/ivr/voice/bill?lang=en&account={account_id(app)}")
    assert "one thousand five hundred and twenty rupees" in said(root)
    assert opened == [False]


def test_bill_plays_rendered_clips_and_hears_of_a_re_render(app, client, consumer, tmp_path):
    render_stand_ins(tmp_path / "prompts", "en")
    path = f"/ivr/voice/bill?lang=en&account={account_id(app)}"
    root = webhook(client, path)
    assert not root.findall("Say")
    plays = [play.text for play in root.findall("Play")]
    with app.test_request_context():
        audio = [
            PUBLIC_BASE_URL + url_for("voice.audio", filename=f"en/{item}.wav", v="f" * 12)
            for item in ("bill_amount_due.1", "num/1", "word/thousand", "num/5")
        ]
        assert plays[:4] == audio
        assert redirect(root) == url_for("voice.bill_options", lang="en", account=account_id(app))

    # `flask prompts build` again: the next call plays the new versions.
    render_stand_ins(tmp_path / "prompts", "en", sha256="e" * 64)
    again = [play.text for play in webhook(client, path).findall("Play")]
    assert again == [url.replace("v=" + "f" * 12, "v=" + "e" * 12) for url in plays]
    assert all(query(url)["v"] == ["e" * 12] for url in again)


@pytest.mark.parametrize("kind", ["bill", "application"])
def test_silence_after_an_answer_offers_the_options_once_more_then_says_goodbye(
    app, client, consumer, kind
):
    if kind == "bill":
        heard = webhook(client, f"/ivr/voice/bill?lang=en&account={account_id(app)}")
    else:
        add_application(app, "inspection")
        entry = webhook(client, "/ivr/voice/application/enter?lang=en")
        heard = follow(client, answer(client, entry, "2026123#"))
    options = follow(client, heard)
    assert "press 9" in said(options)

    again = follow(client, answer(client, options, None))
    assert "press 9" in said(again)
    assert "not pressed" not in said(again)

    end = answer(client, again, None)
    assert "Thank you for calling" in said(end)
    assert end.find("Hangup") is not None
    assert "not pressed" not in said(end) and "could not understand" not in said(end)


def test_a_wrong_key_after_an_answer_is_still_corrected(app, client, consumer):
    heard = webhook(client, f"/ivr/voice/bill?lang=en&account={account_id(app)}")
    root = answer(client, follow(client, heard), "7")
    assert "not a valid option" in said(root)


def test_step_urls_are_the_ones_url_for_builds(app):
    cases = [
        ("voice.menu", {"lang": "hi"}),
        ("voice.menu_answer", {"lang": "en", "attempt": 2}),
        ("voice.bill_options", {"lang": "en", "account": 12, "attempt": None}),
        ("voice.application", {"application": 5}),
        ("voice.voice", {}),
        ("voice.account_enter", {"lang": "a b&c/é?", "attempt": "1;2"}),
    ]
    # The app mounted at the root, then under a prefix: paths built for one are not reused.
    for script_root in ("", "/sampark", ""):
        with app.test_request_context(base_url=f"http://localhost{script_root}"):
            for endpoint, args in cases:
                expected = url_for(endpoint, **{k: v for k, v in args.items() if v is not None})
                assert voice._url(endpoint, **args) == expected
                assert expected.startswith(f"{script_root}/ivr/voice")


# ------------------------------------------------------------------ application


def add_application(app, status: str, phone: str = CALLER, demand: str | None = None) -> None:
    with app.app_context():
        db.session.add(
            Application(
                number="NC-2026-000123",
                service="new_connection",
                status=status,
                phone=phone,
                demand_total=Decimal(demand) if demand else None,
            )
        )
        db.session.commit()


def test_application_status_and_demand_amount(app, client, twilio_api):
    add_application(app, "demand_issued", demand="120304.50")
    entry = follow(client, answer(client, menu(client), "2"))
    assert "2026000123" not in said(entry) and "four digits of the year" in said(entry)
    found = answer(client, entry, "2026000123#")
    text = said(follow(client, found))
    assert "one lakh twenty thousand three hundred and four rupees and fifty paise" in text
    assert "Please pay the demand amount" in text

    options = webhook(client, redirect(follow(client, found)))
    answer(client, options, "1")
    run_jobs(app)
    (message,) = twilio_api.messages
    assert "NC-2026-000123" in message["Body"] and "₹1,20,304.50" in message["Body"]


def test_application_in_hindi(app, client):
    add_application(app, "inspection")
    entry = webhook(client, "/ivr/voice/application/enter?lang=hi")
    text = said(follow(client, answer(client, entry, "2026000123#")))
    assert "जगह की जाँच" in text


@pytest.mark.parametrize("keys", ["2026123#", "20260123#", "2026000123#"])
def test_application_numbers_are_found_without_their_leading_zeros(app, client, keys):
    add_application(app, "inspection")
    entry = webhook(client, "/ivr/voice/application/enter?lang=en")
    assert "leave out the zeros" in said(entry)
    text = said(follow(client, answer(client, entry, keys)))
    assert "checking the site" in text


@pytest.mark.parametrize(
    ("keys", "heard"),
    [
        ("123#", "could not find this application"),
        ("2026999999#", "could not find"),
        # Zeros beyond the printed six digits name no number ever issued.
        ("20260000123#", "could not find"),
        ("20260#", "could not find"),
    ],
)
def test_unknown_application_numbers_reprompt(app, client, keys, heard):
    add_application(app, "submitted")
    entry = webhook(client, "/ivr/voice/application/enter?lang=en")
    root = answer(client, entry, keys)
    assert heard in said(root)
    assert "/ivr/voice/application/enter" in redirect(root)


def test_someone_elses_application_is_not_announced(app, client):
    add_application(app, "demand_issued", phone=STRANGER, demand="5000")
    entry = webhook(client, "/ivr/voice/application/enter?lang=en")
    root = answer(client, entry, "2026000123#")
    assert "made from a different mobile number" in said(root)
    assert "rupees" not in said(root)


# ------------------------------------------------------------------ callback, operator, fault


def slot_question(client, lang: str = "en") -> ET.Element:
    """Press 0 for a person; nobody answers at the call centre; 1 for a callback: "when?"."""
    dialled = follow(client, answer(client, menu(client, lang), "0"))
    dial = dialled.find("Dial")
    unanswered = webhook(client, dial.get("action"), DialCallStatus="no-answer")
    return follow(client, answer(client, unanswered, "1"))


def ask_for_a_callback(client, slot: str = "0") -> ET.Element:
    """Ask for a callback as a caller does, and choose ``slot`` (0: the soonest)."""
    return answer(client, slot_question(client), slot)


def test_callback_joins_the_missed_call_queue(app, client, twilio_api):
    root = ask_for_a_callback(client)
    assert "call back request has been registered" in said(root)
    assert root.find("Hangup") is not None
    ask_for_a_callback(client)  # asking twice joins the same callback
    with app.app_context():
        (callback,) = db.session.scalars(select(Callback)).all()
        assert (callback.phone, callback.status, callback.language) == (CALLER, "pending", "en")
    run_jobs(app)
    (message,) = twilio_api.messages
    assert "call back request" in message["Body"]


def only_callback(app) -> Callback:
    with app.app_context():
        (callback,) = db.session.scalars(select(Callback)).all()
        return callback


def test_callback_asks_for_a_slot_and_the_queue_gets_its_start(app, client, twilio_api):
    ask = slot_question(client)
    offered = said(ask)
    offers = ("morning, press 1", "afternoon, press 2", "evening, press 3", "possible, press 0")
    for words in offers:
        assert words in offered, words
    assert "/ivr/voice/callback/slot/answer" in gather(ask).get("action")
    before = utcnow()
    root = answer(client, ask, "3")
    after = utcnow()
    assert "will call you on this number in the evening" in said(root)
    assert root.find("Hangup") is not None
    callback = only_callback(app)
    assert (callback.phone, callback.slot, callback.language) == (CALLER, "evening", "en")
    with app.app_context():
        slots = callback_slots()
        assert slots.next_start("evening", before) <= callback.due_at
        assert callback.due_at <= slots.next_start("evening", after)
    run_jobs(app)
    (message,) = twilio_api.messages
    assert "in the evening, between 16:00 and 21:00" in message["Body"]


def test_hindi_caller_hears_the_slot_chosen(app, client):
    ask = slot_question(client, "hi")
    assert "सुबह कॉल के लिए 1 दबाएँ" in said(ask)
    root = answer(client, ask, "1")
    assert "आपको सुबह इसी नंबर पर कॉल करेंगे" in said(root)
    assert only_callback(app).slot == "morning"


@pytest.mark.parametrize("keys", ["0", "#"])
def test_zero_or_hash_asks_for_the_soonest_time(app, client, keys):
    root = answer(client, webhook(client, "/ivr/voice/callback?lang=en"), keys)
    assert "operator will call you on this number shortly" in said(root)
    callback = only_callback(app)
    assert callback.slot is None and callback.due_at <= utcnow()


def test_a_wrong_key_then_silence_still_registers_the_callback(app, client):
    ask = webhook(client, "/ivr/voice/callback?lang=en")
    wrong = answer(client, ask, "7")
    assert "not a valid option" in said(wrong)
    with app.app_context():
        assert db.session.scalars(select(Callback)).all() == []
    again = follow(client, wrong)
    assert "morning, press 1" in said(again)
    root = answer(client, again, None)  # silence on the last try: the soonest time
    assert "call back request has been registered" in said(root)
    assert only_callback(app).slot is None


def test_silence_twice_registers_the_soonest_and_nine_repeats(app, client):
    ask = webhook(client, "/ivr/voice/callback?lang=en")
    repeated = follow(client, answer(client, ask, "9"))
    assert said(repeated) == said(ask)
    quiet = answer(client, repeated, None)
    assert "You have not pressed any key" in said(quiet)
    root = answer(client, follow(client, quiet), None)
    assert "call back request has been registered" in said(root)
    assert only_callback(app).slot is None


def test_a_slot_chosen_in_the_ivr_moves_the_open_callback(app, client):
    missed_call(client, CALLER)
    opened = only_callback(app)
    root = answer(client, webhook(client, "/ivr/voice/callback?lang=en"), "2")
    assert "in the afternoon" in said(root)
    moved = only_callback(app)
    assert (moved.id, moved.slot) == (opened.id, "afternoon")
    with app.app_context():
        assert moved.due_at == callback_slots().next_start("afternoon", moved.due_at)


def test_withheld_number_cannot_get_a_callback(client):
    root = webhook(client, "/ivr/voice/callback?lang=en", caller="anonymous")
    assert "your number is hidden" in said(root)


def test_operator_is_dialled_inside_calling_hours(client):
    root = follow(client, answer(client, menu(client), "0"))
    dial = root.find("Dial")
    assert dial is not None and dial.findtext("Number") == CALL_CENTRE
    assert "connect you to an operator" in said(root)
    unanswered = webhook(client, dial.get("action"), DialCallStatus="no-answer")
    assert "press 1" in said(unanswered)


def test_operator_outside_calling_hours_offers_a_callback(make_app, tmp_path):
    closed = make_app(
        VOICE_PROMPTS_DIR=str(tmp_path),
        CALL_CENTRE_NUMBER=CALL_CENTRE,
        CALLING_HOURS="00:00-00:00:01",
    )
    client = closed.test_client()
    root = webhook(client, "/ivr/voice/operator?lang=en")
    assert root.find("Dial") is None
    assert "not available at this time" in said(root)
    assert "call back" in said(follow(client, answer(client, root, "1")))


def test_without_a_call_centre_line_zero_offers_the_callback(make_app, tmp_path):
    no_line = make_app(VOICE_PROMPTS_DIR=str(tmp_path))
    client = no_line.test_client()
    root = follow(client, answer(client, menu(client), "0"))
    assert root.find("Dial") is None
    assert said(root) == "To have an operator call you back on this number, press 1."
    assert "/ivr/voice/callback/offer/answer" in gather(root).get("action")
    when = follow(client, answer(client, root, "1"))
    assert "choose when we should call you back" in said(when)
    registered = answer(client, when, "0")
    assert "call back request has been registered" in said(registered)
    with no_line.app_context():
        assert db.session.scalars(select(Callback.phone)).all() == [CALLER]


@pytest.mark.parametrize("key", ["3", "4"])
def test_three_and_the_old_four_lead_to_the_fault_step_which_offers_a_person(client, key):
    # 3 was "call back" in the seven-option menu: a caller who learnt it hears the fault
    # question, which names 0 for a person; 4 (the old fault key) still works, unannounced.
    confirm = follow(client, answer(client, menu(client), key))
    assert "To report that your power is off, press 1" in said(confirm)
    assert "To talk to us, press 0" in said(confirm)
    person = follow(client, answer(client, confirm, "0"))
    assert person.find("Dial") is not None


def test_fault_is_recorded_and_its_reference_sent_by_sms(app, client, consumer, twilio_api):
    confirm = follow(client, answer(client, menu(client), "3"))
    assert "power is off" in said(confirm)
    root = answer(client, confirm, "1")
    with app.app_context():
        (fault,) = db.session.scalars(select(SupplyFault)).all()
        reference = fault.reference
        assert fault.phone == CALLER and fault.account_id is not None
    assert " ".join(reference) not in said(root)  # digits are spoken as words
    assert "complaint number is" in said(root)
    run_jobs(app)
    (message,) = twilio_api.messages
    assert reference in message["Body"]
    # Reporting again the same evening gives the same reference and no second SMS.
    again = answer(client, webhook(client, "/ivr/voice/fault?lang=en"), "1")
    assert said(again) == said(root)
    run_jobs(app)
    assert len(twilio_api.messages) == 1
    with app.app_context():
        assert len(db.session.scalars(select(OutboundMessage)).all()) == 1


# ------------------------------------------------------------------ audio


def test_prompt_audio_is_served_cacheable(app, client, tmp_path):
    directory = tmp_path / "prompts" / "hi"
    directory.mkdir(parents=True)
    (directory / "goodbye.wav").write_bytes(b"RIFF....WAVE")
    response = client.get("/ivr/audio/hi/goodbye.wav?v=abc123")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert client.get("/ivr/audio/../secret.wav").status_code == 404
    assert client.get("/ivr/audio/hi/missing.wav").status_code == 404
    assert client.get("/ivr/audio/manifest.json").status_code == 404


def test_blocked_number_is_screened_like_a_missed_call(app, client):
    with app.app_context():
        db.session.add(BlockedNumber(phone=CALLER, reason="abuse"))
        db.session.commit()
    root = answer(client, webhook(client, "/ivr/voice/callback?lang=en"), "0")
    assert "could not register your call back request" in said(root)
    with app.app_context():
        assert db.session.scalars(select(Callback)).all() == []


def test_many_accounts_list_eight_and_offer_another_number(app, client):
    with app.app_context():
        for n in range(10):
            add_consumer(f"30000000{n:02d}", [CALLER], [])
        db.session.commit()
    root = follow(client, answer(client, menu(client), "1"))
    assert said(root).count("ending in") == 8
    assert "To key in another BP number, press 0" in said(root)
    assert "/ivr/voice/account/enter" in redirect(answer(client, root, "0"))


def test_language_step_gives_up_after_the_last_try(client):
    root = webhook(client, "/ivr/voice")
    for _ in range(3):
        root = answer(client, root, "5")
        assert "ग़लत बटन" in said(root)
        root = follow(client, root)
    # After three wrong keys the caller hears the callback offer, not a fourth question.
    assert "कॉल बैक पाने के लिए 1 दबाएँ" in said(root)
    assert "/ivr/voice/callback/offer/answer" in gather(root).get("action")
