"""Codes shared by the forms and the schedule of charges; stored as-is in records."""

from __future__ import annotations

URBAN = "urban"
RURAL = "rural"
AREA_TYPES: tuple[str, ...] = (URBAN, RURAL)
"""Area types: they set the connection deadline and some charges."""

SINGLE_PHASE = "single"
THREE_PHASE = "three"
SUPPLY_PHASES: tuple[str, ...] = (SINGLE_PHASE, THREE_PHASE)
"""Supply phases a connection can have."""
