"""Console pages."""

from __future__ import annotations

from flask import Blueprint

console_bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
