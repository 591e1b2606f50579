"""Console page for supervisors: payments recorded but flagged (partial, excess, unmatched)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from callcenter.auth import role_required
from core.extensions import db
from core.models import Role
from payments.ledger import flagged_payments

payments_console_bp = Blueprint(
    "payments_console", __name__, url_prefix="/console/payments", template_folder="templates"
)

FLAGGED_PAGE_SIZE = 200
"""Flagged payments shown, newest first."""

REFRESH_SECONDS = 60
"""The page reloads itself this often: supervisors keep it open."""


@payments_console_bp.get("/flagged")
@role_required(Role.SUPERVISOR)
def flagged() -> str:
    """List payments that were recorded but not applied as a full payment."""
    return render_template(
        "console/payments_flagged.html",
        payments=flagged_payments(db.session, FLAGGED_PAGE_SIZE),
        refresh_seconds=REFRESH_SECONDS,
        gateway=bool(current_app.config["RAZORPAY_KEY_ID"]),
    )
