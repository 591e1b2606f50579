"""The console's words for the codes kept in records: statuses, outcomes, kinds, audit entries.

One table per kind of code, each label a ``lazy_gettext`` (looked up in the page's
language when shown, from the same catalogue as every other console string). Templates
use the ``words`` filter (``{{ callback.status|words('callback_status') }}``); a code a
table does not know is shown as it is, so a status added later is never hidden.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from callcenter import dispositions, floor
from connections import stages
from core.callback_slots import AFTERNOON, EVENING, MORNING
from core.models import CallbackStatus, MissedCallOutcome, Role
from core.models.applications import ApplicationStatus
from core.models.attempts import AttemptOutcome, AttemptStatus
from core.models.calls import MessageStatus
from core.models.campaigns import CampaignCallStatus, CampaignKind
from core.models.console import AuditEvent
from core.models.meters import MeterKind, OrderStatus
from core.models.outages import OutageKind, OutageState
from core.models.payments import LinkStatus, PaymentOutcome
from forms import SERVICES
from outages.spoken import REASONS

WORDS: dict[str, dict[str, Any]] = {
    "callback_status": {
        CallbackStatus.PENDING: _l("Waiting"),
        CallbackStatus.CLAIMED: _l("Taken"),
        CallbackStatus.CALLING: _l("Calling"),
        CallbackStatus.DONE: _l("Done"),
        CallbackStatus.EXPIRED: _l("Expired"),
        CallbackStatus.UNREACHABLE: _l("Not reached"),
    },
    "application_status": {
        ApplicationStatus.DRAFT: _l("Draft"),
        ApplicationStatus.SUBMITTED: _l("Submitted"),
        ApplicationStatus.INSPECTION: _l("Inspection"),
        ApplicationStatus.DEMAND_ISSUED: _l("Demand note issued"),
        ApplicationStatus.PAID: _l("Paid"),
        ApplicationStatus.SITE_INSPECTED: _l("Site inspected"),
        ApplicationStatus.METER_ALLOTTED: _l("Meter allotted"),
        ApplicationStatus.METER_INSTALLED: _l("Meter installed"),
        ApplicationStatus.CONNECTED: _l("Energised"),
        ApplicationStatus.REJECTED: _l("Rejected"),
    },
    "callback_slot": {
        MORNING: _l("Morning"),
        AFTERNOON: _l("Afternoon"),
        EVENING: _l("Evening"),
    },
    "stage": stages.LABELS,
    "disposition": dispositions.LABELS,
    "operator_state": floor.STATE_LABELS,
    "role": {
        Role.OPERATOR: _l("operator"),
        Role.SUPERVISOR: _l("supervisor"),
        Role.ADMIN: _l("admin"),
        Role.FIELD_ENGINEER: _l("field engineer"),
    },
    "link_status": {
        LinkStatus.PENDING: _l("being made"),
        LinkStatus.CREATED: _l("sent"),
        LinkStatus.UNAVAILABLE: _l("not available"),
        LinkStatus.PAID: _l("paid"),
        LinkStatus.PARTIALLY_PAID: _l("partly paid"),
        LinkStatus.EXPIRED: _l("expired"),
    },
    "payment_outcome": {
        PaymentOutcome.PAID: _l("Paid in full"),
        PaymentOutcome.PART: _l("Part payment"),
        PaymentOutcome.PARTIAL: _l("Less than the demand"),
        PaymentOutcome.WRONG_AMOUNT: _l("More than the demand"),
        PaymentOutcome.ALREADY_PAID: _l("Demand already paid"),
        PaymentOutcome.NO_DEMAND: _l("Nothing to pay"),
    },
    "outage_kind": {
        OutageKind.PLANNED: _l("Planned"),
        OutageKind.UNPLANNED: _l("Unplanned"),
    },
    "outage_state": {
        OutageState.ANNOUNCED: _l("Announced"),
        OutageState.RESTORED: _l("Restored"),
        OutageState.CANCELLED: _l("Cancelled"),
    },
    "attempt_status": {
        AttemptStatus.CREATED: _l("recorded"),
        AttemptStatus.PLACING: _l("placing"),
        AttemptStatus.UNKNOWN: _l("unknown"),
        AttemptStatus.QUEUED: _l("queued"),
        AttemptStatus.INITIATED: _l("started"),
        AttemptStatus.RINGING: _l("ringing"),
        AttemptStatus.IN_PROGRESS: _l("in progress"),
        AttemptStatus.COMPLETED: _l("completed"),
        AttemptStatus.BUSY: _l("busy"),
        AttemptStatus.NO_ANSWER: _l("no answer"),
        "failed": _l("failed"),
        "canceled": _l("cancelled"),
    },
    "attempt_outcome": {
        AttemptOutcome.ANSWERED: _l("answered"),
        AttemptOutcome.UNANSWERED: _l("not answered"),
        AttemptOutcome.OPERATOR_UNREACHED: _l("operator did not answer"),
        AttemptOutcome.NOT_PLACED: _l("not placed"),
    },
    "missed_call_outcome": {
        MissedCallOutcome.QUEUED: _l("callback opened"),
        MissedCallOutcome.MERGED: _l("added to the open callback"),
        MissedCallOutcome.WITHHELD: _l("number withheld"),
        MissedCallOutcome.INVALID: _l("not a usable number"),
        MissedCallOutcome.NOT_ALLOWED: _l("number from another country"),
        MissedCallOutcome.BLOCKED: _l("blocked"),
        MissedCallOutcome.RATE_LIMITED: _l("too many missed calls"),
    },
    "message_status": {
        MessageStatus.QUEUED: _l("queued"),
        MessageStatus.SENDING: _l("sending"),
        MessageStatus.SENT: _l("sent"),
        MessageStatus.DELIVERED: _l("delivered"),
        MessageStatus.UNDELIVERED: _l("not delivered"),
        MessageStatus.FAILED: _l("failed"),
        MessageStatus.UNKNOWN: _l("unknown"),
    },
    "order_status": {
        OrderStatus.WAITING: _l("waiting"),
        OrderStatus.COMMANDED: _l("command sent"),
        OrderStatus.CONNECTED: _l("connected"),
        OrderStatus.ARMED: _l("armed: the consumer presses the meter's button"),
        OrderStatus.FAILED: _l("failed"),
    },
    "meter_kind": {
        MeterKind.POSTPAID: _l("postpaid"),
        MeterKind.PREPAID: _l("prepaid meter"),
        MeterKind.SMART: _l("smart meter"),
    },
    "campaign_kind": {
        CampaignKind.OVERDUE_BILLS: _l("Overdue bills"),
        CampaignKind.UNPAID_DEMAND: _l("Unpaid demand notes"),
    },
    "campaign_state": {
        "running": _l("running"),
        "paused": _l("paused"),
        "cancelled": _l("cancelled"),
        "finished": _l("finished"),
    },
    "campaign_call_status": {
        CampaignCallStatus.QUEUED: _l("Queued"),
        CampaignCallStatus.CALLING: _l("Calling"),
        CampaignCallStatus.ANSWERED: _l("Answered"),
        CampaignCallStatus.RETRYING: _l("Retrying"),
        CampaignCallStatus.MACHINE: _l("Machine"),
        CampaignCallStatus.DONE: _l("Heard"),
        CampaignCallStatus.FAILED: _l("Failed"),
        CampaignCallStatus.UNKNOWN: _l("Unknown"),
        CampaignCallStatus.PAUSED: _l("Paused"),
        CampaignCallStatus.CANCELLED: _l("Cancelled"),
    },
    "language": {
        "hi": _l("Hindi"),
        "en": _l("English"),
        "bho": _l("Bhojpuri"),
        "mai": _l("Maithili"),
        "mag": _l("Magahi"),
        "raj": _l("Rajasthani"),
        "ur": _l("Urdu"),
    },
    "category": {
        "domestic": _l("domestic"),
        "non_domestic": _l("non-domestic"),
        "agricultural": _l("agricultural"),
        "industrial": _l("industrial"),
    },
    "area_type": {
        "urban": _l("urban"),
        "rural": _l("rural"),
    },
    "area_class": {
        "urban": _l("urban"),
        "rural": _l("rural"),
        "metro": _l("metro"),
        "municipal": _l("municipal"),
        "hilly_rural": _l("hilly rural"),
    },
    "clock_start": {
        "payment": _l("payment"),
        "submission": _l("submission"),
        "demand": _l("demand note"),
    },
    "supply_status": {
        "active": _l("supply on"),
        "disconnected": _l("disconnected"),
    },
    "audit_action": {
        "claim": _l("Taken"),
        "release": _l("Given back to the queue"),
        "claim_timeout": _l("Given back to the queue: not worked in time"),
        "disposition": _l("Outcome recorded"),
        "call_started": _l("Call started"),
        "call_not_queued": _l("Call could not be queued"),
        "call_unknown": _l("Call state unknown"),
        "call_unreachable": _l("Consumer not reached"),
        "call_retry": _l("Call to be tried again"),
    },
    "audit_field": {
        "status": _l("status"),
        "claimed_by_id": _l("taken by"),
        "disposition": _l("outcome"),
        "due_at": _l("due"),
        "required_language": _l("language needed"),
        "callback_later_at": _l("call back at"),
        "attempts": _l("attempts"),
    },
}
"""Each kind of code and its words."""

AUDIT_VALUE_KINDS = {
    "status": "callback_status",
    "disposition": "disposition",
    "required_language": "language",
}
"""Audit fields whose values are codes of a kind above."""

AUDIT_TIME_FIELDS = frozenset({"due_at", "callback_later_at"})
"""Audit fields whose values are times (stored as ISO text)."""


def words(code: Any, kind: str) -> Any:
    """Return the words for ``code`` of ``kind`` in the page's language (the code if unknown)."""
    if code is None or code == "":
        return ""
    return WORDS[kind].get(str(code), code)


