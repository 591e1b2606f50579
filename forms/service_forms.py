"""Applications for an existing connection: the Bihar portal's services and Rajasthan's list.

Every one of them names the connection by its account number, in the configured DISCOM's
format, and gives the consumer's mobile for the SMS that follows.
"""

from __future__ import annotations

from forms.base import BilingualForm
from forms.fields import (
    DETAILS_LENGTH,
    PLACE_LENGTH,
    account_number_field,
    category_field,
    code_field,
    district_field,
    identity_document_fields,
    load_field,
    mobile_field,
    months_field,
    name_field,
    preferred_language_field,
    select_field,
    supply_phase_field,
    text_field,
)

TRANSFER_REASONS = ("sale", "inheritance", "family_transfer", "other")
METER_FAULTS = ("stopped", "burnt", "display_blank", "running_fast", "damaged", "other")
DISCONNECTION_TYPES = ("permanent", "temporary")
DISCONNECTION_REASONS = (
    "premises_vacant",
    "premises_demolished",
    "not_needed",
    "seasonal",
    "other",
)
LOAD_CHANGE_TYPES = ("increase", "decrease")
LOCATION_LENGTH = (3, 200)


def _max_temporary_months(form: BilingualForm) -> int:
    return form.profile.temporary_disconnection_max_months


class ExistingConnectionForm(BilingualForm):
    """Fields shared by every application about an existing connection."""

    account_number = account_number_field()
    applicant_name = name_field()
    mobile = mobile_field()
    preferred_language = preferred_language_field()


class NameTransferForm(ExistingConnectionForm):
    """Move a connection to a new owner's name; the applicant is the new owner."""

    service_code = "name_transfer"

    current_consumer_name = name_field()
    father_or_husband_name = name_field()
    transfer_reason = select_field("transfer_reason", TRANSFER_REASONS)
    reason_details = text_field(DETAILS_LENGTH, required=False)
    id_document_type, id_number = identity_document_fields()

    def check_cross_fields(self) -> None:
        """Check the new owner's ID number and the details of an "other" reason."""
        self.check_identity_number(self.id_document_type, self.id_number)
        self.check_details_for_other(self.transfer_reason, self.reason_details)


class MeterReplacementForm(ExistingConnectionForm):
    """Report a faulty meter for replacement."""

    service_code = "meter_replacement"

    meter_fault = select_field("meter_fault", METER_FAULTS)
    meter_number = code_field()
    fault_details = text_field(DETAILS_LENGTH, required=False)

    def check_cross_fields(self) -> None:
        """Require details when the fault is "other"."""
        self.check_details_for_other(self.meter_fault, self.fault_details)


class DisconnectionForm(ExistingConnectionForm):
    """Ask for a permanent or temporary disconnection."""

    service_code = "disconnection"

    disconnection_type = select_field("disconnection_type", DISCONNECTION_TYPES)
    disconnection_reason = select_field("disconnection_reason", DISCONNECTION_REASONS)
    reason_details = text_field(DETAILS_LENGTH, required=False)
    duration_months = months_field(_max_temporary_months)

    def check_cross_fields(self) -> None:
        """Require a period for a temporary disconnection and details for "other"."""
        self.check_details_for_other(self.disconnection_reason, self.reason_details)
        if self.disconnection_type.errors or self.duration_months.errors:
            return
        if self.disconnection_type.data == "temporary" and self.duration_months.data is None:
            self.add_error(
                self.duration_months,
                "disconnection.duration_required",
                max=_max_temporary_months(self),
            )
        elif self.disconnection_type.data == "permanent":
            # A period typed before switching to "permanent" means nothing; do not store it.
            self.duration_months.data = None


class TransformerComplaintForm(ExistingConnectionForm):
    """Report a failed distribution transformer."""

    service_code = "transformer"

    location = text_field(LOCATION_LENGTH)
    village_town = text_field(PLACE_LENGTH)
    district = district_field()
    transformer_id = code_field()


class LoadChangeForm(ExistingConnectionForm):
    """Ask to raise or lower the sanctioned load."""

    service_code = "load_change"

    change_type = select_field("change_type", LOAD_CHANGE_TYPES)
    category = category_field()
    current_load_kw = load_field()
    requested_load_kw = load_field()
    supply_phase = supply_phase_field()

    def check_cross_fields(self) -> None:
        """Check both loads fit the category, the direction of change, and the phase."""
        self.check_load_for_category(self.category, self.current_load_kw)
        self.check_load_for_category(self.category, self.requested_load_kw)
        self.check_phase_for_load(self.supply_phase, self.requested_load_kw)
        if not self.usable(self.change_type, self.current_load_kw, self.requested_load_kw):
            return
        current, requested = self.current_load_kw.data, self.requested_load_kw.data
        if self.change_type.data == "increase" and requested <= current:
            self.add_error(self.requested_load_kw, "load_change.not_increase")
        elif self.change_type.data == "decrease" and requested >= current:
            self.add_error(self.requested_load_kw, "load_change.not_decrease")


class CategoryChangeForm(ExistingConnectionForm):
    """Ask to move a connection to another consumer category."""

    service_code = "category_change"

    current_category = category_field()
    requested_category = category_field()
    connected_load_kw = load_field()
    purpose = text_field(DETAILS_LENGTH)

    def check_cross_fields(self) -> None:
        """Check the categories differ and the load fits the requested one."""
        if self.usable(self.current_category, self.requested_category) and (
            self.current_category.data == self.requested_category.data
        ):
            self.add_error(self.requested_category, "category_change.same")
        self.check_load_for_category(self.requested_category, self.connected_load_kw)
