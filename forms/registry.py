"""The services operators can apply for: code → form, names and application-number prefix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from forms.base import BilingualForm
from forms.exceptions import UnknownServiceError
from forms.new_connection import NewConnectionForm
from forms.service_forms import (
    CategoryChangeForm,
    DisconnectionForm,
    LoadChangeForm,
    MeterReplacementForm,
    NameTransferForm,
    TransformerComplaintForm,
)


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its form, its names and the prefix of its application numbers."""

    code: str
    prefix: str
    name_hi: str
    name_en: str
    form_class: type[BilingualForm]

    def name(self, lang: str) -> str:
        """Return the service's name in ``lang``."""
        return self.name_hi if lang == "hi" else self.name_en


_SERVICE_LIST = (
    ServiceSpec(
        code="new_connection",
        prefix="NC",
        name_hi="नया बिजली कनेक्शन",
        name_en="New connection",
        form_class=NewConnectionForm,
    ),
    ServiceSpec(
        code="name_transfer",
        prefix="NT",
        name_hi="नाम परिवर्तन",
        name_en="Name transfer",
        form_class=NameTransferForm,
    ),
    ServiceSpec(
        code="meter_replacement",
        prefix="MR",
        name_hi="ख़राब मीटर बदलना",
        name_en="Faulty meter replacement",
        form_class=MeterReplacementForm,
    ),
    ServiceSpec(
        code="disconnection",
        prefix="DC",
        name_hi="कनेक्शन विच्छेद",
        name_en="Disconnection",
        form_class=DisconnectionForm,
    ),
    ServiceSpec(
        code="transformer",
        prefix="TF",
        name_hi="जले / ख़राब ट्रांसफ़ॉर्मर की शिकायत",
        name_en="Failed transformer complaint",
        form_class=TransformerComplaintForm,
    ),
    ServiceSpec(
        code="load_change",
        prefix="LC",
        name_hi="भार परिवर्तन",
        name_en="Load change",
        form_class=LoadChangeForm,
    ),
    ServiceSpec(
        code="category_change",
        prefix="CC",
        name_hi="श्रेणी परिवर्तन",
        name_en="Category change",
        form_class=CategoryChangeForm,
    ),
)

SERVICES: Mapping[str, ServiceSpec] = MappingProxyType({spec.code: spec for spec in _SERVICE_LIST})
"""Every service by code, in the order the console lists them."""

PREFIXES: Mapping[str, ServiceSpec] = MappingProxyType(
    {spec.prefix: spec for spec in SERVICES.values()}
)
"""Every service by application-number prefix."""


def get_service(code: str) -> ServiceSpec:
    """Return the service registered under ``code``."""
    try:
        return SERVICES[code]
    except KeyError:
        raise UnknownServiceError(f"no service {code!r}; known: {', '.join(SERVICES)}") from None


def service_for_prefix(prefix: str) -> ServiceSpec:
    """Return the service whose application numbers start with ``prefix``."""
    try:
        return PREFIXES[prefix]
    except KeyError:
        raise UnknownServiceError(
            f"no service with prefix {prefix!r}; known: {', '.join(PREFIXES)}",
            msg_id="application_number.unknown_prefix",
            prefix=prefix,
            prefixes=", ".join(PREFIXES),
        ) from None