def audit_lines(event: AuditEvent, names: dict[int, str]) -> list[str]:
    """Return an audit event as sentences: what was done and by whom, then each change.

    ``names`` maps user ids to names, so that "claimed_by_id: None → 1" reads "taken by:
    — → Asha Verma".
    """
    from callcenter.views import local_time

    what = words(event.action, "audit_action")
    if event.actor_id is None:
        headline = _("%(action)s (by the system)", action=what)
    else:
        who = names.get(event.actor_id) or _("user %(id)s", id=event.actor_id)
        headline = _("%(action)s by %(who)s", action=what, who=who)
    lines = [headline]
    for field, values in (event.changes or {}).items():
        old, new = (_audit_value(field, value, names, local_time) for value in values)
        label = words(field, "audit_field")
        lines.append(_("%(field)s: %(old)s → %(new)s", field=label, old=old, new=new))
    return lines


def _audit_value(field: str, value: Any, names: dict[int, str], local_time: Any) -> str:
    if value is None or value == "":
        return "—"
    if field == "claimed_by_id":
        return names.get(value) or _("user %(id)s", id=value)
    if field in AUDIT_VALUE_KINDS:
        return str(words(value, AUDIT_VALUE_KINDS[field]))
    if field in AUDIT_TIME_FIELDS and isinstance(value, str):
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def service_name(code: str) -> str:
    """Return a service's name (from the forms' registry) in the page's language."""
    from callcenter.language import console_language

    spec = SERVICES.get(code)
    return spec.name(console_language()) if spec else code


def outage_reason(code: str) -> str:
    """Return an outage reason (from the SMS's own bilingual list) in the page's language."""
    from callcenter.language import console_language

    reason = REASONS.get(code)
    return reason[console_language()] if reason else code


def init_app(app: Flask) -> None:
    """Offer templates the ``words`` and ``service_name`` filters and ``audit_lines``."""
    app.add_template_filter(words, "words")
    app.add_template_filter(service_name, "service_name")
    app.add_template_filter(outage_reason, "outage_reason")
    app.add_template_global(audit_lines, "audit_lines")
