"""Applications filled for consumers (new connection and other services) and their demand notes."""

from __future__ import annotations
