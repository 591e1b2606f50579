"""The IVR call flow: language, main menu, bill status, application status, callback, fault."""

from __future__ import annotations

from flask import Blueprint

voice_bp = Blueprint("voice", __name__, url_prefix="/ivr")
