"""What a caller hears and an operator sees while a meter awaits reconnection."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.callcenter.conftest import create_user, login, make_callback
from tests.conftest import run_jobs
from tests.ivr.test_voice import answer, follow, menu, said
from tests.meters.conftest import ACCOUNT, CALLER, add_meter_consumer, clear_dues

PAID_AT = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)


def bill_step_says(client) -> str:
    root = follow(client, answer(client, menu(client), "1"))
    return said(follow(client, answer(client, root, "1")))


def test_a_caller_awaiting_reconnection_hears_it_is_on_its_way(app, head_end_api):
    account_id = add_meter_consumer(app)
    client = app.test_client()
    assert "being reconnected" not in bill_step_says(client)
    clear_dues(app, account_id, PAID_AT)
    heard = bill_step_says(client)
    assert "Your power supply is being reconnected" in heard
    run_jobs(app)  # reconnected: nothing more to announce
    assert "being reconnected" not in bill_step_says(client)


def test_a_caller_hears_it_in_hindi_too(app, head_end_api):
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    client = app.test_client()
    root = follow(client, answer(client, menu(client, lang="hi"), "1"))
    assert "बिजली फिर से चालू की जा रही है" in said(follow(client, answer(client, root, "1")))


def test_the_callback_page_shows_the_reconnection(app, head_end_api):
    head_end_api.unknown_meters.add("SM000004321")
    account_id = add_meter_consumer(app)
    clear_dues(app, account_id, PAID_AT)
    callback_id = make_callback(app, CALLER)
    create_user(app, "sunil", role="supervisor")
    client = app.test_client()
    login(client, "sunil")
    page = client.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)
    assert ACCOUNT in page and "smart meter" in page
    assert "Reconnection after the payment of" in page and ": waiting" in page
    run_jobs(app)
    page = client.get(f"/console/callbacks/{callback_id}").get_data(as_text=True)
    assert 'class="reconnection reconnection-failed"' in page
    assert "knows no meter" in page
