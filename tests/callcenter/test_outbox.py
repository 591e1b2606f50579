"""The outbox page: outgoing SMS for supervisors."""

from __future__ import annotations

from core.extensions import db
from core.models import MessageStatus, OutboundMessage


def test_the_outbox_lists_messages_newest_first_with_numbers_masked(app, supervisor):
    with app.app_context():
        db.session.add_all(
            [
                OutboundMessage(
                    recipient="+919811111111",
                    template="missed_call_ack",
                    language="hi",
                    body="हमें आपकी मिस्ड कॉल मिली।",
                    status=MessageStatus.SENT,
                    provider="outbox",
                ),
                OutboundMessage(
                    recipient="+919822222222",
                    template="demand_note",
                    language="en",
                    body="Application NC-2026-000123: pay Rs 2,350.",
                    status=MessageStatus.QUEUED,
                ),
            ]
        )
        db.session.commit()

    text = supervisor.get("/console/outbox").get_data(as_text=True)

    assert "+91******1111" in text and "+91******2222" in text
    assert "9811111111" not in text
    assert "हमें आपकी मिस्ड कॉल मिली।" in text
    assert "<td>outbox</td>" in text and "<td>sent</td>" in text and "<td>queued</td>" in text
    assert text.index("NC-2026-000123") < text.index("मिस्ड कॉल")  # newest first


def test_the_outbox_is_empty_at_first(supervisor):
    assert "No message yet." in supervisor.get("/console/outbox").get_data(as_text=True)


def test_supervisor_pages_are_in_the_menu_only_for_supervisors(operator, supervisor):
    menu = supervisor.get("/console/").get_data(as_text=True)
    assert 'href="/console/outbox"' in menu and 'href="/console/dashboard/"' in menu
    assert 'href="/console/outbox"' not in operator.get("/console/").get_data(as_text=True)
