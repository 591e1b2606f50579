"""Calls we place: the TwiML that bridges an answering operator to the consumer."""

from __future__ import annotations

from flask import Blueprint

bridge_bp = Blueprint("bridge", __name__, url_prefix="/ivr")
