"""The new-connection application an operator fills in while on the phone with a consumer."""

from __future__ import annotations

from forms.base import BilingualForm
from forms.fields import (
    ADDRESS_LENGTH,
    PLACE_LENGTH,
    account_number_field,
    area_type_field,
    category_field,
    code_field,
    district_field,
    identity_document_fields,
    load_field,
    mobile_field,
    name_field,
    pin_code_field,
    preferred_language_field,
    supply_phase_field,
    text_field,
)


class NewConnectionForm(BilingualForm):
    """Apply for a new electricity connection."""

    service_code = "new_connection"

    applicant_name = name_field()
    father_or_husband_name = name_field()
    mobile = mobile_field()
    alternate_mobile = mobile_field(required=False)
    address = text_field(ADDRESS_LENGTH)
    village_town = text_field(PLACE_LENGTH)
    block_tehsil = text_field(PLACE_LENGTH)
    district = district_field()
    pin_code = pin_code_field()
    area_type = area_type_field()
    category = category_field()
    connected_load_kw = load_field()
    supply_phase = supply_phase_field()
    id_document_type, id_number = identity_document_fields()
    # Either helps the lineman find the premises; neither is required.
    pole_number = code_field()
    neighbour_account_number = account_number_field(required=False)
    preferred_language = preferred_language_field()

    def check_cross_fields(self) -> None:
        """Check load against category and phase, the ID number, and the two mobiles."""
        self.check_load_for_category(self.category, self.connected_load_kw)
        self.check_phase_for_load(self.supply_phase, self.connected_load_kw)
        self.check_identity_number(self.id_document_type, self.id_number)
        if self.usable(self.mobile, self.alternate_mobile) and (
            self.mobile.data == self.alternate_mobile.data
        ):
            self.add_error(self.alternate_mobile, "mobile.same_as_primary")
