"""Consumer accounts (K number, BP number…), the numbers linked to them, their bills."""

from __future__ import annotations
