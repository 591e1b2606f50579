"""Fixtures for the forms tests: a minimal Flask app (not the project's) and valid answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.ctx import RequestContext
from stdnum import verhoeff

from forms.base import BilingualForm

# Built from its first eleven digits so the check digit is computed, not copied from a page.
AADHAAR_BODY = "49731234567"
AADHAAR_NUMBER = AADHAAR_BODY + verhoeff.calc_check_digit(AADHAAR_BODY)


@pytest.fixture
def form_app() -> Flask:
    """Return a bare Flask app with CSRF off, as the forms need nothing else."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-only", WTF_CSRF_ENABLED=False, TESTING=True)
    return app


@pytest.fixture
def submit(form_app: Flask) -> Iterator[Callable[..., BilingualForm]]:
    """Return a function that posts answers to a form, validates it and returns it.

    The request context stays pushed until the test ends, so the form can be rendered.
    """
    contexts: list[RequestContext] = []

    def _submit(
        form_class: type[BilingualForm], data: dict[str, Any], lang: str | None = "en"
    ) -> BilingualForm:
        context = form_app.test_request_context(method="POST", data=data)
        context.push()
        contexts.append(context)
        form = form_class(lang=lang)
        form.validate()
        return form

    yield _submit
    for context in reversed(contexts):
        context.pop()


@pytest.fixture
def aadhaar_number() -> str:
    """Return an Aadhaar number with a correct Verhoeff check digit."""
    return AADHAAR_NUMBER


@pytest.fixture
def new_connection_data(aadhaar_number: str) -> dict[str, str]:
    """Return answers that make a valid new-connection application in CSPDCL."""
    return {
        "applicant_name": "रामेश्वर प्रसाद साहू",
        "father_or_husband_name": "Shyam Lal Sahu",
        "mobile": "98765 43210",
        "alternate_mobile": "",
        "address": "Ward 5, near Hanuman Mandir",
        "village_town": "Abhanpur",
        "block_tehsil": "Abhanpur",
        "district": "Raipur",
        "pin_code": "493661",
        "area_type": "rural",
        "category": "domestic",
        "connected_load_kw": "3.5",
        "supply_phase": "single",
        "id_document_type": "aadhaar",
        "id_number": aadhaar_number,
        "pole_number": "",
        "neighbour_account_number": "",
        "preferred_language": "hi",
    }


@pytest.fixture
def existing_connection_data() -> dict[str, str]:
    """Return the answers every existing-connection service shares, valid in CSPDCL."""
    return {
        "account_number": "1000234567",
        "applicant_name": "Sunita Devi",
        "mobile": "+91 91234 56789",
        "preferred_language": "en",
    }
