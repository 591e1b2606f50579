"""Application forms: new connection and the other services, and what they cost.

This package owns the forms an operator fills in on a consumer's behalf during a call
(new connection, name transfer, faulty-meter replacement, disconnection, failed-transformer
complaint, load change, category change), their validation with messages in Hindi and
English, the application numbers (NC-2026-000123), and the schedule of charges that prices
a new connection's demand note. It holds no database models: forms hand back JSON-safe
records (:meth:`BilingualForm.to_record`) in which an Aadhaar number is only ever masked.

Configuration lives in TOML beside the code (``discoms.toml``, ``districts.toml``,
``documents.toml``, ``charges.toml``, ``messages.toml``) and app config keys can replace it:
``DISCOM``, ``DISCOMS_FILE``, ``DISTRICTS``, ``DISTRICTS_FILE``, ``IDENTITY_DOCUMENTS_FILE``,
``CHARGES_FILE``, ``FORM_LANGUAGE``.
"""

from __future__ import annotations

from forms.base import BilingualForm
from forms.new_connection import NewConnectionForm
from forms.numbers import ApplicationNumber, format_application_number, parse_application_number
from forms.pricing import DemandItem, DemandNote, load_schedule, price_new_connection
from forms.registry import SERVICES, ServiceSpec, get_service, service_for_prefix
from forms.service_forms import (
    CategoryChangeForm,
    DisconnectionForm,
    ExistingConnectionForm,
    LoadChangeForm,
    MeterReplacementForm,
    NameTransferForm,
    TransformerComplaintForm,
)

__all__ = [
    "SERVICES",
    "ApplicationNumber",
    "BilingualForm",
    "CategoryChangeForm",
    "DemandItem",
    "DemandNote",
    "DisconnectionForm",
    "ExistingConnectionForm",
    "LoadChangeForm",
    "MeterReplacementForm",
    "NameTransferForm",
    "NewConnectionForm",
    "ServiceSpec",
    "TransformerComplaintForm",
    "format_application_number",
    "get_service",
    "load_schedule",
    "parse_application_number",
    "price_new_connection",
    "service_for_prefix",
]
