"""Console pages for applications: fill, save as draft, resume, submit."""

from __future__ import annotations

from flask import Blueprint

applications_bp = Blueprint(
    "applications", __name__, url_prefix="/console/applications", template_folder="templates"
)
