"""Outbound calls we place: each attempt to bridge an operator to a consumer."""

from __future__ import annotations
